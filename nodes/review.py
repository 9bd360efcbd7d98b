"""A person in the loop (issue 28): the learning graph pauses with ``interrupt()`` when creation has produced its
candidates and after each revision that changes code (``Context.review``), before any of it is rolled out.

The interrupt's payload is a :class:`ReviewRequest`: per new or changed function its code, the diff against the
version it replaces, its description and what judged it (the sandbox check's calls and errors for a created one,
the failed call a revision answered). The graph is resumed with ``Command(resume=answers)``: a list of
:class:`ReviewAnswer` (or ``{"answers": [...]}``), one per function; a function without an answer is approved.

- approve: the function is kept as the learner wrote it.
- reject (with a reason): a new function is dropped, a changed one goes back to the version it replaced; the
  reason is told to the learner in every later revision request (``review_notes``).
- edit (with code): the person's code goes through the learner's checks (nodes/learning/checks.py ``check_once``:
  static, then the sandbox with the candidate's demonstration and trials); it becomes a new version whose
  ``author`` is ``"person"`` (the library's history records it). Code that fails its check is not taken: the
  review is asked again with the problem (``ReviewRequest.problems``).
"""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt
from typing_extensions import TypedDict

from .context import Context
from .events import emit
from .learn import current_candidates, plan_rollouts
from .learn_state import Candidate, LearnState
from .learning.review_apply import (  # noqa: F401  (the review's public names)
    apply_answers,
    changed_functions,
    function_review,
    parse_answers,
    review_note_text,
    with_review_notes,
)

HOW = (
    "Answer per function with {candidate_id, name, decision}: decision 'approve', 'reject' (with 'reason', told to "
    "the learner) or 'edit' (with 'code', the whole function; checked as the learner's code is). Unanswered: approved."
)


class FunctionReview(TypedDict):
    """One new or changed function of a candidate, as the reviewer sees it."""

    candidate_id: str
    name: str
    status: Literal["new", "changed"]
    code: str
    diff: str  # unified diff against the version it replaces (new: against nothing)
    description: str
    version: int
    judged_by: list[str]  # what judged it: the sandbox check's calls and errors, or the failed call a revision answered


class ReviewRequest(TypedDict):
    """The interrupt's payload (``run.py --review`` prompts from it; Studio shows it as the interrupt's value)."""

    kind: Literal["review"]
    round: int
    functions: list[FunctionReview]
    problems: list[str]  # why the last answers were not taken (empty the first time)
    how: str


class ReviewAnswer(TypedDict, total=False):
    """One answer of ``Command(resume=[...])``."""

    candidate_id: str
    name: str
    decision: Literal["approve", "reject", "edit"]
    reason: str  # reject: told to the learner; edit: recorded with the new version
    code: str  # edit: the function's new code


def _parent(state: LearnState):
    """The library this round's candidates revise (None in the creation round: all their code is new)."""
    best = state.get("best")
    return best["library"] if best and state.get("round", 0) > 0 else None


def pending_review(state: LearnState) -> list[Candidate]:
    """This round's new candidates that change code and have not been reviewed yet."""
    rnd, parent = state.get("round", 0), _parent(state)
    return [
        c
        for c in current_candidates(state)
        if c.get("round") == rnd and "review" not in c and changed_functions(c["library"], parent)
    ]


def route_after_gather(state: LearnState, runtime: Runtime[Context]) -> list[Send] | str:
    """With ``review`` on and new code to see: the review; else the rollouts (``plan_rollouts``)."""
    if runtime.context.review and (pending := pending_review(state)):
        # Said here, once: the review node runs again on each resume (and on --resume after a kill).
        names = [f"{c['id']}:{name}" for c in pending for name in changed_functions(c["library"], _parent(state))]
        emit("review_requested", round=state.get("round", 0), functions=names)
        return "review"
    return plan_rollouts(state, runtime)


def review_code(state: LearnState, runtime: Runtime[Context]) -> dict:
    """Pause for the person's answers; the reviewed candidates replace the learner's (``add_candidates``)."""
    ctx, rnd = runtime.context, state.get("round", 0)
    pending = pending_review(state)
    parent = _parent(state)
    functions = [function_review(c, name, parent) for c in pending for name in changed_functions(c["library"], parent)]
    task = {"env_name": state["env_name"], "train_instances": state["train_instances"]}
    problems: list[str] = []
    while True:
        raw = interrupt(ReviewRequest(kind="review", round=rnd, functions=functions, problems=problems, how=HOW))
        answers, problems = parse_answers(raw, functions)
        if not problems:
            reviewed, notes, problems = apply_answers(pending, answers, parent, task, ctx, rnd)
        if not problems:
            break
    decisions = [d for c in reviewed for d in c["review"]]
    counts = {k: sum(1 for d in decisions if d["decision"] == k) for k in ("approve", "reject", "edit")}
    emit("review_done", round=rnd, approved=counts["approve"], rejected=counts["reject"], edited=counts["edit"])
    return {"candidates": reviewed, "review_notes": notes}
