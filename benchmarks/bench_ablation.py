#!/usr/bin/env python
"""LearnAct's ablations: held-out success and learning cost per variant, on the gripper difficulty ladder.

    python benchmarks/bench_ablation.py                         # embedded model, sizes 1-3, 1 instance per size, 1 run
    python benchmarks/bench_ablation.py --runs 3 --per-size 3 --variants default,revision-update
    python benchmarks/bench_ablation.py --model gpt-4o-mini -- --concurrency 8
    python benchmarks/bench_ablation.py --small --runs 2     # base K=2, 2 rounds (make learn's sizes)

Each variant is one ``run.py --graph evaluate --methods learnact`` in its own folder under ``--run-dir``
(resumable: the same command continues where it stopped). A variant whose settings equal an earlier
one's (``candidates-4`` is the default's K) is not run twice. The table: held-out success (mean ± sd
over runs, each run learning anew), then the learning cost summed over runs: tokens, wall time and
LLM calls, and how each learning run stopped. Any run.py flag after ``--`` is passed through.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = {
    "default": [],
    "revision-update": ["--revision", "update"],
    "revision-plan": ["--revision", "plan"],
    "no-demonstration": ["--no-demonstration"],
    "candidates-2": ["--candidates", "2"],
    "candidates-4": ["--candidates", "4"],
    "max-rounds-1": ["--max-rounds", "1"],
    "max-rounds-2": ["--max-rounds", "2"],
}
# Settings that do not change what a variant computes (where it runs, what it is called).
IRRELEVANT = ("run_dir", "prompt_hashes", "versions", "created", "protocol_departures")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="local", help="model for both roles (default: the embedded local model)")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)}")
    p.add_argument("--sizes", default="1-3", help="ladder sizes (gripper balls), e.g. 1-3 (default)")
    p.add_argument("--per-size", type=int, default=1, help="ladder instances per size, training and test (default 1)")
    p.add_argument("--runs", type=int, default=1, help="runs per variant; each learns anew (default 1)")
    p.add_argument("--run-dir", default=str(ROOT / "runs" / "bench-ablation"), help="one sub-folder per variant")
    p.add_argument(
        "--small",
        action="store_true",
        help="base every variant on make learn's small run (2 candidates, 2 rounds) instead of the protocol's 4 and 3",
    )
    p.add_argument("rest", nargs=argparse.REMAINDER, help="extra run.py flags after --")
    args = p.parse_args()
    unknown = [v for v in args.variants.split(",") if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    return args


def run_py_args(args: argparse.Namespace, variant: str) -> list[str]:
    extra = [a for a in args.rest if a != "--"]
    base = ["--candidates", "2", "--max-rounds", "2"] if args.small else []  # a variant's own flags come later and win
    return [
        "--graph",
        "evaluate",
        "--methods",
        "learnact",
        "--env",
        "pddl/gripper",
        "--ladder",
        "--sizes",
        args.sizes,
        "--per-size",
        str(args.per_size),
        "--runs",
        str(args.runs),
        "--model",
        args.model,
        *base,
        *VARIANTS[variant],
        *extra,
    ]


def resolved(argv: list[str]) -> dict:
    """The settings run.py would record for ``argv`` (no model is started), minus where-and-when keys."""
    from learnact.cli.flags import build_parser
    from learnact.cli.resolve import resolve_settings

    settings = resolve_settings(build_parser().parse_args(argv))
    return {k: v for k, v in settings.items() if k not in IRRELEVANT}


def run_variant(args: argparse.Namespace, variant: str, folder: Path) -> int:
    cmd = [sys.executable, str(ROOT / "run.py"), *run_py_args(args, variant)]
    cmd += ["--resume", str(folder)] if (folder / "config.json").exists() else ["--run-dir", str(folder)]
    print("$", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.call(cmd, cwd=ROOT, stdout=sys.stderr)  # stdout keeps only the ablation table


def results(folder: Path) -> dict:
    """Held-out success of the learnact row and the learning cost over all learning runs of the folder."""
    rows = list(csv.DictReader((folder / "summary.csv").open())) if (folder / "summary.csv").is_file() else []
    row = next((r for r in rows if r["method"] == "learnact"), {})
    cost = {"tokens": 0, "wall_s": 0.0, "calls": 0}
    for cost_file in sorted(folder.glob("learning/learnact-*/learning_cost.json")):
        data = json.loads(cost_file.read_text())
        cost["tokens"] += int(data.get("total_tokens", 0))
        cost["wall_s"] += float(data.get("wall_s", 0.0))
        cost["calls"] += int(data.get("calls", 0))
    return {
        **cost,
        "success": row.get("success_mean"),
        "sd": row.get("success_std"),
        "episodes": row.get("episodes", 0),
        "stop": row.get("learning_stop", ""),
        "note": row.get("learning_note", ""),
    }


def table(lines: list[tuple[str, str, dict]]) -> str:
    out = [
        "| variant | flags | held-out success (mean ± sd over runs) | episodes | learning tokens | learning wall s | learner+agent calls | learning stopped |",
        "|" + "---|" * 8,
    ]
    for name, flags, r in lines:
        success = "n/a" if r["success"] is None else f"{float(r['success']):.3f} ± {float(r['sd']):.3f}"
        note = f" ({r['note']})" if r["note"] else ""
        out.append(
            f"| {name}{note} | {flags or '-'} | {success} | {r['episodes']} | {r['tokens']:,} | {r['wall_s']:.0f} | {r['calls']} | {r['stop'] or '-'} |"
        )
    return "\n".join(out)


def main() -> int:
    args = parse_args()
    base = Path(args.run_dir)
    done: dict[str, tuple[dict, Path]] = {}  # variant -> (settings, folder)
    lines = []
    for variant in args.variants.split(","):
        settings = resolved(run_py_args(args, variant))
        same = next((name for name, (s, _) in done.items() if s == settings), None)
        folder = done[same][1] if same else base / variant
        if same:
            print(f"{variant}: the same settings as {same}; not run again", file=sys.stderr)
        else:
            code = run_variant(args, variant, folder)
            if code:
                print(f"{variant}: run.py exited with {code}", file=sys.stderr)
                return code
        done[variant] = (settings, folder)
        flags = " ".join(VARIANTS[variant]) + (f" (= {same})" if same else "")
        lines.append((variant, flags, results(folder)))
    base = " (base: 2 candidates, 2 rounds)" if args.small else ""
    print(
        f"LearnAct ablations on pddl/gripper, ladder sizes {args.sizes}, {args.per_size} per size, {args.runs} run(s), model {args.model}{base}:"
    )
    print(table(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
