"""Does learning lift the agent? Held-out success of each method on a domain's difficulty ladder.

    python benchmarks/bench_learning_gain.py                       # gripper ladder sizes 1-3, act vs learnact, 3 runs
    python benchmarks/bench_learning_gain.py --env pddl/blockworld --sizes 2-4
    python benchmarks/bench_learning_gain.py --methods act,learnact,react,reflexion,code_as_policy --runs 3
    python benchmarks/bench_learning_gain.py --library benchmarks/libraries/gripper.py   # + Act with a hand-written library

It runs the project's own evaluation (``run.py --graph evaluate --ladder ...``, the embedded model by
default): each run of a learning method learns anew on the ladder's training instances with its own
seed, then every method acts on the held-out test instances (``--test-seeds``, default 1000-9999;
training seeds are 1-999). With ``--library FILE`` it also runs Act with that library on the same
test instances (the "does the agent use what it is given" check). It prints one table: success and
progress as mean ± sd over runs, per method and per size, learned calls made and failed, and wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def mean_sd(values: list[float]) -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.0f} ± {100 * sd:.0f}"


def read_records(run_dir: Path) -> list[dict]:
    path = run_dir / "episodes.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line torn by a kill
    return out


def run(cmd: list[str]) -> float:
    print("$ " + " ".join(cmd), flush=True)
    start = time.time()
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"the command above failed with exit code {proc.returncode}")
    return time.time() - start


def table(records: list[dict], walls: dict[str, float]) -> str:
    """Rows per method: success and progress (mean ± sd over runs), per size, learned calls, wall time."""
    from environments.pddl.ladder import instance_size

    by: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    sizes: set = set()
    for r in records:
        by[r["method"]][int(r.get("run", 0))].append(r)
        sizes.add(instance_size(r["env"], r["instance"]))
    sizes_sorted = sorted(s for s in sizes if s is not None)
    head = [
        "method",
        "success %",
        "progress %",
        *[f"size {s}" for s in sizes_sorted],
        "learned calls (failed)",
        "episodes",
        "wall s",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, runs in by.items():
        per_run = [statistics.mean(float(r["success"]) for r in rs) for rs in runs.values()]
        prog = [statistics.mean(float(r["progress"]) for r in rs) for rs in runs.values()]
        per_size = []
        for s in sizes_sorted:
            vals = [
                statistics.mean(float(r["success"]) for r in rs if instance_size(r["env"], r["instance"]) == s)
                for rs in runs.values()
                if any(instance_size(r["env"], r["instance"]) == s for r in rs)
            ]
            per_size.append(mean_sd(vals))
        calls = sum(r.get("learned_calls", 0) for rs in runs.values() for r in rs)
        failed = sum(r.get("failed_learned_calls", 0) for rs in runs.values() for r in rs)
        n = sum(len(rs) for rs in runs.values())
        lines.append(
            "| "
            + " | ".join(
                [
                    method,
                    mean_sd(per_run),
                    mean_sd(prog),
                    *per_size,
                    f"{calls} ({failed})",
                    str(n),
                    f"{walls.get(method, walls.get('evaluate', 0)):.0f}",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="pddl/gripper")
    p.add_argument("--methods", default="act,learnact")
    p.add_argument("--sizes", default="1-3")
    p.add_argument("--per-size", type=int, default=2, help="held-out test instances per size")
    p.add_argument("--test-seeds", default="1000-9999")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--max-steps", type=int, default=20, help="agent steps per test episode")
    p.add_argument("--library", help="also run Act with this hand-written library (.py) on the test instances")
    p.add_argument("--out", default=None, help="folder for the run folders (default runs/bench_gain_<time>)")
    p.add_argument("extra", nargs="*", help="more run.py flags after --, e.g. -- --model gpt-4o-mini")
    args = p.parse_args()
    out = Path(args.out or ROOT / "runs" / f"bench_gain_{time.strftime('%Y%m%d-%H%M%S')}")
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    ladder = [
        "--env",
        args.env,
        "--ladder",
        "--sizes",
        args.sizes,
        "--per-size",
        str(args.per_size),
        "--test-seeds",
        args.test_seeds,
        "--max-steps",
        str(args.max_steps),
        *args.extra,
    ]
    walls: dict[str, float] = {}
    records: list[dict] = []
    walls["evaluate"] = run(
        [
            py,
            "run.py",
            "--graph",
            "evaluate",
            "--methods",
            args.methods,
            "--runs",
            str(args.runs),
            *ladder,
            "--run-dir",
            str(out / "evaluate"),
        ]
    )
    records += read_records(out / "evaluate")
    if args.library:
        lib_dir = out / "act_library"
        walls["act+library"] = run(
            [py, "run.py", "--graph", "act", "--actions", args.library, *ladder, "--run-dir", str(lib_dir)]
        )
        records += [{**r, "method": "act+library"} for r in read_records(lib_dir)]
    print(
        f"\n{args.env}, ladder sizes {args.sizes}, {args.per_size} held-out instance(s) per size "
        f"(test seeds {args.test_seeds}), {args.runs} run(s), {args.max_steps} steps; success over runs, mean ± sd\n"
    )
    print(table(records, walls))
    print(f"\nrun folders: {out}")


if __name__ == "__main__":
    main()
