"""Nodes of the learning loop: create, roll out, score, identify errors, revise, finalize.

graphs/learn.py wires them; each returns a partial state update. Learned code is only ever run
through the sandbox executor (actions.Executor), never in this process.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from actions import ActionLibrary, ActionStore, Executor, strip_fences
from environments import make_env, parse_call
from llm.models import invoke_text
from prompts import load_domain_material

from .context import Context, holds_slot
from .events import emit
from .journal import journal_for, rollout_key
from .learn_state import Candidate, CreateTask, LearnState, ReviseTask, RolloutTask
from .revision import (
    RevisionParseError,
    check_allowed,
    choose_target,
    collect_failures,
    parse_revision,
    render_failure,
    revision_format,
)
from .scoring import score_rollouts, select_best

# Error kinds that mean the learned code itself is broken (worth a repair), as opposed to a
# call with wrong arguments or a primitive that did not apply in the current state.
CODE_ERROR_KINDS = {"exception", "timeout", "memory", "primitive_limit", "output_limit", "worker_crash", "forbidden"}
_ACTION_LINE = re.compile(r"^\s*Action\s*:\s*(.+?)\s*$", re.MULTILINE)


def _learner(ctx: Context, node: str, messages, key: str) -> str:
    return invoke_text(ctx.learner, messages, usage=ctx.usage, node=node, key=key)


def brief_error(text: str, limit: int = 240) -> str:
    """One line for the live view: the error's first line, and a traceback's last line (the exception)."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    brief = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
    return brief if len(brief) <= limit else brief[: limit - 3] + "..."


def render_primitives(env) -> str:
    out = []
    for p in env.primitives:
        line = f"- {p.signature}: {p.description}" if p.description else f"- {p.signature}"
        if p.preconditions:
            line += f"\n    requires: {p.preconditions}"
        if p.effects:
            line += f"\n    effect: {p.effects}"
        out.append(line)
    return "\n".join(out)


def _extract_code(reply: str) -> str:
    return functions_only(strip_fences(reply or ""))


def functions_only(code: str) -> str:
    """Keep the top-level function definitions of an LLM reply, drop everything else.

    Small models like to add example calls or globals at module level. Those are never run
    (the library refuses them); dropping them here keeps the functions instead of failing the
    whole candidate. Code that does not parse is returned unchanged so the parse error reaches
    the repair prompt.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines()
    kept = [
        "\n".join(lines[(node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1 : node.end_lineno])
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return "\n\n\n".join(kept) + "\n" if kept else code


def demo_calls(demonstration: str, library: ActionLibrary) -> list[str]:
    """Learned-action calls in a demonstration, in order (these are the smoke test)."""
    calls = []
    for line in _ACTION_LINE.findall(demonstration or ""):
        try:
            name, _ = parse_call(line)
        except ValueError:
            continue
        if library.get(name) is not None:
            calls.append(line)
    return calls


def smoke_run(library: ActionLibrary, env_name: str, instance: str, calls: list[str], ctx: Context) -> str | None:
    """Run ``calls`` in the sandbox on a fresh environment; the first code error as text, else None."""
    env = make_env(env_name, instance, data_dir=ctx.episodes.data_dir, **ctx.episodes.env_options)
    env.reset()
    kwargs = {"limits": ctx.episodes.limits} if ctx.episodes.limits is not None else {}
    try:
        with Executor(env, library, **kwargs) as ex:
            for call in calls:
                result = ex.run(call)
                kind = getattr(result.error, "kind", None)
                if kind in CODE_ERROR_KINDS:
                    return f"Calling {call} failed ({kind}):\n{result.error.message}"
    finally:
        env.close()
    return None


def check_and_repair(
    code: str, task: dict, ctx: Context, demonstration: str | None, key: str
) -> tuple[ActionLibrary | None, str, list[str]]:
    """Parse and smoke-run ``code``; on an error ask the learner for a fix, up to ``create_tries`` times.

    Returns (library or None, final code, the errors met on the way).
    """
    env_name, instance = task["env_name"], task["train_instances"][0]
    env = make_env(env_name, instance, data_dir=ctx.episodes.data_dir, **ctx.episodes.env_options)
    primitives = render_primitives(env)
    env.close()
    errors: list[str] = []
    for attempt in range(ctx.create_tries + 1):
        try:
            library = ActionLibrary.from_code(code)
            if not library.actions:
                raise ValueError("the code defines no action (a function whose name does not start with '_')")
            error = smoke_run(library, env_name, instance, demo_calls(demonstration or "", library), ctx)
        except ValueError as exc:
            library, error = None, str(exc)
        if error is None:
            return library, code, errors
        errors.append(error)
        if attempt == ctx.create_tries:
            break  # out of repairs: the caller reports the candidate as dropped
        emit("repair", candidate_id=key, attempt=attempt + 1, error=error.splitlines()[0][:200])
        messages = ctx.prompts.render("fix_actions", code=code, error=error, primitives=primitives)
        code = _extract_code(_learner(ctx, "learn.fix", messages, key))
    return None, code, errors


# ---------------------------------------------------------------- create


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
    env = make_env(task["env_name"], task["train_instances"][0], data_dir=ctx.episodes.data_dir, **ctx.episodes.env_options)
    primitives = render_primitives(env)
    env.close()
    messages = ctx.prompts.render(
        "create_actions", instruction=material.instruction, primitives=primitives, example=material.example, task=task["env_name"]
    )
    code = _extract_code(_learner(ctx, "learn.create", messages, cid))
    library, code, errors = check_and_repair(code, task, ctx, None, cid)
    candidate: Candidate = {"id": cid, "round": 0, "origin": "create", "parent": None, "attempts": errors, "reason": "created"}
    if library is None:
        candidate.update(library=None, demonstration="", error=errors[-1] if errors else "no code")
        emit("candidate_dropped", candidate_id=cid, error=brief_error(candidate["error"]))
        return {"candidates": [candidate]}
    demonstration = _demonstrate(library, task["env_name"], material, ctx, cid)
    # The demonstration's calls are the smoke test of behaviour; repair once more if they break the code.
    library2, code2, errors2 = check_and_repair(code, task, ctx, demonstration, cid)
    if library2 is None:
        candidate.update(library=None, demonstration=demonstration, attempts=errors + errors2, error=errors2[-1])
        emit("candidate_dropped", candidate_id=cid, error=brief_error(candidate["error"]))
        return {"candidates": [candidate]}
    candidate.update(library=library2.to_dict(), demonstration=demonstration, attempts=errors + errors2, error=None)
    emit("candidate_ready", candidate_id=cid, round=0, actions=list(library2.names))
    return {"candidates": [candidate]}


def _demonstrate(library: ActionLibrary, env_name: str, material, ctx: Context, key: str) -> str:
    if not ctx.demonstration:  # --no-demonstration: rollouts and test show the domain example only
        return ""
    messages = ctx.prompts.render(
        "demonstrate", instruction=material.instruction, actions=library.render_actions(), example=material.example, task=env_name
    )
    return _learner(ctx, "learn.demonstrate", messages, key).strip()


def gather_candidates(state: LearnState) -> dict:
    """Fan-in point after creation or revision (the rollouts are routed from here)."""
    return {}


def current_candidates(state: LearnState) -> list[Candidate]:
    """This round's candidates, the previous best first, then the new ones by id."""
    rnd = state.get("round", 0)
    new = sorted((c for c in state.get("candidates", []) if c.get("round") == rnd and c.get("library")), key=lambda c: c["id"])
    best = state.get("best")
    return ([best] if best and rnd > 0 else []) + new


def plan_rollouts(state: LearnState, runtime: Runtime[Context]) -> list[Send] | str:
    """Every candidate of this round on every training instance, skipping rollouts already done."""
    done = {(r["candidate_id"], r["instance"]) for r in state.get("rollouts", [])}
    sends = [
        Send("rollout", RolloutTask(candidate=c, env_name=state["env_name"], instance=inst))
        for c in current_candidates(state)
        for inst in state["train_instances"]
        if (c["id"], inst) not in done
    ]
    return sends or "score"


# ---------------------------------------------------------------- roll out


@holds_slot
def rollout(task: RolloutTask, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    cand = task["candidate"]
    journal, key = journal_for(ctx.run_dir), rollout_key(cand, task["instance"], ctx.learn_max_steps)
    if journal is not None and (done := journal.get(key)) is not None:
        # Finished before a crash but not yet checkpointed: reuse it, never run it twice.
        emit("rollout_reused", candidate_id=cand["id"], instance=task["instance"], success=done["success"], steps=len(done["steps"]))
        return {"rollouts": [done]}
    episode_id = f"{cand['id']}@{task['instance']}"
    emit("rollout_start", candidate_id=cand["id"], instance=task["instance"])
    final = ctx.rollout_graph.invoke(
        {
            "episode_id": episode_id,
            "env_name": task["env_name"],
            "instance": task["instance"],
            "library": cand["library"],
            "examples": cand.get("demonstration") or None,
            "max_steps": ctx.learn_max_steps,
        },
        context=ctx,
    )
    record = {
        "candidate_id": cand["id"],
        "round": cand["round"],
        "instance": task["instance"],
        "goal": final.get("goal", ""),
        "first_observation": final.get("first_observation", ""),
        "steps": final.get("steps", []),
        "success": bool(final.get("success")),
        "progress": float(final.get("progress", 0.0)),
    }
    if journal is not None:
        journal.put(key, record)
    emit("rollout_end", candidate_id=cand["id"], instance=task["instance"], success=record["success"], steps=len(record["steps"]))
    return {"rollouts": [record]}


# ---------------------------------------------------------------- score and select


def score_round(state: LearnState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rnd = state.get("round", 0)
    candidates = current_candidates(state)
    by_candidate: dict[str, list[dict]] = {}
    for r in state.get("rollouts", []):
        by_candidate.setdefault(r["candidate_id"], []).append(r)
    scored = [{**c, "scores": score_rollouts(by_candidate.get(c["id"], []))} for c in candidates]
    best = select_best(scored, ctx.score)
    previous = state.get("best_scores")
    best_value = best["scores"][ctx.score] if best else None
    improved = best is not None and (previous is None or best_value > previous[ctx.score] + 1e-9)
    stale = 0 if improved else state.get("stale_rounds", 0) + 1
    failures = collect_failures(by_candidate.get(best["id"], [])) if best else []
    summary = {
        "round": rnd,
        "score_type": ctx.score,
        "candidates": [
            {"id": c["id"], "origin": c.get("origin"), "parent": c.get("parent"), "scores": c["scores"]} for c in scored
        ],
        "dropped": [
            {"id": c["id"], "error": c.get("error")}
            for c in state.get("candidates", [])
            if c.get("round") == rnd and not c.get("library")
        ],
        "best_id": best["id"] if best else None,
        "best_score": best_value,
        "improved": improved,
        "failures": len(failures),
    }
    _save_candidates(ctx, scored)
    emit("round_scored", **summary)
    best_candidate = {k: v for k, v in best.items() if k != "scores"} if best else state.get("best")
    return {
        "rounds": [summary],
        "best": best_candidate,
        "best_scores": best["scores"] if best else previous,
        "stale_rounds": stale,
        "failures": failures,
    }


def _save_candidates(ctx: Context, scored: list[dict]) -> None:
    """Every candidate's code as a readable file (idempotent: a re-run writes the same bytes)."""
    if not ctx.run_dir:
        return
    folder = Path(ctx.run_dir) / "candidates"
    folder.mkdir(parents=True, exist_ok=True)
    for c in scored:
        lib = ActionLibrary.from_dict(c["library"])
        (folder / f"{c['id']}.py").write_text(lib.code, encoding="utf-8")
        (folder / f"{c['id']}.json").write_text(
            json.dumps(
                {
                    **{k: c.get(k) for k in ("id", "round", "origin", "parent", "reason", "target", "failure", "scores", "attempts")},
                    "change": c.get("change"),
                },
                indent=1,
            ),
            encoding="utf-8",
        )


def route_after_score(state: LearnState, runtime: Runtime[Context]) -> str:
    ctx = runtime.context
    rnd = state.get("round", 0)
    if not state.get("best"):
        return "finalize"
    if not state.get("failures"):
        return "finalize"
    if rnd >= ctx.max_rounds:
        return "finalize"
    if ctx.patience and rnd > 0 and state.get("stale_rounds", 0) >= ctx.patience:  # patience 0: fixed rounds
        return "finalize"
    return "identify_errors"


def stop_reason(state: LearnState, ctx: Context) -> str:
    rnd = state.get("round", 0)
    if not state.get("best"):
        return "no_working_candidate"
    if not state.get("failures"):
        # Revision works from failed learned calls. Episodes can still fail without one (the agent
        # never called the learned actions): say so, rather than "nothing failed".
        won_all = (state.get("best_scores") or {}).get("success_rate", 0.0) >= 1.0
        return "nothing_failed" if won_all else "no_failed_learned_call"
    if rnd >= ctx.max_rounds:
        return "max_rounds"
    return "plateau"


# ---------------------------------------------------------------- identify errors and revise


def identify_errors(state: LearnState, runtime: Runtime[Context]) -> dict:
    target = choose_target(state.get("failures", []))
    count = sum(1 for f in state.get("failures", []) if f["name"] == target)
    emit("errors_identified", round=state.get("round", 0), target=target, failures=len(state.get("failures", [])), target_failures=count)
    return {"target": target, "round": state.get("round", 0) + 1}


def plan_revisions(state: LearnState, runtime: Runtime[Context]) -> list[Send]:
    """K revision samples of the best candidate, cycling over the target action's failures."""
    k = runtime.context.candidates
    rnd = state["round"]
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
            ),
        )
        for i in range(k)
    ]


@holds_slot
def revise_candidate(task: ReviseTask, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    cid, best = task["candidate_id"], task["best"]
    emit("candidate_start", candidate_id=cid, round=task["round"])
    library = ActionLibrary.from_dict(best["library"])
    material = load_domain_material(task["env_name"], ctx.prompts_dir)
    env = make_env(task["env_name"], task["train_instances"][0], data_dir=ctx.episodes.data_dir, **ctx.episodes.env_options)
    primitives = render_primitives(env)
    env.close()
    notes = library.render_notes().strip()
    messages = ctx.prompts.render(
        "revise_actions",
        instruction=material.instruction,
        primitives=primitives,
        actions=library.code,
        notes=f"Usage notes:\n{notes}\n" if notes else "",
        failure=render_failure(task["failure"]),
        task=task["env_name"],
        revision_format=revision_format(ctx.revision),
    )
    reply = _learner(ctx, "learn.revise", messages, cid)
    candidate: Candidate = {
        "id": cid,
        "round": task["round"],
        "parent": best["id"],
        "demonstration": best.get("demonstration", ""),
        "attempts": [],
        "failure": render_failure(task["failure"]),
    }
    try:
        revision = parse_revision(reply)
        candidate.update(origin=revision.kind, reason=revision.reason or "revision", target=revision.target)
        check_allowed(revision, ctx.revision)
        candidate["change"] = revision.content  # the note or the new code, as the learner wrote it
        if revision.kind == "plan":
            if library.get(revision.target) is None:
                raise ValueError(f"Plan names {revision.target!r}, which is not a learned action")
            new_lib = library.with_note(revision.target, revision.content, iteration=task["round"], reason=revision.reason)
        else:
            new_lib, changed = library.with_update(functions_only(revision.content), iteration=task["round"], reason=revision.reason)
            candidate["target"] = ", ".join(changed) if changed else None
            calls = [revision.test_case] if revision.test_case else []
            checked, _, errors = check_and_repair(
                new_lib.code, {"env_name": task["env_name"], "train_instances": task["train_instances"]}, ctx,
                "\n".join(f"Action: {c}" for c in calls), cid,
            )
            candidate["attempts"] = errors
            if checked is None:
                raise ValueError(errors[-1] if errors else "the updated code does not work")
            if errors:  # the learner repaired the update: keep the repaired code as this revision
                new_lib, _ = library.with_update(checked.code, iteration=task["round"], reason=revision.reason)
    except (RevisionParseError, ValueError) as exc:
        candidate.update(library=None, origin=candidate.get("origin", "unparsed"), error=str(exc))
        emit("candidate_dropped", candidate_id=cid, error=brief_error(str(exc)))
        return {"candidates": [candidate]}
    candidate.update(library=new_lib.to_dict(), error=None)
    emit("candidate_ready", candidate_id=cid, round=task["round"], origin=candidate["origin"], target=candidate.get("target"))
    return {"candidates": [candidate]}


# ---------------------------------------------------------------- finalize


def finalize(state: LearnState, runtime: Runtime[Context]) -> dict:
    """Persist the best candidate's lineage as the run's action library; say why we stopped."""
    ctx = runtime.context
    reason = stop_reason(state, ctx)
    best = state.get("best")
    if ctx.run_dir and best:
        save_lineage(Path(ctx.run_dir) / "library", best, state)
    emit("learning_done", stop_reason=reason, best_id=best["id"] if best else None, best_scores=state.get("best_scores"))
    return {"stop_reason": reason}


def save_lineage(folder: Path, best: Candidate, state: LearnState) -> None:
    """Every version along the best candidate's ancestry, oldest first, plus its demonstration."""
    by_id = {c["id"]: c for c in state.get("candidates", [])}
    scores = {c["id"]: c["scores"] for r in state.get("rounds", []) for c in r["candidates"]}
    chain, node = [], best
    while node is not None:
        chain.append(node)
        node = by_id.get(node.get("parent")) if node.get("parent") else None
    store = ActionStore(folder)
    if store.has_history():
        return  # already written by an earlier (interrupted) finalize of this run
    for cand in reversed(chain):
        store.save(
            ActionLibrary.from_dict(cand["library"]),
            iteration=cand.get("round", 0),
            reason=f"{cand.get('origin')}: {cand.get('reason', '')}".strip(),
            scores=scores.get(cand["id"]),
        )
    (folder / "demonstration.md").write_text(best.get("demonstration", ""), encoding="utf-8")
