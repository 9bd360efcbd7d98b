#!/usr/bin/env python
"""Scale: ALFWorld and PDDL evaluation at 1, 2, 4 and 8 workers, the local executor (threads of one process)
against Ray (``--executor ray``: one worker process per episode slot), with a model of fixed latency.

The model is ``benchmarks.stub_server`` on 127.0.0.1 answering every request after ``--latency`` seconds with a
scripted reply (``benchmarks/scripted_model.py``: on gripper the next step of a greedy plan, a share of them
refused; on ALFWorld a valid command picked by a hash of the prompt, so every step steps TextWorld). Each
measurement (task family, executor, workers) runs in a fresh process of its own, so neither executor inherits
warm caches; Ray's start-up, its workers' imports and one warm-up episode per process (each Ray worker, or
the local process) happen before the clock starts (reported apart as start-up). An evaluation of
``--episodes`` Act episodes of ``--max-steps`` steps is then timed from its start to its summary: steady-state
throughput.

    python benchmarks/bench_scale.py [--workers 1,2,4,8] [--episodes 16] [--max-steps 10] [--latency 0.3]

Prints one table: episodes per minute per executor, Ray's speed-up over local at the same concurrency, and
each executor's speed-up over its own 1 worker. Locally a process-wide lock serializes TextWorld (its
parser is not thread-safe), so ALFWorld evaluation uses one core however many threads; PDDL episodes are
dominated by the model's latency and scale with workers either way.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scripted_model import ScriptedModel, digest  # noqa: E402
from benchmarks.stub_server import StubOpenAI  # noqa: E402

ALFWORLD_TYPES = ("put", "clean", "heat", "cool", "examine", "puttwo")
# Valid call forms (environments/alfworld/commands.py PRIMITIVES) over receptacles most games have.
ALFWORLD_CALLS = (
    "goto('countertop 1')", "goto('cabinet 1')", "open('cabinet 1')", "goto('drawer 1')", "open('drawer 1')",
    "goto('fridge 1')", "open('fridge 1')", "goto('sinkbasin 1')", "goto('shelf 1')", "goto('microwave 1')",
)  # fmt: skip
# What the driver has imported before the clock starts (its models and environments), imported by each worker too.
MODEL_MODULES = ("langchain_openai", "openai", "graphs.registry")
WARM_MODULES = {"alfworld": (*MODEL_MODULES, "environments.alfworld", "textworld", "alfworld"), "pddl": (*MODEL_MODULES, "environments.pddl.env")}


class Responder(ScriptedModel):
    """ScriptedModel whose ALFWorld agent answers valid commands (the environment steps TextWorld each time)."""

    def act(self, system: str, user: str) -> str:
        if "Robby is in" not in user:
            return ALFWORLD_CALLS[digest(user) % len(ALFWORLD_CALLS)]
        return super().act(system, user)


def test_set(family: str, n: int) -> dict[str, list[str]]:
    """``n`` test episodes: generated gripper problems, or ALFWorld test games taken in turn from each task type."""
    if family == "pddl":
        return {"pddl/gripper": [f"gen:seed={100 + i},balls={2 + i % 2},rooms={2 + i % 2}" for i in range(n)]}
    from environments import list_instances

    splits = {t: list_instances(f"alfworld/{t}", split="test") for t in ALFWORLD_TYPES}
    out: dict[str, list[str]] = {}
    for i in range(n):
        task = ALFWORLD_TYPES[i % len(ALFWORLD_TYPES)]
        out.setdefault(f"alfworld/{task}", []).append(splits[task][i // len(ALFWORLD_TYPES)])
    return out


def warm_up(ctx, family: str, n: int) -> None:
    """One short episode in each of ``n`` processes (every Ray worker, or the local process) before the clock:
    the figures are steady-state throughput, not each process's first-episode costs (lazy imports, pydantic
    and LangGraph set-up, TextWorld's template cache), which a real run pays once per worker."""
    from graphs.registry import build_graph
    from nodes.runner import play_episode

    graph = build_graph("act", checkpointer=False)
    env, instance = WARM_EPISODE[family]()
    inputs = [{"episode_id": f"warm-up-{i}", "env_name": env, "instance": instance, "max_steps": 3} for i in range(n)]
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda x: play_episode(graph, x, ctx), inputs))


def _alfworld_warm_episode() -> tuple[str, str]:
    from environments import list_instances

    return "alfworld/put", list_instances("alfworld/put", split="train")[0]


WARM_EPISODE = {"pddl": lambda: ("pddl/gripper", "gen:seed=999,balls=2"), "alfworld": _alfworld_warm_episode}


def measure(family: str, executor: str, workers: int, episodes: int, max_steps: int, latency: float) -> dict:
    """One evaluation in this process; its figures."""
    from graphs.registry import build_graph
    from learnact.llm.config import ModelSpec
    from learnact.llm.models import make_chat_model
    from learnact.llm.usage import UsageTracker
    from nodes.context import Context
    from nodes.ray_pool import RayWorkers
    from nodes.ray_worker import ModelRecipe

    test = test_set(family, episodes)
    with StubOpenAI(respond=Responder(noise=0.1, delay_s=latency), record=False) as stub, tempfile.TemporaryDirectory() as tmp:
        specs = {
            role: ModelSpec(model="stub", base_url=stub.url, temperature=0.0, max_tokens=64, seed=0, timeout_s=60)
            for role in ("agent", "learner")
        }  # fmt: skip
        t0 = time.monotonic()
        pool = None
        if executor == "ray":
            pool = RayWorkers(workers, {role: ModelRecipe(spec=dataclasses.asdict(s)) for role, s in specs.items()})
            pool.warm(WARM_MODULES[family])
        else:
            for module in WARM_MODULES[family]:
                __import__(module)
        ctx = Context(
            agent_model=make_chat_model(specs["agent"]), learner_model=make_chat_model(specs["learner"]), usage=UsageTracker(),
            run_dir=tmp, executor=executor, workers=pool, concurrency=workers, history_window=10,
        )  # fmt: skip
        warm_up(ctx, family, workers if executor == "ray" else 1)
        startup = time.monotonic() - t0
        inputs = {"methods": ["act"], "train": {}, "test": test, "runs": 1, "max_steps": {env: max_steps for env in test}}
        t0 = time.monotonic()
        try:
            final = build_graph("evaluate").invoke(inputs, {"max_concurrency": workers + 2}, context=ctx)
        finally:
            ctx.episodes.close_all()
            if pool is not None:
                pool.close()
        wall = time.monotonic() - t0
        records = [json.loads(line) for line in (Path(tmp) / "episodes.jsonl").read_text().splitlines()]
    return {
        "family": family, "executor": executor, "workers": workers, "episodes": len(records), "wall_s": round(wall, 2),
        "episodes_per_min": round(60 * len(records) / wall, 2), "startup_s": round(startup, 1),
        "steps": sum(r["steps"] for r in records), "successes": sum(r["success"] for r in records), "rows": len(final.get("summary", [])),
    }  # fmt: skip


def run_one(args: argparse.Namespace, family: str, executor: str, workers: int) -> dict:
    cmd = [
        sys.executable, __file__, "--one", f"{family},{executor},{workers}", "--episodes", str(args.episodes),
        "--max-steps", str(args.max_steps), "--latency", str(args.latency),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{family} {executor} {workers}: failed\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    by = {(r["family"], r["executor"], r["workers"]): r for r in results}
    lines = [
        "| task | workers | local ep/min | ray ep/min | ray / local | local vs 1 worker | ray vs 1 worker | steps (local, ray) | start-up s (local, ray) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for family, _, w in sorted({(r["family"], "", r["workers"]) for r in results}):
        loc, ray = by.get((family, "local", w)), by.get((family, "ray", w))
        loc1, ray1 = by.get((family, "local", 1)), by.get((family, "ray", 1))

        def f(r, base=None):
            if r is None:
                return "-"
            return f"{r['episodes_per_min'] / base['episodes_per_min']:.2f}x" if base else f"{r['episodes_per_min']:.1f}"

        speed = f"{ray['episodes_per_min'] / loc['episodes_per_min']:.2f}x" if loc and ray else "-"
        steps = f"{loc['steps'] if loc else '-'}, {ray['steps'] if ray else '-'}"
        lines.append(
            f"| {family} | {w} | {f(loc)} | {f(ray)} | {speed} | {f(loc, loc1)} | {f(ray, ray1)} | {steps} | {loc['startup_s'] if loc else '-'}, {ray['startup_s'] if ray else '-'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", default="1,2,4,8", help="comma-separated worker counts (= --concurrency)")
    p.add_argument("--families", default="alfworld,pddl")
    p.add_argument("--executors", default="local,ray")
    p.add_argument("--episodes", type=int, default=16, help="test episodes per measurement")
    p.add_argument("--max-steps", type=int, default=10)
    p.add_argument("--latency", type=float, default=0.3, help="seconds the stub model takes per request")
    p.add_argument("--json", help="also write every measurement here")
    p.add_argument("--one", help=argparse.SUPPRESS)  # family,executor,workers: one measurement in this process
    args = p.parse_args(argv)
    if args.one:
        family, executor, workers = args.one.split(",")
        print(json.dumps(measure(family, executor, int(workers), args.episodes, args.max_steps, args.latency)))
        return 0
    results = []
    for family in args.families.split(","):
        for w in (int(x) for x in args.workers.split(",")):
            for executor in args.executors.split(","):
                r = run_one(args, family, executor, w)
                print(f"{family} {executor} {w} workers: {r['episodes']} episodes in {r['wall_s']} s = {r['episodes_per_min']} ep/min", file=sys.stderr, flush=True)
                results.append(r)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"latency {args.latency} s per model request, {args.episodes} Act episodes of at most {args.max_steps} steps per measurement")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
