"""Nodes of the learning loop: create, roll out, score, identify errors, revise, finalize.

graphs/learn.py wires them; each returns a partial state update. Learned code is only ever run
through the sandbox executor (actions.Executor), never in this process.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from actions import ActionLibrary, ActionStore
from environments import make_env
from llm.models import invoke_text
from prompts import load_domain_material, load_learned_example

from .context import Context, holds_slot
from .creation import (
    CODE_ERROR_KINDS,  # noqa: F401 - re-exported
    Outcome,
    check_code,
    check_with_repairs,
    clean_reply,
    creation_record,
    demo_calls,
    functions_only,
    render_attempts,
    shows_lost_actions,
    smoke_failures,
)
from .demonstrations import action_lines, worked_instances
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
from .probes import probe_failures, trial_failures
from .scoring import score_rollouts, select_best

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


def render_queries(env) -> str:
    """For the learner's prompts: how a learned action reads the state it acts on (the sandbox's
    ``find``), with the facts that can change as they are at the start of ``env``'s task and what find
    returns for two of them. Empty where the state is not symbolic (ALFWorld)."""
    env.reset()
    changing = getattr(getattr(env, "ground", None), "changing_predicates", None)
    facts = [tuple(f) for f in env.facts() if changing is None or f[0] in changing]
    if not facts:
        return ""
    examples, seen = [], set()
    for f in facts:
        if f[0] not in seen and len(examples) < 2:
            seen.add(f[0])
            examples.append(f"find({', '.join(repr(x) for x in f[:-1])}) returns {f[-1]!r}")
    return (
        "\nYour functions may also read the state with find(fact, *known) (it takes no step and changes nothing).\n"
        f"In this environment the true facts that can change look like this at the start of a task:\n"
        f"[{', '.join(map(repr, facts))}]\n"
        f"so {' and '.join(examples)}. Use exactly these fact names.\n"
    )


def _primitives_of(env_name: str, instance: str, ctx: Context) -> tuple[str, str, dict[str, int]]:
    """The primitives and (setting ``state_queries``) the state queries as the learner's prompts show them,
    and the primitives' argument counts."""
    env = make_env(env_name, instance, data_dir=ctx.episodes.data_dir, **ctx.episodes.env_options)
    try:
        queries = render_queries(env) if getattr(ctx, "state_queries", False) else ""
        return render_primitives(env), queries, {p.name: len(p.params) for p in env.primitives}
    finally:
        env.close()


def _executor_kwargs(ctx: Context) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"limits": ctx.episodes.limits} if ctx.episodes.limits is not None else {}
    if getattr(ctx.episodes, "learned_call_invalid", None):  # the rollouts' rule for an invalid primitive
        kwargs["invalid_primitive"] = ctx.episodes.learned_call_invalid
    return kwargs


def _smoke(env_name: str, instance: str, ctx: Context, demonstration: str | None):
    """The check's calls, in the sandbox on fresh environments: the demonstration's learned calls, and
    (``ctx.creation_trials``) each action tried in the situations of the domain's example episode."""
    trials = _example_trials(env_name, ctx) if getattr(ctx, "creation_trials", False) else None
    if not demonstration and trials is None:
        return None

    def run(library: ActionLibrary) -> dict[str, str]:
        failed: dict[str, str] = {}
        calls = demo_calls(demonstration, library) if demonstration else []
        if calls:
            env = make_env(env_name, instance, data_dir=ctx.episodes.data_dir, **ctx.episodes.env_options)
            try:
                failed.update(smoke_failures(library, env, calls, **_executor_kwargs(ctx)))
            finally:
                env.close()
        if trials is not None:
            for name, why in trials(library).items():
                failed.setdefault(name, why)
        return failed

    return run


def _example_trials(env_name: str, ctx: Context):
    """``library -> {action: why}`` for actions that work nowhere in the example episode (nodes.probes.trial_failures);
    None where the domain has no replayable example instance."""
    instances = worked_instances(env_name)
    if not instances:
        return None
    example = action_lines(load_domain_material(env_name, ctx.prompts_dir).example)

    def run(library: ActionLibrary) -> dict[str, str]:
        env = make_env(env_name, instances[0], **ctx.episodes.env_options)
        try:
            return trial_failures(library, env, example, **_executor_kwargs(ctx))
        finally:
            env.close()

    return run


def check_candidate(
    code: str, task: dict, ctx: Context, demonstration: str | None, key: str, *, strict: bool = False,
    earlier: list[dict] | None = None,
) -> Outcome:
    """Check ``code`` function by function (nodes.creation); while nothing works (``strict``: while
    anything fails) ask the learner for a repair. ``earlier``: this candidate's failed tries so far,
    each repaired once; repairs over a candidate's whole creation are at most ``create_tries``."""
    env_name, instance = task["env_name"], task["train_instances"][0]
    earlier = earlier or []
    primitives, queries, arities = _primitives_of(env_name, instance, ctx)
    smoke = _smoke(env_name, instance, ctx, demonstration)

    def repair(code: str, error: str, earlier: list[dict[str, str]]) -> str:
        messages = ctx.prompts.render(
            "fix_actions", code=code, error=error, primitives=primitives, queries=queries, attempts=render_attempts(earlier)
        )
        return clean_reply(_learner(ctx, "learn.fix", messages, key))

    return check_with_repairs(
        code, lambda c: check_code(c, arities, smoke), repair, max(0, ctx.create_tries - len(earlier)), strict=strict,
        on_repair=lambda n, error: emit("repair", candidate_id=key, attempt=n, error=brief_error(error, 200)), earlier=earlier,
    )  # fmt: skip


def check_and_repair(
    code: str, task: dict, ctx: Context, demonstration: str | None, key: str
) -> tuple[ActionLibrary | None, str, list[str]]:
    """The whole of ``code`` must work (a revision): (library or None, the last code, errors met and renames made)."""
    outcome = check_candidate(code, task, ctx, demonstration, key, strict=True)
    notes = [f"renamed {r['from']} to {r['to']}: {r['reason']}" for r in outcome.checked.renamed]
    library = outcome.library
    return library, library.code if library is not None else outcome.checked.code, [t["error"] for t in outcome.tries] + notes


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
    primitives, queries, _ = _primitives_of(task["env_name"], task["train_instances"][0], ctx)
    messages = ctx.prompts.render(
        "create_actions", instruction=material.instruction, primitives=primitives, example=material.example,
        task=task["env_name"], learned_example=load_learned_example(ctx.prompts_dir, queries=bool(queries)), queries=queries,
    )  # fmt: skip
    code = clean_reply(_learner(ctx, "learn.create", messages, cid))
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
    if best and not failures and ctx.probe_unused and best["scores"].get("C", 0) == 0:
        failures = probe_failures(
            ActionLibrary.from_dict(best["library"]), state["env_name"], state["train_instances"][0],
            data_dir=ctx.episodes.data_dir, env_options=ctx.episodes.env_options, limits=ctx.episodes.limits,
        )
        if failures:
            emit("actions_probed", round=rnd, candidate_id=best["id"], failures=len(failures))
    dropped = [c for c in state.get("candidates", []) if c.get("round") == rnd and not c.get("library")]
    summary = {
        "round": rnd,
        "score_type": ctx.score,
        "candidates": [
            {"id": c["id"], "origin": c.get("origin"), "parent": c.get("parent"), "scores": c["scores"]} for c in scored
        ],
        "dropped": [{"id": c["id"], "error": c.get("error")} for c in dropped],
        "best_id": best["id"] if best else None,
        "best_score": best_value,
        "improved": improved,
        "failures": len(failures),
    }
    _save_candidates(ctx, scored, dropped)
    emit("round_scored", **summary)
    best_candidate = {k: v for k, v in best.items() if k != "scores"} if best else state.get("best")
    return {
        "rounds": [summary],
        "best": best_candidate,
        "best_scores": best["scores"] if best else previous,
        "stale_rounds": stale,
        "failures": failures,
    }


_CANDIDATE_KEYS = ("id", "round", "origin", "parent", "reason", "target", "failure", "scores", "attempts", "change",
                   "error", "repair_stop", "dropped_functions", "renamed", "tries")


def _save_candidates(ctx: Context, scored: list[dict], dropped: list[dict] | None = None) -> None:
    """Every candidate's code as a readable file, with its record beside it (idempotent: a re-run writes
    the same bytes). A dropped candidate's file holds the last code tried; its JSON, the error and every attempt."""
    if not ctx.run_dir:
        return
    folder = Path(ctx.run_dir) / "candidates"
    folder.mkdir(parents=True, exist_ok=True)
    for c, status in [*((c, "scored") for c in scored), *((c, "dropped") for c in dropped or [])]:
        if status == "scored":
            code = ActionLibrary.from_dict(c["library"]).code
        else:
            code = c.get("code") or c.get("change") or f"# no code: {(c.get('error') or 'the learner wrote none').splitlines()[0]}\n"
        (folder / f"{c['id']}.py").write_text(code, encoding="utf-8")
        record = {"status": status, **{k: c.get(k) for k in _CANDIDATE_KEYS}}
        (folder / f"{c['id']}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")


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
    primitives, queries, _ = _primitives_of(task["env_name"], task["train_instances"][0], ctx)
    notes = library.render_notes().strip()
    messages = ctx.prompts.render(
        "revise_actions",
        instruction=material.instruction,
        primitives=primitives,
        queries=queries,
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
            checked, candidate["code"], errors = check_and_repair(
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
    # A resumed finalize (a kill cut the first one short) writes what is missing and nothing twice.
    saved = {_snapshot_key(s["iteration"], s["reason"], s["actions"]) for s in store.snapshots() if {"iteration", "reason", "actions"} <= s.keys()}
    for cand in reversed(chain):
        library = ActionLibrary.from_dict(cand["library"])
        iteration, reason = cand.get("round", 0), f"{cand.get('origin')}: {cand.get('reason', '')}".strip()
        if _snapshot_key(iteration, reason, [[a.name, a.version] for a in library.all_functions]) in saved:
            continue
        store.save(library, iteration=iteration, reason=reason, scores=scores.get(cand["id"]))
    (folder / "demonstration.md").write_text(best.get("demonstration", ""), encoding="utf-8")


def _snapshot_key(iteration: Any, reason: Any, actions: Any) -> tuple:
    return (iteration, reason, tuple((str(n), int(v)) for n, v in actions))
