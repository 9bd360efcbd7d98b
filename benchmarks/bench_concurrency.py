#!/usr/bin/env python
"""Seconds per Act step against the embedded local model with 1 and with 2 episodes in flight.

The llama-cpp-python server runs one request at a time and reuses the prompt prefix of the
previous request. With one episode at a time, each step re-reads only its new history entry; with
two interleaved episodes, each step re-reads its episode's whole history. This prints both.

    python benchmarks/bench_concurrency.py [--env pddl/gripper] [--instances gen:seed=1,balls=3 gen:seed=2,balls=3] [--max-steps 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(env: str, instances: list[str], max_steps: int, concurrency: int, folder: Path) -> tuple[float, int, int]:
    run_dir = folder / f"c{concurrency}"
    cmd = [
        sys.executable,
        str(ROOT / "run.py"),
        "--graph",
        "act",
        "--env",
        env,
        "--instance",
        ",".join(instances),
        "--model",
        "local",
        "--max-steps",
        str(max_steps),
        "--concurrency",
        str(concurrency),
        "--run-dir",
        str(run_dir),
    ]
    start = time.perf_counter()
    subprocess.run(
        cmd, check=True, cwd=ROOT, capture_output=True, env={"LEARNACT_PLAIN_PROGRESS": "1", **__import__("os").environ}
    )
    wall = time.perf_counter() - start
    records = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines() if line.strip()]
    return wall, sum(r["steps"] for r in records), sum(r["prompt_tokens"] for r in records)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="pddl/gripper")
    p.add_argument("--instances", nargs="+", default=["gen:seed=1,balls=3", "gen:seed=2,balls=3"])
    p.add_argument("--max-steps", type=int, default=10)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
        print(
            f"{args.env} {' '.join(args.instances)}, up to {args.max_steps} steps each, local model (server start included)"
        )
        for concurrency in (1, 2):
            wall, steps, prompt_tokens = run(args.env, args.instances, args.max_steps, concurrency, Path(tmp))
            print(
                f"concurrency {concurrency}: {steps} steps in {wall:.1f} s = {wall / max(steps, 1):.2f} s/step (prompt tokens {prompt_tokens:,})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
