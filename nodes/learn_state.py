"""State of the learning graph."""
from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from typing_extensions import TypedDict as InputDict  # pydantic reads input schemas (Studio) on Python 3.11

from learnact.actions import ActionLibrary

from .records import RoundSummary, Scores


class Candidate(TypedDict, total=False):
    id: str  # "r1s2": round 1, sample 2
    round: int
    library: ActionLibrary | None  # the value itself (the checkpointer stores it: nodes/checkpoint.py); None when it could not be made to work
    demonstration: str  # LLM-written usage demonstration, shown as the example episode
    origin: str  # "create", "update", "plan"
    parent: str | None  # id of the candidate it revises
    reason: str  # the learner's "Failed reason" for a revision
    target: str | None  # the function a revision changed
    change: str  # a revision's content: the usage note, or the code it updated
    failure: str  # the failed call (goal, trajectory, primitive trace) the revision answered
    attempts: list[str]  # code errors met (and fixed, or not) while checking it
    error: str | None  # why it was dropped
    code: str  # the candidate's code: its library's, or for a dropped one the last code tried
    tries: list[dict[str, str]]  # every failed attempt on the way: {"code", "error"}
    repair_stop: str | None  # why repairs stopped without working code (e.g. the same error came back)
    dropped_functions: list[dict[str, str]]  # functions left out of a kept candidate: {"name", "reason", "code"}
    renamed: list[dict[str, str]]  # functions renamed because their name collided: {"from", "to", "reason"}


class Rollout(TypedDict, total=False):
    candidate_id: str
    round: int
    instance: str
    goal: str
    first_observation: str
    steps: list[dict[str, Any]]
    success: bool
    progress: float


class LearnState(TypedDict, total=False):
    env_name: str
    train_instances: list[str]
    round: int
    candidates: Annotated[list[Candidate], operator.add]
    rollouts: Annotated[list[Rollout], operator.add]
    rounds: Annotated[list[RoundSummary], operator.add]  # one summary per round (the learning curve)
    best: Candidate | None
    best_scores: Scores | None
    stale_rounds: int
    scored: dict[str, Any]  # this round's summary from scoring (a RoundSummary but its failures, which error identification adds)
    failures: list[dict[str, Any]]
    target: str | None
    stop_reason: str


class LearnInput(InputDict):
    """What a caller gives the learning graph; the round and plateau counters are the graph's own."""

    env_name: str
    train_instances: list[str]


class CreateTask(InputDict):
    """Payload of one ``Send`` to the creation subgraph (graphs/create.py), and its input."""

    env_name: str
    train_instances: list[str]
    candidate_id: str


class LoopOutcome(TypedDict):
    """A check-and-repair loop's end (nodes/create.py): its library (None: it gave up), the code it last
    judged, why repairs stopped and the last error (both None when the code was good)."""

    library: ActionLibrary | None
    code: str
    stop: str | None
    error: str | None


class CreationState(TypedDict, total=False):
    """State of one candidate's creation (graphs/create.py): write -> check -> fix ... -> demonstrate -> check -> finish."""

    env_name: str
    train_instances: list[str]
    candidate_id: str
    code: str  # what the next check judges: the reply, a repair, or the kept library's code with its demonstration
    demonstration: str | None  # the demonstration whose learned calls the check runs (None: the reply's own check)
    demos: int  # demonstrations written (at most 2: a second one when the first showed a dropped action)
    tries: list[dict[str, str]]  # every failed check of this candidate, in order: {"code", "error"}
    route: str  # where the check goes next: "fix", "demonstrate" or "finish"
    checks: list[dict[str, Any]]  # the last check of each loop: what it dropped and renamed
    final: LoopOutcome  # the loop whose library the candidate gets
    shown: str  # the demonstration the candidate keeps ("" for none)
    descriptions: dict[str, str]  # the learner's description of each function (setting describe_actions)
    candidates: Annotated[list[Candidate], operator.add]  # the output: this one candidate


class CreationOutput(TypedDict):
    """What the creation subgraph gives the learning graph (only this: K of them run in parallel)."""

    candidates: Annotated[list[Candidate], operator.add]


class RolloutTask(TypedDict, total=False):
    candidate: Candidate
    env_name: str
    instance: str
    round: int  # the round it is rolled out in (the candidate's own, or a later one for a re-rolled best)


class ReviseTask(TypedDict):
    best: Candidate
    env_name: str
    train_instances: list[str]
    failure: dict[str, Any]
    candidate_id: str
    round: int
