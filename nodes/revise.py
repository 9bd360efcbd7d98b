"""Nodes of the learning loop's revision: K revisions of the best candidate for the action error identification
chose (nodes/learn.py), each an Update (new code, checked and repaired) or a Plan (a usage note)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from learnact.actions import ActionLibrary
from prompts import load_domain_material

from .context import Context, holds_slot
from .episodes import TaskEnvs
from .events import emit
from .learn_state import Candidate, LearnState, ReviseTask
from .learning.checks import ask_learner, primitives_of
from .learning.paper import ask_demonstration, revision_values, with_descriptions
from .learning.reply import brief_error, functions_only
from .learning.review_apply import with_review_notes
from .learning.revision import (
    RevisionParseError,
    check_allowed,
    first_failure,
    parse_revision,
    render_failure,
    revision_format,
)
from .repair import checks_on


def plan_revisions(state: LearnState, runtime: Runtime[Context]) -> list[Send]:
    """K revision samples of the best candidate for the next round, cycling over the target action's failures."""
    ctx = runtime.context
    k, rnd = ctx.candidates, state.get("round", 0) + 1
    if ctx.revise_target == "first_failure":  # the reference: the same first failure for every sample
        cases = first_failure(state.get("failures", []), state["train_instances"])
    else:
        cases = [f for f in state.get("failures", []) if f["name"] == state.get("target")] or state.get("failures", [])
    return [
        Send(
            "revise_candidate",
            ReviseTask(
                best=state["best"],
                env_name=state["env_name"],
                train_instances=state["train_instances"],
                failure=cases[i % len(cases)],
                candidate_id=f"r{rnd}s{i}",
                round=rnd,
                review_notes=state.get("review_notes", []),  # a person's rejections (nodes/review.py)
            ),
        )
        for i in range(k)
    ]


def revise_messages(task: ReviseTask, ctx: Context, envs: TaskEnvs | None = None) -> list[tuple[str, str]]:
    """The ``revise_actions`` request for ``task``'s failure (the paper's parts too under its prompt set)."""
    library = task["best"]["library"]
    material = load_domain_material(task["env_name"], ctx.prompts_dir, ctx.feedback)
    primitives, queries, _ = primitives_of(task["env_name"], task["train_instances"][0], ctx, envs)
    notes = library.render_notes().strip()
    values = dict(
        instruction=material.instruction,
        primitives=primitives,
        queries=queries,
        actions=library.code,
        notes=f"Usage notes:\n{notes}\n" if notes else "",
        failure=render_failure(task["failure"]),
        task=task["env_name"],
        revision_format=revision_format(ctx.revision, ctx.prompt_set),
    )
    if ctx.prompt_set == "paper":
        values.update(revision_values(ctx, task["env_name"], task["failure"]))
    return with_review_notes(ctx.prompts.render("revise_actions", **values), task.get("review_notes"))


@holds_slot
def revise_candidate(task: ReviseTask, runtime: Runtime[Context], repair_graph: Any = None) -> dict:
    """One revision sample; the task's environments are made once for it (its request, checks and repairs).
    ``repair_graph``: the check-and-repair loop (graphs/repair.py) an Update goes through, as the learning graph
    was built with it."""
    if repair_graph is None:
        raise ValueError("a revision runs the check-and-repair loop: build the learning graph with graphs.registry")
    with TaskEnvs(runtime.context.episodes) as envs, checks_on(envs):
        return revise(task, runtime.context, envs, repair_graph)


def repair_update(
    graph: Any, code: str, task: ReviseTask, ctx: Context, calls: list[str], opening: list | None
) -> tuple[ActionLibrary | None, str, list[str]]:
    """An Update's code through the check-and-repair loop: all of it must work (``strict``). (library or None, the
    last code, errors met and renames made). The loop's events are the revision's own."""
    inputs = {
        "env_name": task["env_name"],
        "train_instances": task["train_instances"],
        "candidate_id": task["candidate_id"],
        "code": code,
        "demonstration": "\n".join(f"Action: {c}" for c in calls),
        "strict": True,
        "opening": opening,
        "tries": [],
    }
    final: dict[str, Any] = {}
    for mode, chunk in graph.stream(inputs, context=ctx, stream_mode=["custom", "values"]):
        if mode == "custom":
            emit(chunk["event"], **{k: v for k, v in chunk.items() if k != "event"})
        else:
            final = chunk
    outcome = final["outcome"]
    notes = [f"renamed {r['from']} to {r['to']}: {r['reason']}" for r in final["checked"]["renamed"]]
    library = outcome["library"]
    errors = [t["error"] for t in final.get("tries", [])] + notes
    return library, library.code if library is not None else outcome["code"], errors


def revise(task: ReviseTask, ctx: Context, envs: TaskEnvs, repair_graph: Any) -> dict:
    cid, best = task["candidate_id"], task["best"]
    emit("candidate_start", candidate_id=cid, round=task["round"])
    library = best["library"]
    request = revise_messages(task, ctx, envs)
    reply = ask_learner(ctx, "learn.revise", request, cid)
    candidate: Candidate = {
        "id": cid,
        "round": task["round"],
        "parent": best["id"],
        "demonstration": best.get("demonstration", ""),
        "attempts": [],
        "failure": render_failure(task["failure"]),
    }
    failing = task["failure"].get("name") if ctx.plan_note == "failing_cleared" else None
    try:
        revision = parse_revision(reply, default_target=failing)
        if failing and revision.kind == "plan":  # the reference attaches the note to the failing function
            revision = replace(revision, target=failing)
        candidate.update(origin=revision.kind, reason=revision.reason or "revision", target=revision.target)
        check_allowed(revision, ctx.revision)
        candidate["change"] = revision.content  # the note or the new code, as the learner wrote it
        if revision.kind == "plan":
            if library.get(revision.target) is None:
                raise ValueError(f"Plan names {revision.target!r}, which is not a learned action")
            new_lib = library.with_note(
                revision.target, revision.content, iteration=task["round"], reason=revision.reason
            )
        else:
            keep = ctx.plan_note != "failing_cleared"  # the reference's Update resets the function's notes
            new_lib, changed = library.with_update(
                functions_only(revision.content), iteration=task["round"], reason=revision.reason, keep_notes=keep
            )
            candidate["target"] = ", ".join(changed) if changed else None
            calls = [revision.test_case] if revision.test_case else []
            opening = request if ctx.prompt_set == "paper" else None  # the paper: a repair goes on as this conversation
            checked, candidate["code"], errors = repair_update(repair_graph, new_lib.code, task, ctx, calls, opening)
            candidate["attempts"] = errors
            if checked is None:
                raise ValueError(errors[-1] if errors else "the updated code does not work")
            if errors:  # the learner repaired the update: the check's value (not parsed again) is this revision
                new_lib, _ = library.with_update(
                    checked, iteration=task["round"], reason=revision.reason, keep_notes=keep
                )
            new_lib = with_descriptions(ctx, task["env_name"], new_lib, changed, cid)
            if ctx.redemonstrate and ctx.demonstration:  # the reference writes the usage example again after an Update
                candidate["demonstration"] = ask_demonstration(ctx, task["env_name"], new_lib, cid)
    except (RevisionParseError, ValueError) as exc:
        candidate.update(library=None, origin=candidate.get("origin", "unparsed"), error=str(exc))
        emit("candidate_dropped", candidate_id=cid, error=brief_error(str(exc)))
        return {"candidates": [candidate]}
    candidate.update(library=new_lib, error=None)
    emit(
        "candidate_ready",
        candidate_id=cid,
        round=task["round"],
        origin=candidate["origin"],
        target=candidate.get("target"),
    )
    return {"candidates": [candidate]}
