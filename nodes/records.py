"""The records a run writes and streams, in one place.

- ``EpisodeRecord``: one finished episode, one line of ``episodes.jsonl`` (``episode_record`` makes it);
  ``EpisodeBrief`` is the part of it an evaluation keeps in its state and streams.
- ``RoundSummary``: one scored round of the learning loop (``LearnState.rounds``, ``learn_summary.json``'s
  ``rounds``, the ``round_scored`` event); ``LearnSummary``: ``learn_summary.json``.
- The custom stream events (``nodes/events.py`` ``emit``; ``events.jsonl``, the live view ``learnact/cli/progress.py``, the
  report): one ``TypedDict`` per event name in ``EVENTS``. An event forwarded from a learning sub-run also carries
  ``scope`` (the sub-run's key).

They are plain dicts at run time (TypedDicts), so the files they are written to keep their shape. The readers
(``nodes/``, ``learnact/viz/``, ``learnact/cli/``) read them leniently: a file written by a killed or older run may lack a key.
"""

from typing import Any, Literal, Union

# typing_extensions' TypedDict: pydantic reads the TypedDicts of graph states on Python 3.11. No ``from __future__ import
# annotations`` here: NotRequired and Required are read from the evaluated annotations.
from typing_extensions import NotRequired, Required, TypedDict, get_args, get_type_hints

from .state import EpisodeState, StepRecord

Scores = dict[str, float]  # T, C, S, success_rate and the other score types (nodes/learning/scoring.py)


# ------------------------------------------------------------------ episodes


class EpisodeBrief(TypedDict):
    """What an evaluation keeps of an episode (its state's ``results``, the ``episode_recorded`` event)."""

    episode_id: str
    method: str
    env: str
    instance: str
    success: bool
    progress: float
    steps: int
    tokens: int
    cost: float | None  # None: no price known for the model
    run: int


BRIEF = tuple(EpisodeBrief.__annotations__)


class EpisodeRecord(EpisodeBrief, total=False):
    """One finished episode: one line of ``episodes.jsonl``. ``run`` is absent from records of ``run.py --graph act``
    before runs were numbered; ``program`` only for Code-as-Policies."""

    primitive_steps: int
    action_cost: (
        float | None
    )  # the environment's total action cost (PDDL: the domain's costs, else one per valid action)
    learned_calls: int
    failed_learned_calls: int
    stop_reason: str
    elapsed_s: float | None
    prompt_tokens: int
    completion_tokens: int
    goal: str
    first_observation: str
    trajectory: list[StepRecord]
    program: str


def episode_record(
    state: EpisodeState, *, method: str, usage: dict[str, Any] | None = None, **extra: Any
) -> EpisodeRecord:
    steps = state.get("steps", [])
    usage = usage or {}
    return {  # type: ignore[typeddict-item]  # ``extra``: the run's number, and what a caller adds
        "episode_id": state["episode_id"],
        "method": method,
        "env": state["env_name"],
        "instance": state["instance"],
        "success": bool(state.get("success")),
        "progress": float(state.get("progress", 0.0)),
        "steps": len(steps),
        "primitive_steps": sum(len(s.get("trace", [])) for s in steps),
        "action_cost": state.get("action_cost"),
        "learned_calls": sum(1 for s in steps if s.get("is_learned")),
        "failed_learned_calls": sum(1 for s in steps if s.get("is_learned") and not s.get("ok")),
        "stop_reason": state.get("stop_reason", ""),
        "elapsed_s": round(float(state.get("ended_at", 0.0)) - float(state.get("started_at", 0.0)), 3)
        if state.get("ended_at")
        else None,
        "tokens": int(usage.get("total_tokens", 0)),
        "prompt_tokens": int(usage.get("prompt_tokens", 0)),
        "completion_tokens": int(usage.get("completion_tokens", 0)),
        "cost": None if usage.get("cost") is None else float(usage["cost"]),  # None: no price known for the model
        "goal": state.get("goal", ""),
        "first_observation": state.get("first_observation", ""),
        "trajectory": steps,
        **({"program": state["program"]} if state.get("program") else {}),
        **extra,
    }


# ------------------------------------------------------------------ learning rounds


class ScoredEntry(TypedDict):
    """A candidate as its round scored it."""

    id: str
    origin: str | None  # create | update | plan
    parent: str | None
    scores: Scores


class DroppedEntry(TypedDict):
    """A candidate of the round that never worked."""

    id: str
    error: str | None


class RoundSummary(TypedDict):
    """One scored round of the learning loop: a point of the learning curve."""

    round: int
    score_type: str
    candidates: list[ScoredEntry]
    dropped: list[DroppedEntry]
    best_id: str | None
    best_score: float | None
    improved: bool
    failures: int  # failed learned calls of the best candidate (what the next revision works from)


class LearnSummary(TypedDict):
    """``learn_summary.json``: what a learning run ended with."""

    env: str
    train_instances: list[str]
    stop_reason: str | None
    best: str | None  # the best candidate's id
    best_scores: Scores | None
    rounds: list[RoundSummary]


# ------------------------------------------------------------------ stream events (one per name)


class _Event(TypedDict):
    scope: NotRequired[str]  # set on the events an evaluation forwards from a learning sub-run


class EpisodeStart(_Event):
    event: Literal["episode_start"]
    episode_id: str
    instance: str
    goal: str


class WorkedSteps(_Event):
    event: Literal["worked_steps"]
    episode_id: str
    source: str
    turns: int


class StepEvent(_Event):
    event: Literal["step"]
    episode_id: str
    step: int
    action: str
    ok: bool
    success: bool
    progress: float


class EpisodeEnd(_Event):
    event: Literal["episode_end"]
    episode_id: str
    instance: str
    success: bool
    progress: float
    steps: int


class EpisodeNote(_Event):
    event: Literal["episode_note"]
    episode_id: str
    note: str


class CandidateStart(_Event):
    event: Literal["candidate_start"]
    candidate_id: str
    round: int


class Repair(_Event):
    event: Literal["repair"]
    candidate_id: str
    attempt: int
    error: str


class CandidateReady(_Event):
    event: Literal["candidate_ready"]
    candidate_id: str
    round: int
    origin: NotRequired[str]  # a revision's; a created candidate has none
    target: NotRequired[str | None]
    actions: NotRequired[list[str]]  # a created candidate's functions
    dropped: NotRequired[list[str]]  # functions left out of it
    renamed: NotRequired[dict[str, str]]  # old name -> new name


class CandidateDropped(_Event):
    event: Literal["candidate_dropped"]
    candidate_id: str
    error: str
    stop: NotRequired[str | None]  # why repairs stopped


class RolloutStart(_Event):
    event: Literal["rollout_start"]
    candidate_id: str
    instance: str


class RolloutEnd(_Event):
    event: Literal["rollout_end", "rollout_reused"]
    candidate_id: str
    instance: str
    success: bool
    steps: int


class ActionsProbed(_Event):
    event: Literal["actions_probed"]
    round: int
    candidate_id: str
    failures: int


class RoundScored(RoundSummary, _Event):
    event: Literal["round_scored"]


class ErrorsIdentified(_Event):
    event: Literal["errors_identified"]
    round: int
    target: str | None
    failures: int
    target_failures: int


class Lessons(_Event):
    event: Literal["lessons"]
    round: int
    lessons: list[str]


class LearningDone(_Event):
    event: Literal["learning_done"]
    stop_reason: str
    best_id: str | None
    best_scores: Scores | None


class ReviewRequested(_Event):
    """A person in the loop (nodes/review.py): learning pauses for these functions ("candidate:function")."""

    event: Literal["review_requested"]
    round: int
    functions: list[str]


class ReviewDone(_Event):
    event: Literal["review_done"]
    round: int
    approved: int
    rejected: int
    edited: int


class _Learning(_Event):
    method: str
    env: str
    run: int  # which learning run of the evaluation (each run learns anew)


class LearningStart(_Learning):
    event: Literal["learning_start"]


class LearningEnd(_Learning, total=False):
    """With the sub-run's wall time and usage totals (empty when it had no usage tracker)."""

    event: Required[Literal["learning_end"]]
    wall_s: float
    total_tokens: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    calls: int


class EpisodeRecorded(EpisodeBrief, _Event):
    event: Literal["episode_recorded", "episode_reused"]


class EpisodeRetried(_Event):
    event: Literal["episode_retried"]
    episode_id: str
    attempt: int
    reason: str  # why the worker was lost (--executor ray: nodes/ray_pool.py)


class EvaluationDone(_Event):
    event: Literal["evaluation_done"]
    rows: list[dict[str, Any]]  # nodes/summary.py's rows (summary.csv)


Event = Union[
    EpisodeStart,
    WorkedSteps,
    StepEvent,
    EpisodeEnd,
    EpisodeNote,
    CandidateStart,
    Repair,
    CandidateReady,
    CandidateDropped,
    RolloutStart,
    RolloutEnd,
    ActionsProbed,
    RoundScored,
    ErrorsIdentified,
    Lessons,
    LearningDone,
    LearningStart,
    LearningEnd,
    EpisodeRecorded,
    EpisodeRetried,
    EvaluationDone,
    ReviewRequested,
    ReviewDone,  # a person in the loop (nodes/review.py)
]
# event name -> its payload's type
EVENTS: dict[str, type] = {name: kind for kind in get_args(Event) for name in get_args(get_type_hints(kind)["event"])}
