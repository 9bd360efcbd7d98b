"""State of the learning graph."""
from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from typing_extensions import TypedDict as InputDict  # pydantic reads input schemas (Studio) on Python 3.11

from .records import RoundSummary, Scores


class Candidate(TypedDict, total=False):
    id: str  # "r1s2": round 1, sample 2
    round: int
    library: dict[str, Any] | None  # ActionLibrary.to_dict(); None when it could not be made to work
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
    failures: list[dict[str, Any]]
    target: str | None
    stop_reason: str


class LearnInput(InputDict):
    """What a caller gives the learning graph; the round and plateau counters are the graph's own."""

    env_name: str
    train_instances: list[str]


class CreateTask(TypedDict):
    """Payload of one ``Send`` to the creation node."""

    env_name: str
    train_instances: list[str]
    candidate_id: str


class RolloutTask(TypedDict):
    candidate: Candidate
    env_name: str
    instance: str


class ReviseTask(TypedDict):
    best: Candidate
    env_name: str
    train_instances: list[str]
    failure: dict[str, Any]
    candidate_id: str
    round: int
