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
    library: (
        ActionLibrary | None
    )  # the value itself (the checkpointer stores it: nodes/checkpoint.py); None when it could not be made to work
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
    review: list[
        dict[str, Any]
    ]  # a person's review of its new and changed functions (nodes/review.py): one decision each


def add_candidates(left: list[Candidate], right: list[Candidate]) -> list[Candidate]:
    """``left + right``, except that a candidate of ``right`` whose id is in ``left`` replaces it there (a person's
    review, nodes/review.py, gives the reviewed candidate back under its id)."""
    right_ids = {c.get("id") for c in right}
    if not right_ids & {c.get("id") for c in left}:
        return left + right
    by_id = {c.get("id"): c for c in right}
    kept = [by_id.pop(c.get("id")) if c.get("id") in by_id else c for c in left]
    return kept + [c for c in right if c.get("id") in by_id]


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
    candidates: Annotated[list[Candidate], add_candidates]
    rollouts: Annotated[list[Rollout], operator.add]
    rounds: Annotated[list[RoundSummary], operator.add]  # one summary per round (the learning curve)
    best: Candidate | None
    best_scores: Scores | None
    stale_rounds: int
    scored: dict[
        str, Any
    ]  # this round's summary from scoring (a RoundSummary but its failures, which error identification adds)
    failures: list[dict[str, Any]]
    target: str | None
    stop_reason: str
    review_notes: Annotated[
        list[dict[str, Any]], operator.add
    ]  # a person's rejections, told to the learner (nodes/review.py)


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
    """A check-and-repair loop's end (nodes/repair.py): its library (None: it gave up), the code it last
    judged, why repairs stopped and the last error (both None when the code was good)."""

    library: ActionLibrary | None
    code: str
    stop: str | None
    error: str | None


class RepairState(TypedDict, total=False):
    """State of the one check-and-repair loop (graphs/repair.py: check -> fix -> check ...), which the creation
    subgraph embeds and a revision runs; its keys are the creation state's own."""

    env_name: str
    train_instances: list[str]
    candidate_id: str
    code: str  # what the next check judges
    demonstration: (
        str | None
    )  # the learned calls the check runs in the sandbox (a demonstration, a revision's test case)
    strict: bool  # anything dropped is an error (a revision: the whole update must work); else only nothing kept
    opening: list | None  # the request that asked for the code (paper prompt set: a repair goes on as its conversation)
    tries: list[
        dict[str, str]
    ]  # every failed check of the candidate, in order: {"code", "error"} (repairs count over all)
    route: str  # where the check goes next: "fix", or "done"
    outcome: LoopOutcome  # the loop's end
    checked: dict[str, Any]  # what the last check dropped and renamed


class RepairOutput(TypedDict):
    """What the loop gives its caller."""

    tries: list[dict[str, str]]
    outcome: LoopOutcome
    checked: dict[str, Any]


class CreationState(TypedDict, total=False):
    """State of one candidate's creation (graphs/create.py): write -> repair -> demonstrate -> repair -> finish."""

    env_name: str
    train_instances: list[str]
    candidate_id: str
    code: str  # what the next check judges: the reply, a repair, or the kept library's code with its demonstration
    demonstration: str | None  # the demonstration whose learned calls the check runs (None: the reply's own check)
    demos: int  # demonstrations written (at most 2: a second one when the first showed a dropped action)
    tries: list[dict[str, str]]  # every failed check of this candidate, in order: {"code", "error"}
    opening: list | None  # the create_actions request under the paper's prompt set (its repairs go on from it)
    outcome: LoopOutcome  # the last check-and-repair loop's end (graphs/repair.py)
    checked: dict[str, Any]  # what that loop's last check dropped and renamed
    route: str  # where creation goes after a loop: "demonstrate" or "finish"
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
    review_notes: list[dict[str, Any]]  # a person's rejections so far, told to the learner (nodes/review.py)
