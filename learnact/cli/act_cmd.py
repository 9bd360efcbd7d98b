"""``run.py --graph act``: test-time Act episodes, one JSONL record each, resumable."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from graphs.registry import build_graph
from nodes.checkpoint import sqlite_checkpointer
from nodes.records import episode_record
from nodes.runner import episode_inputs, play_episode

from .inputs import load_library
from .progress import ProgressPrinter
from .runs import RunDir
from .session import make_context


def run_act(
    settings: dict, run: RunDir, models: dict, usage, *, verbose: bool, method: str = "act", workers=None
) -> int:
    library, demo = load_library(settings.get("actions"))
    ctx = make_context(settings, models, usage, run, workers)
    done = {r["episode_id"] for r in run.read("episodes.jsonl")}
    jobs = [f"{inst}#run{k}" for k in range(settings.get("runs", 1)) for inst in settings["instances"]]
    todo = [j for j in jobs if j not in done]
    progress = ProgressPrinter(usage, verbose=verbose, total_episodes=len(todo))
    if len(todo) < len(jobs):
        progress.line(f"{len(jobs) - len(todo)} episodes already recorded; running the other {len(todo)}")
    with sqlite_checkpointer(run.checkpoints) as saver:
        graph = build_graph(method, checkpointer=saver)

        def logged(chunk: dict) -> None:
            run.append("events.jsonl", chunk)
            progress(chunk)

        def one(episode_id: str) -> dict:
            # Each episode is its own checkpoint thread: a killed one goes on from its last checkpoint, a finished
            # but unrecorded one is recorded from its checkpoint (its tokens were counted by the process that was
            # killed: this record says 0). With --executor ray an unfinished one is played on a worker from its start.
            inputs = episode_inputs(
                episode_id, settings["env"], episode_id.rsplit("#", 1)[0], library=library, examples=demo
            )
            state = play_episode(graph, inputs, ctx, thread=episode_id, on_event=logged)
            record = episode_record(
                state, method=method, usage=usage.totals(key=episode_id), run=int(episode_id.rsplit("run", 1)[1])
            )
            run.append("episodes.jsonl", record)
            return record

        try:
            with ThreadPoolExecutor(max_workers=max(1, settings.get("concurrency", 1))) as pool:
                list(pool.map(one, todo))  # every episode, and the first one's exception
        finally:
            ctx.episodes.close_all()
            progress.close()
    all_records = run.read("episodes.jsonl")
    if all_records:
        wins = sum(r["success"] for r in all_records)
        mean_steps = sum(r["steps"] for r in all_records) / len(all_records)
        print(
            f"success {wins}/{len(all_records)} = {wins / len(all_records):.1%}; mean steps {mean_steps:.1f}",
            file=sys.stderr,
        )
    return 0
