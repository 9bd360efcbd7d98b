#!/usr/bin/env python
"""Compare methods on LearnAct's test splits with one model, and print the figures.

    python benchmarks/bench_methods.py --methods act,learnact --env pddl/gripper,pddl/blockworld

Runs ``run.py --graph evaluate`` (resumable: re-run the same command with the same --run-dir to
continue), then (after run.py's summary table) prints seconds per agent step and per episode and learning cost, read
from the run folder. Any run.py flag after ``--`` is passed through (e.g. ``-- --max-steps 15``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", default="act,learnact")
    p.add_argument("--env", default="pddl/gripper,pddl/blockworld")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--run-dir", default=str(ROOT / "runs" / "bench-methods"))
    p.add_argument("rest", nargs=argparse.REMAINDER, help="extra run.py flags after --")
    args = p.parse_args()
    run_dir = Path(args.run_dir)
    cmd = [
        sys.executable,
        str(ROOT / "run.py"),
        "--graph",
        "evaluate",
        "--methods",
        args.methods,
        "--env",
        args.env,
        "--runs",
        str(args.runs),
    ]
    cmd += ["--resume", str(run_dir)] if (run_dir / "config.json").exists() else ["--run-dir", str(run_dir)]
    cmd += [a for a in args.rest if a != "--"]
    print("$", " ".join(cmd), file=sys.stderr)
    code = subprocess.call(cmd, cwd=ROOT)
    if code:
        return code
    report(run_dir)
    return 0


def report(run_dir: Path) -> None:
    """Seconds per agent step per method, and learning wall time/tokens, from the run folder."""
    records = [json.loads(l) for l in (run_dir / "episodes.jsonl").read_text().splitlines() if l.strip()]
    # run.py has printed the summary table already; add what it does not show.
    by_method: dict[str, list[dict]] = {}
    for r in records:
        by_method.setdefault(r["method"], []).append(r)
    for method, recs in sorted(by_method.items()):
        steps = sum(r["steps"] for r in recs)
        secs = sum(r.get("elapsed_s") or 0.0 for r in recs)
        print(
            f"{method}: {len(recs)} episodes, {steps} agent steps, {secs / max(steps, 1):.2f} s/step,"
            f" {secs / max(len(recs), 1):.1f} s/episode, tokens {sum(r['tokens'] for r in recs):,}"
        )
    for folder in sorted((run_dir / "learning").glob("*")) if (run_dir / "learning").is_dir() else []:
        cost_file = folder / "learning_cost.json"
        cost = json.loads(cost_file.read_text()) if cost_file.exists() else {}
        print(
            f"learning {folder.name}: wall {cost.get('wall_s', '?')} s, tokens {cost.get('total_tokens', 0):,}"
            f" (prompt {cost.get('prompt_tokens', 0):,}, completion {cost.get('completion_tokens', 0):,}), {cost.get('calls', '?')} LLM calls"
            + (f" over {cost['processes']} processes" if cost.get("processes", 1) > 1 else "")
            + ("" if cost else " (no learning_cost.json: learning not run in this folder)")
        )


if __name__ == "__main__":
    sys.exit(main())
