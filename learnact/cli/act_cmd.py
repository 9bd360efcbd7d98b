"""``run.py --graph act``: test-time Act episodes, one JSONL record each, resumable."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from graphs.registry import build_graph
from nodes.checkpoint import sqlite_checkpointer
from nodes.records import episode_record
from nodes.remote import invoke_episode
from nodes.resume import finished

from .progress import ProgressPrinter
from .inputs import load_library
from .runs import RunDir
from .session import make_context, stream_to_run


def run_act(settings: dict, run: RunDir, models: dict, usage, *, verbose: bool, method: str = "act", workers=None) -> int:
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
        remote_graph = build_graph(method, checkpointer=False) if workers is not None else None

        def logged(chunk: dict) -> None:
            run.append("events.jsonl", chunk)
            progress(chunk)

        def one(episode_id: str) -> dict:
            config = {"configurable": {"thread_id": episode_id}, "recursion_limit": 10_000}
            snapshot = graph.get_state(config)
            inputs = {
                "episode_id": episode_id,
                "env_name": settings["env"],
                "instance": episode_id.rsplit("#", 1)[0],
                "library": library,
                "examples": demo,
            }
            if finished(snapshot):  # not `not snapshot.next`: see nodes/resume.py
                # The episode ended and was checkpointed, but its record is missing: a kill came between the
                # two, or cut the line short. The checkpoint holds the whole episode: record it from there.
                # Playing it again on this thread would start from its final state. (Its tokens were counted
                # by the process that was killed: this record says 0.)
                state = snapshot.values
            elif remote_graph is not None:  # --executor ray: the whole episode on a worker, from its start
                state = invoke_episode(remote_graph, inputs, ctx, on_event=logged)
            else:  # None: resume this episode from its last checkpoint
                state = stream_to_run(graph, None if snapshot.values else inputs, config, ctx, run, progress)
            record = episode_record(state, method=method, usage=usage.totals(key=episode_id), run=int(episode_id.rsplit("run", 1)[1]))
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
        print(f"success {wins}/{len(all_records)} = {wins / len(all_records):.1%}; mean steps {mean_steps:.1f}", file=sys.stderr)
    return 0
