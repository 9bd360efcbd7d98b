"""Nodes of the learning loop around creation and revision: gather the candidates, roll each out on every
training instance, score and select, decide whether to go on, finalize.

graphs/learn.py wires them with the creation subgraph (graphs/create.py, nodes/create.py) and the revision
nodes (nodes/revise.py); each returns a partial state update. Learned code is only ever run through the
sandbox executor (actions.Executor), never in this process.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from .context import Context, holds_slot, rollout_graph
from .events import emit
from .learn_state import Candidate, LearnState, RolloutTask
from .learning.files import save_candidates, save_lineage
from .learning.journal import rollout_key
from .learning.probes import probe_failures
from .learning.revision import collect_failures
from .learning.scoring import score_rollouts, select_best
from .records import RoundSummary
from .runner import episode_inputs, play_episode


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
        emit("rollout_reused", candidate_id=cand["id"], instance=task["instance"], success=done["success"], steps=len(done["steps"]))
        return {"rollouts": [done]}
    episode_id = f"{cand['id']}@{task['instance']}" + (f"#r{rnd}" if again else "")
    emit("rollout_start", candidate_id=cand["id"], instance=task["instance"])
    inputs = episode_inputs(
        episode_id, task["env_name"], task["instance"], library=cand["library"],
        examples=cand.get("demonstration") or None, max_steps=ctx.learn_max_steps,
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
    emit("rollout_end", candidate_id=cand["id"], instance=task["instance"], success=record["success"], steps=len(record["steps"]))
    return {"rollouts": [record]}


def score_round(state: LearnState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rnd = state.get("round", 0)
    candidates = current_candidates(state)
    by_candidate: dict[str, list[dict]] = {}
    for r in state.get("rollouts", []):
        if not ctx.reroll_best or r["round"] == rnd:  # re-rolled: this round's rollouts only
            by_candidate.setdefault(r["candidate_id"], []).append(r)
    scored = [{**c, "scores": score_rollouts(by_candidate.get(c["id"], []))} for c in candidates]
    best = select_best(scored, ctx.score, ctx.tie_break)
    previous = state.get("best_scores")
    best_value = best["scores"][ctx.score] if best else None
    improved = best is not None and (previous is None or best_value > previous[ctx.score] + 1e-9)
    stale = 0 if improved else state.get("stale_rounds", 0) + 1
    failures = collect_failures(by_candidate.get(best["id"], [])) if best else []
    if best and not failures and ctx.probe_unused and best["scores"].get("C", 0) == 0:
        failures = probe_failures(
            best["library"], state["env_name"], state["train_instances"][0],
            data_dir=ctx.episodes.data_dir, env_options=ctx.episodes.env_options, limits=ctx.episodes.limits, sandbox=ctx.sandbox,
        )
        if failures:
            emit("actions_probed", round=rnd, candidate_id=best["id"], failures=len(failures))
    dropped = [c for c in state.get("candidates", []) if c.get("round") == rnd and not c.get("library")]
    summary: RoundSummary = {
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
    save_candidates(ctx, scored, dropped)
    emit("round_scored", **summary)
    best_candidate = {k: v for k, v in best.items() if k != "scores"} if best else state.get("best")
    return {
        "rounds": [summary],
        "best": best_candidate,
        "best_scores": best["scores"] if best else previous,
        "stale_rounds": stale,
        "failures": failures,
    }


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


def finalize(state: LearnState, runtime: Runtime[Context]) -> dict:
    """Persist the best candidate's lineage as the run's action library; say why we stopped."""
    ctx = runtime.context
    reason = stop_reason(state, ctx)
    best = state.get("best")
    if ctx.run_dir and best:
        save_lineage(Path(ctx.run_dir) / "library", best, state)
    emit("learning_done", stop_reason=reason, best_id=best["id"] if best else None, best_scores=state.get("best_scores"))
    return {"stop_reason": reason}
