"""The evaluation table: method x task type, from episode records (pure arithmetic)."""
from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

COLUMNS = ("method", "env", "episodes", "runs", "success_mean", "success_std", "progress_mean", "steps_mean", "tokens_mean", "cost_total")


def summarize_records(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (method, env). Success is averaged per run first; the spread is the
    population standard deviation of the per-run success rates (0 with a single run)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    seen: set[str] = set()
    for rec in records:
        if rec["episode_id"] in seen:  # a record written twice (kill between write and checkpoint) counts once
            continue
        seen.add(rec["episode_id"])
        groups[(rec["method"], rec["env"])].append(rec)
    rows = []
    for (method, env), recs in sorted(groups.items()):
        per_run: dict[int, list[bool]] = defaultdict(list)
        for r in recs:
            per_run[int(r.get("run", 0))].append(bool(r["success"]))
        rates = [sum(v) / len(v) for _, v in sorted(per_run.items())]
        rows.append(
            {
                "method": method,
                "env": env,
                "episodes": len(recs),
                "runs": len(rates),
                "success_mean": statistics.fmean(rates),
                "success_std": statistics.pstdev(rates) if len(rates) > 1 else 0.0,
                "progress_mean": statistics.fmean(float(r.get("progress", 0.0)) for r in recs),
                "steps_mean": statistics.fmean(float(r.get("steps", 0)) for r in recs),
                "tokens_mean": statistics.fmean(float(r.get("tokens", 0)) for r in recs),
                "cost_total": sum(float(r["cost"]) for r in recs if r.get("cost") is not None),
            }
        )
    return rows


def to_markdown(rows: list[dict[str, Any]]) -> str:
    header = "| method | task | episodes | success (mean ± sd over runs) | progress | steps | tokens/episode | cost |"
    lines = [header, "|" + "---|" * 8]
    for r in rows:
        progress = f"{r['progress_mean']:.3f}" if r["env"].startswith("pddl/") else "-"
        lines.append(
            f"| {r['method']} | {r['env']} | {r['episodes']} | {r['success_mean']:.3f} ± {r['success_std']:.3f} | "
            f"{progress} | {r['steps_mean']:.1f} | {r['tokens_mean']:.0f} | ${r['cost_total']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r[k] for k in COLUMNS})
    return buf.getvalue()
