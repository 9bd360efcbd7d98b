"""Nodes of the creation subgraph (graphs/create.py): one candidate action set, from the learner's reply to
a checked ``ActionLibrary`` with its usage demonstration.

    write -> repair -> after_check                  the check-and-repair loop (graphs/repair.py, nodes/repair.py)
    after_check -> demonstrate -> repair -> finish  the demonstration's learned calls are checked the same way

A check (nodes/learning/checks.py) judges the code function by function and keeps what works as an
``ActionLibrary`` value, which stays the candidate's library from here on (the state holds the value).
Repairs are counted over the candidate's whole creation (at most ``create_tries``) and stop as soon as the
same error comes back. A demonstration that shows a dropped action is written once more for what is
left; if that one shows a dropped action too, there is no demonstration (the agent sees the domain example).
"""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import Send

from prompts import load_domain_material

from .context import Context, holds_slot
from .events import emit
from .learn_state import Candidate, CreateTask, CreationState, LearnState, LoopOutcome
from .learning.checks import ask_learner, primitives_of
from .learning.paper import ask_demonstration, creation_values, describe_functions
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


def creation_messages(state: CreationState, ctx: Context) -> list[tuple[str, str]]:
    """The ``create_actions`` request of ``state``'s task."""
    material = load_domain_material(state["env_name"], ctx.prompts_dir, ctx.feedback)
    primitives, queries, _ = primitives_of(state["env_name"], state["train_instances"][0], ctx)
    return ctx.prompts.render(
        "create_actions",
        instruction=material.instruction,
        primitives=primitives,
        example=material.example,
        task=state["env_name"],
        queries=queries,
        **creation_values(ctx, state["env_name"], queries),
    )


@holds_slot
def write_actions(state: CreationState, runtime: Runtime[Context]) -> dict:
    """The learner's reply to ``create_actions``, its top-level functions kept."""
    ctx, cid = runtime.context, state["candidate_id"]
    emit("candidate_start", candidate_id=cid, round=0)
    request = creation_messages(state, ctx)
    code = clean_reply(ask_learner(ctx, "learn.create", request, cid))
    opening = request if ctx.prompt_set == "paper" else None  # the paper: a repair goes on as this conversation
    return {"code": code, "demonstration": None, "demos": 0, "tries": [], "checks": [], "shown": "", "opening": opening}


def after_check(state: CreationState) -> dict:
    """The end of a check-and-repair loop decides what comes next (the demonstration, or the candidate)."""
    checks = [*state.get("checks", []), state["checked"]]
    return {"checks": checks, **_after_loop(state, state["outcome"])}


def _after_loop(state: CreationState, outcome: LoopOutcome) -> dict:
    """The decision at the end of a check-and-repair loop: which outcome the candidate gets, which
    demonstration it keeps, and the route."""
    demonstration = state.get("demonstration")
    if demonstration is None:  # the reply's own check
        return {"final": outcome, "route": "demonstrate" if outcome["library"] is not None else "finish"}
    if outcome["library"] is None:  # the demonstration's calls broke every function: on a second one, keep the first's
        first = state["demos"] == 1
        return {
            "final": outcome if first else state["final"],
            "shown": demonstration if first else "",
            "route": "finish",
        }
    if not shows_lost_actions(demonstration, state["final"]["library"], outcome["library"]):
        return {"final": outcome, "shown": demonstration, "route": "finish"}
    return {"final": outcome, "shown": "", "route": "finish" if state["demos"] >= 2 else "demonstrate"}


@holds_slot
def demonstrate(state: CreationState, runtime: Runtime[Context]) -> dict:
    """A usage demonstration of the kept library (none with --no-demonstration: the domain example only)."""
    ctx = runtime.context
    library = state["final"]["library"]
    described = {}
    if (
        ctx.describe_actions and "descriptions" not in state
    ):  # the reference describes each function before the demonstration
        described = {
            "descriptions": describe_functions(ctx, state["env_name"], library, library.names, state["candidate_id"])
        }
    if not ctx.demonstration:
        return {"demonstration": "", **described}
    demonstration = ask_demonstration(ctx, state["env_name"], library, state["candidate_id"])
    return {"demonstration": demonstration, "code": library.code, "demos": state["demos"] + 1, **described}


def route_after_check(state: CreationState) -> str:
    return state["route"]


def route_after_demonstration(state: CreationState) -> str:
    """An empty demonstration (none asked for, or the learner wrote none) is not checked: the candidate is done."""
    return "repair" if state.get("demonstration") else "finish"


def finish_candidate(state: CreationState) -> dict:
    """The candidate's state record, for the learning graph."""
    cid, final = state["candidate_id"], state["final"]
    if final["library"] is not None and state.get("descriptions"):  # the learner's own descriptions (describe_actions)
        known = {n: d for n, d in state["descriptions"].items() if final["library"].get(n) is not None}
        final = {**final, "library": final["library"].with_descriptions(known)}
    candidate = creation_record(cid, final, state.get("checks", []), state.get("tries", []), state.get("shown", ""))
    library = final["library"]
    if library is None:
        emit("candidate_dropped", candidate_id=cid, error=brief_error(candidate["error"] or ""), stop=final["stop"])
    else:
        emit(
            "candidate_ready",
            candidate_id=cid,
            round=0,
            actions=list(library.names),
            dropped=[d["name"] for d in candidate["dropped_functions"]],
            renamed={r["from"]: r["to"] for r in candidate["renamed"]},
        )
    return {"candidates": [candidate]}


def creation_record(
    cid: str, final: LoopOutcome, checks: list[dict], tries: list[dict[str, str]], demonstration: str
) -> Candidate:
    """A created candidate: its library (or None), and what was dropped, renamed and tried on the way."""
    library = final["library"]
    dropped, renamed, seen = [], [], set()
    for check in checks:
        for d in check["dropped"]:
            if library is not None and library.get(d["name"]) is not None:
                continue  # dropped by a later check that was given up (the library is an earlier one's)
            if (d["name"], d["reason"]) not in seen:
                seen.add((d["name"], d["reason"]))
                dropped.append(d)
        renamed += [r for r in check["renamed"] if r not in renamed]
    return {
        "id": cid,
        "round": 0,
        "origin": "create",
        "parent": None,
        "reason": "created",
        "library": library,
        "demonstration": demonstration,
        "code": library.code if library is not None else final["code"],
        "attempts": [t["error"] for t in tries],
        "tries": tries,
        "dropped_functions": dropped,
        "renamed": renamed,
        "repair_stop": final["stop"],
        "error": None if library is not None else (tries[-1]["error"] if tries else final["error"] or "no code"),
    }
