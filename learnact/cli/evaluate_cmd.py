"""``run.py --graph evaluate``: every method on the same test episodes, resumable, with a summary table."""

from __future__ import annotations

import sys

from graphs.registry import build_graph
from nodes.checkpoint import sqlite_checkpointer
from nodes.evaluate import learning_runs
from nodes.resume import finished, pending_names
from nodes.summary import size_markdown, to_markdown

from .progress import ProgressPrinter
from .runs import RunDir
from .session import make_context, pending_nodes, stream_config, stream_to_run


def run_evaluate(settings: dict, run: RunDir, models: dict, usage, *, verbose: bool, workers=None) -> int:
    ctx = make_context(settings, models, usage, run, workers)
    total = settings["runs"] * len(settings["methods"]) * sum(len(v) for v in settings["test"].values())
    progress = ProgressPrinter(usage, verbose=verbose, total_episodes=total)
    config = stream_config(
        "evaluate",
        settings["concurrency"],
        orchestrators=len(learning_runs(settings["methods"], settings["test"], settings["runs"])),
    )
    try:
        with sqlite_checkpointer(run.checkpoints) as saver:
            graph = build_graph("evaluate", checkpointer=saver)
            snapshot = graph.get_state(config)
            if snapshot.values and not finished(snapshot):
                inputs = None
                progress.line(f"resuming the evaluation at {pending_nodes(pending_names(snapshot))}")
            else:
                # A fresh start, or a finished run asked again: recorded episodes are skipped either way.
                inputs = {
                    "methods": settings["methods"],
                    "train": settings["train"],
                    "test": settings["test"],
                    "runs": settings["runs"],
                    "max_steps": settings.get("episode_max_steps", {}),
                }
                progress.line(f"evaluating {', '.join(settings['methods'])} on {', '.join(settings['envs'])}")
            final = stream_to_run(graph, inputs, config, ctx, run, progress)
    finally:
        ctx.episodes.close_all()
        progress.close()
    print(to_markdown(final.get("summary", [])), file=sys.stdout)
    if size_markdown(final.get("summary_by_size", [])):
        print(size_markdown(final["summary_by_size"]), file=sys.stdout)
    print(f"summary: {run.path / 'summary.md'} and {run.path / 'summary.csv'}", file=sys.stderr)
    return 0
