"""Nodes of the learning loop's creation: K candidate action sets, each checked function by function and
repaired (nodes/learning/checks.py), then given a usage demonstration whose learned calls are checked too."""
from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import Send

from actions import ActionLibrary
from prompts import load_domain_material, load_learned_example

from .context import Context, holds_slot
from .events import emit
from .learn_state import Candidate, CreateTask, LearnState
from .learning.checks import ask_learner, check_candidate, primitives_of
from .learning.repair import Outcome
from .learning.reply import brief_error, clean_reply
from .learning.smoke import shows_lost_actions


def plan_creation(state: LearnState, runtime: Runtime[Context]) -> list[Send]:
    """Fan out K creation samples (routing function after START)."""
    k = runtime.context.candidates
    return [
        Send(
            "create_candidate",
            CreateTask(env_name=state["env_name"], train_instances=state["train_instances"], candidate_id=f"r0s{i}"),
        )
        for i in range(k)
    ]


@holds_slot
def create_candidate(task: CreateTask, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    cid = task["candidate_id"]
    emit("candidate_start", candidate_id=cid, round=0)
    material = load_domain_material(task["env_name"], ctx.prompts_dir)
    primitives, queries, _ = primitives_of(task["env_name"], task["train_instances"][0], ctx)
    messages = ctx.prompts.render(
        "create_actions", instruction=material.instruction, primitives=primitives, example=material.example,
        task=task["env_name"], learned_example=load_learned_example(ctx.prompts_dir, queries=bool(queries)), queries=queries,
    )  # fmt: skip
    code = clean_reply(ask_learner(ctx, "learn.create", messages, cid))
    final = check_candidate(code, task, ctx, None, cid)
    outcomes, demonstration = [final], ""
    if final.library is not None:
        demonstration, final, checked = _demonstrate_checked(final, task, material, ctx, cid)
        outcomes += checked
    candidate: Candidate = creation_record(cid, final, outcomes, demonstration)  # type: ignore[assignment]
    dropped = [d["name"] for d in candidate["dropped_functions"]]
    if final.library is None:
        emit("candidate_dropped", candidate_id=cid, error=brief_error(candidate["error"] or ""), stop=final.stop)
    else:
        emit("candidate_ready", candidate_id=cid, round=0, actions=list(final.library.names), dropped=dropped,
             renamed={r["from"]: r["to"] for r in candidate["renamed"]})  # fmt: skip
    return {"candidates": [candidate]}


def _demonstrate_checked(first: Outcome, task: CreateTask, material, ctx: Context, cid: str) -> tuple[str, Outcome, list[Outcome]]:
    """The usage demonstration, whose learned calls are the smoke test of behaviour.

    A function that breaks on its calls is dropped (repaired only when nothing is left). A
    demonstration that shows a dropped action is written once more for what is left; if that one
    shows a dropped action too, there is no demonstration (the agent sees the domain example).
    Returns (demonstration, the outcome that decides, the outcomes after ``first``).
    """
    final, outcomes = first, []
    for _ in range(2):
        library = final.library
        demonstration = _demonstrate(library, task["env_name"], material, ctx, cid)
        if not demonstration:  # --no-demonstration
            return "", final, outcomes
        earlier = [t for o in [first, *outcomes] for t in o.tries]
        outcome = check_candidate(library.code, task, ctx, demonstration, cid, earlier=earlier)
        outcomes.append(outcome)
        if outcome.library is None:  # on a second demonstration, keep what the first one left
            return ("", final, outcomes) if final is not first else (demonstration, outcome, outcomes)
        if not shows_lost_actions(demonstration, library, outcome.library):
            return demonstration, outcome, outcomes
        final = outcome
    return "", final, outcomes


def _demonstrate(library: ActionLibrary, env_name: str, material, ctx: Context, key: str) -> str:
    if not ctx.demonstration:  # --no-demonstration: rollouts and test show the domain example only
        return ""
    messages = ctx.prompts.render(
        "demonstrate", instruction=material.instruction, actions=library.render_actions(), example=material.example, task=env_name
    )
    return ask_learner(ctx, "learn.demonstrate", messages, key).strip()


def creation_record(cid: str, final: Outcome, outcomes: list[Outcome], demonstration: str) -> dict:
    """The state record of a created candidate: its library (or None), and what was dropped, renamed and tried on the way."""
    tries = [t for o in outcomes for t in o.tries]
    library = final.library
    dropped, renamed, seen = [], [], set()
    for o in outcomes:
        for d in o.checked.dropped:
            if library is not None and library.get(d["name"]) is not None:
                continue  # dropped by a later check that was given up (the library is an earlier one's)
            if (d["name"], d["reason"]) not in seen:
                seen.add((d["name"], d["reason"]))
                dropped.append(d)
        renamed += [r for r in o.checked.renamed if r not in renamed]
    return {
        "id": cid, "round": 0, "origin": "create", "parent": None, "reason": "created",
        "library": library.to_dict() if library is not None else None,
        "demonstration": demonstration,
        "code": library.code if library is not None else final.checked.code,
        "attempts": [t["error"] for t in tries],
        "tries": tries,
        "dropped_functions": dropped,
        "renamed": renamed,
        "repair_stop": final.stop,
        "error": None if library is not None else (tries[-1]["error"] if tries else final.checked.error() or "no code"),
    }  # fmt: skip
