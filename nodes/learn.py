"""Nodes of the learning loop around creation and revision: gather the candidates, roll each out on every
training instance, score and select, identify the errors and decide whether to go on (the stop rules), finalize.

graphs/learn.py wires them with the creation subgraph (graphs/create.py, nodes/create.py) and the revision
nodes (nodes/revise.py); each returns a partial state update. Learned code is only ever run through the
sandbox executor (actions.Executor), never in this process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from . import assist
from .context import Context, holds_slot, rollout_graph
from .events import emit
from .learn_state import Candidate, LearnState, RolloutTask
from .learning.files import save_candidates, save_lineage
from .learning.journal import rollout_key
from .learning.revision import choose_target, collect_failures
from .learning.scoring import score_rollouts, select_best
from .records import RoundSummary
from .revise import plan_revisions
from .runner import episode_inputs, play_episode


def gather_candidates(state: LearnState) -> dict:
    """Fan-in point after creation or revision (the rollouts are routed from here): the round is the newest
    candidates' (creation's 0, then each revision's)."""
    return {"round": max((c.get("round", 0) for c in state.get("candidates", [])), default=state.get("round", 0))}


def current_candidates(state: LearnState) -> list[Candidate]:
    """This round's candidates, the previous best first, then the new ones by id."""
    rnd = state.get("round", 0)
    new = sorted(
        (c for c in state.get("candidates", []) if c.get("round") == rnd and c.get("library")), key=lambda c: c["id"]
    )
    best = state.get("best")
    return ([best] if best and rnd > 0 else []) + new


def plan_rollouts(state: LearnState, runtime: Runtime[Context]) -> list[Send] | str:
    """Every candidate of this round on every training instance, skipping rollouts already done (with
    ``reroll_best``, the previous best is rolled out again in each round, as the reference does)."""
    rnd, reroll = state.get("round", 0), runtime.context.reroll_best
    done = {(r["candidate_id"], r["instance"]) for r in state.get("rollouts", []) if not reroll or r["round"] == rnd}
    sends = [
        Send("rollout", RolloutTask(candidate=c, env_name=state["env_name"], instance=inst, round=rnd))
        for c in current_candidates(state)
        for inst in state["train_instances"]
        if (c["id"], inst) not in done
    ]
    return sends or "score"


@holds_slot
def rollout(task: RolloutTask, runtime: Runtime[Context], episode_graph: Any = None) -> dict:
    """One candidate on one training instance: the episode graph (``ctx.rollout_graph``, else the one the
    learning graph was built with) with the candidate's library."""
    ctx = runtime.context
    cand = task["candidate"]
    rnd = task.get("round", cand["round"])
    again = ctx.reroll_best and rnd != cand["round"]  # the previous best, rolled out again this round
    journal, key = ctx.journal, rollout_key(cand, task["instance"], ctx.learn_max_steps, rnd if again else None)
    if journal is not None and (done := journal.get(key)) is not None:
        # Finished before a crash but not yet checkpointed: reuse it, never run it twice.
        emit(
            "rollout_reused",
            candidate_id=cand["id"],
            instance=task["instance"],
            success=done["success"],
            steps=len(done["steps"]),
        )
        return {"rollouts": [done]}
    episode_id = f"{cand['id']}@{task['instance']}" + (f"#r{rnd}" if again else "")
    emit("rollout_start", candidate_id=cand["id"], instance=task["instance"])
    inputs = episode_inputs(
        episode_id,
        task["env_name"],
        task["instance"],
        library=cand["library"],
        examples=cand.get("demonstration") or None,
        max_steps=ctx.learn_max_steps,
    )
    final = play_episode(rollout_graph(ctx, episode_graph), inputs, ctx)
    record = {
        "candidate_id": cand["id"],
        "round": rnd,
        "instance": task["instance"],
        "goal": final.get("goal", ""),
        "first_observation": final.get("first_observation", ""),
        "steps": final.get("steps", []),
        "success": bool(final.get("success")),
        "progress": float(final.get("progress", 0.0)),
    }
    if journal is not None:
        journal.put(key, record)
    emit(
        "rollout_end",
        candidate_id=cand["id"],
        instance=task["instance"],
        success=record["success"],
        steps=len(record["steps"]),
    )
    return {"rollouts": [record]}


def round_rollouts(state: LearnState, ctx: Context) -> dict[str, list[dict]]:
    """The rollouts each candidate is scored on, by candidate id (with ``reroll_best``: this round's only)."""
    rnd, by_candidate = state.get("round", 0), {}
    for r in state.get("rollouts", []):
        if not ctx.reroll_best or r["round"] == rnd:
            by_candidate.setdefault(r["candidate_id"], []).append(r)
    return by_candidate


def score_round(state: LearnState, runtime: Runtime[Context]) -> dict:
    """Score this round's candidates (T, C, S) and keep the best; the round's summary waits for its errors."""
    ctx = runtime.context
    rnd = state.get("round", 0)
    by_candidate = round_rollouts(state, ctx)
    scored = [{**c, "scores": score_rollouts(by_candidate.get(c["id"], []))} for c in current_candidates(state)]
    best = select_best(scored, ctx.score, ctx.tie_break)
    previous = state.get("best_scores")
    best_value = best["scores"][ctx.score] if best else None
    improved = best is not None and (previous is None or best_value > previous[ctx.score] + 1e-9)
    dropped = [c for c in state.get("candidates", []) if c.get("round") == rnd and not c.get("library")]
    save_candidates(ctx, scored, dropped)
    return {
        "scored": {
            "round": rnd,
            "score_type": ctx.score,
            "candidates": [
                {"id": c["id"], "origin": c.get("origin"), "parent": c.get("parent"), "scores": c["scores"]}
                for c in scored
            ],
            "dropped": [{"id": c["id"], "error": c.get("error")} for c in dropped],
            "best_id": best["id"] if best else None,
            "best_score": best_value,
            "improved": improved,
        },
        "best": {k: v for k, v in best.items() if k != "scores"} if best else state.get("best"),
        "best_scores": best["scores"] if best else previous,
        "stale_rounds": 0 if improved else state.get("stale_rounds", 0) + 1,
    }


def identify_errors(state: LearnState, runtime: Runtime[Context]) -> dict:
    """Error identification: the best candidate's failed learned calls (with the aid ``probe_unused``, failure
    cases found by trying actions the agent never called), the round's summary, whether learning stops
    (:func:`stop_rule`) and, if it goes on, the action the revisions target (the one that failed most)."""
    ctx = runtime.context
    rnd, best = state.get("round", 0), state.get("best")
    failures = collect_failures(round_rollouts(state, ctx).get(best["id"], [])) if best else []
    if best and assist.probes_on(ctx):  # the aid (nodes/assist/probes.py)
        failures = assist.unused_action_failures(state, ctx, failures)
    summary: RoundSummary = {**state["scored"], "failures": len(failures)}  # type: ignore[typeddict-item]
    emit("round_scored", **summary)
    stop = stop_rule({**state, "failures": failures}, ctx)
    update = {"rounds": [summary], "failures": failures, "stop_reason": stop or ""}
    if stop:
        return update
    target = choose_target(failures)
    count = sum(1 for f in failures if f["name"] == target)
    emit("errors_identified", round=rnd, target=target, failures=len(failures), target_failures=count)
    return {**update, "target": target}


def stop_rule(state: LearnState, ctx: Context) -> str | None:
    """Why learning stops after this round's errors are identified, or None: it goes on (the one place of the rules)."""
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
    if ctx.patience and rnd > 0 and state.get("stale_rounds", 0) >= ctx.patience:  # patience 0: fixed rounds
        return "plateau"
    return None


def route_after_errors(state: LearnState, runtime: Runtime[Context]) -> list[Send] | str:
    """Finalize when a stop rule holds, else the next round's revisions."""
    return "finalize" if state.get("stop_reason") else plan_revisions(state, runtime)


def finalize(state: LearnState, runtime: Runtime[Context]) -> dict:
    """Persist the best candidate's lineage as the run's action library; say why we stopped."""
    ctx = runtime.context
    reason = state.get("stop_reason") or ""
    best = state.get("best")
    if ctx.run_dir and best:
        save_lineage(Path(ctx.run_dir) / "library", best, state)
    emit(
        "learning_done", stop_reason=reason, best_id=best["id"] if best else None, best_scores=state.get("best_scores")
    )
    return {"stop_reason": reason}
