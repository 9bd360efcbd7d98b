"""``run.py --graph learn``: the learning loop with a SQLite checkpointer and live progress."""

from __future__ import annotations

import sys

from graphs.registry import build_graph
from nodes.checkpoint import sqlite_checkpointer
from nodes.records import LearnSummary
from nodes.resume import finished, pending_names

from .progress import ProgressPrinter
from .review_prompt import answer_reviews
from .runs import RunDir
from .session import make_context, pending_nodes, stream_config, stream_to_run


def run_learn(settings: dict, run: RunDir, models: dict, usage, *, resume: bool, verbose: bool, workers=None) -> int:
    ctx = make_context(settings, models, usage, run, workers)
    progress = ProgressPrinter(usage, verbose=verbose, max_rounds=settings["max_rounds"])
    config = stream_config("learn", settings["concurrency"])
    try:
        with sqlite_checkpointer(run.checkpoints) as saver:
            graph = build_graph("learn", checkpointer=saver)
            snapshot = graph.get_state(config)
            if resume and not snapshot.values:
                # Killed in its start-up, before the first checkpoint (RunDir.check_resumable refused a
                # folder with records): nothing was done, so the resume is the start.
                progress.line("no checkpoint yet (the run was stopped in its start-up): starting from the beginning")
                resume = False
            if resume:
                if finished(snapshot):
                    print("this run already finished; nothing to do", file=sys.stderr)
                    return 0
                inputs = None
                progress.line(
                    f"resuming at {pending_nodes(pending_names(snapshot))} (round {snapshot.values.get('round', 0)})"
                )
            else:
                inputs = {"env_name": settings["env"], "train_instances": settings["train_instances"]}
                progress.line(f"learning on {settings['env']}: {', '.join(settings['train_instances'])}")
            final = stream_to_run(graph, inputs, config, ctx, run, progress)
            if settings.get("review"):  # a person in the loop: answer each review, then stream on
                final = (
                    answer_reviews(
                        graph, config, lambda value: stream_to_run(graph, value, config, ctx, run, progress), progress
                    )
                    or final
                )
    finally:
        ctx.episodes.close_all()
        progress.close()
    summary: LearnSummary = {
        "env": settings["env"],
        "train_instances": settings["train_instances"],
        "stop_reason": final.get("stop_reason"),
        "best": final.get("best", {}).get("id") if final.get("best") else None,
        "best_scores": final.get("best_scores"),
        "rounds": final.get("rounds", []),
    }
    run.write_json("learn_summary.json", summary)
    print(closing_lines(final, run, settings["env"]), file=sys.stderr)
    return 0


def closing_lines(final: dict, run: RunDir, env: str) -> str:
    """What the run learned, how it did in training, and how to use it; says so when nothing worked."""
    best = final.get("best")
    if not best:
        return f"no candidate action set worked ({final.get('stop_reason')}); every candidate's code and error: {run.path / 'candidates'}"
    s = final.get("best_scores") or {}
    names = ", ".join(best["library"].names)  # the ActionLibrary value the learning graph keeps
    calls, good = int(s.get("C", 0)), int(s.get("S", 0))
    training = (
        f"in training: success {s.get('success_rate', 0.0):.0%}, {good} of {calls} learned calls succeeded "
        f"({int(s.get('T', 0))} agent steps)"
    )
    lines = [f"learned library: {run.path / 'library'}" + (f" ({names})" if names else ""), training]
    if good == 0:
        lines.append(
            "warning: no learned call succeeded in training; this library is unlikely to help (see report.html)"
        )
    lines.append(f"act with it: python run.py --graph act --env {env} --actions {run.path}")
    return "\n".join(lines)
