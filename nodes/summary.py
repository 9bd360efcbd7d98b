"""The evaluation table: method x task type, from episode records (pure arithmetic)."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .records import EpisodeRecord

COLUMNS = (
    "method",
    "env",
    "episodes",
    "runs",
    "success_mean",
    "success_std",
    "progress_mean",
    "steps_mean",
    "tokens_mean",
    "cost_total",
    "learning_note",
    "learning_stop",
)


def summarize_records(
    records: Iterable[EpisodeRecord], learning: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One row per (method, env). Success is averaged per run first; the spread is the
    population standard deviation of the per-run success rates (0 with a single run).
    ``learning`` (the evaluation's learning outcomes, see :func:`learning_notes`) annotates the rows of
    methods that learn: which runs ended with no library, and why each learning run stopped."""
    notes = learning_notes(learning or {})
    groups: dict[tuple[str, str], list[EpisodeRecord]] = defaultdict(list)
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
                **notes.get((method, env), {"learning_note": "", "learning_stop": ""}),
            }
        )
    return rows


def learning_notes(learning: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, str]]:
    """(method, env) -> ``learning_note`` (``no library in run 2``: LearnAct then acted with primitives only,
    i.e. as Act) and ``learning_stop`` (each learning run's stop reason, ``run 0: plateau; run 1: ...``)."""
    by_row: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for outcome in learning.values():
        by_row[(outcome["method"], outcome["env"])].append(outcome)
    out = {}
    for row, outcomes in by_row.items():
        outcomes.sort(key=lambda o: int(o.get("run", 0)))
        empty = [str(o.get("run", 0)) for o in outcomes if o.get("library") is False]
        note = f"no library in run{'s' if len(empty) > 1 else ''} {', '.join(empty)}" if empty else ""
        stops = [str(o.get("stop_reason") or "?") for o in outcomes]
        if len(outcomes) > 1:
            stops = [f"run {o.get('run', 0)}: {stop}" for o, stop in zip(outcomes, stops)]
        out[row] = {"learning_note": note, "learning_stop": "; ".join(stops)}
    return out


def method_label(row: dict[str, Any]) -> str:
    """``learnact``, or ``learnact (no library in run 2)`` when a learning run left it acting as Act."""
    note = row.get("learning_note")
    return f"{row['method']} ({note})" if note else str(row["method"])


def to_markdown(rows: list[dict[str, Any]]) -> str:
    learned = any(r.get("learning_stop") for r in rows)  # a column for the learning runs' stop reasons
    header = "| method | task | episodes | success (mean ± sd over runs) | progress | steps | tokens/episode | cost |"
    lines = [header + (" learning stopped |" if learned else ""), "|" + "---|" * (9 if learned else 8)]
    for r in rows:
        progress = "-" if r["env"].startswith("alfworld/") else f"{r['progress_mean']:.3f}"  # ALFWorld's is success
        lines.append(
            f"| {method_label(r)} | {r['env']} | {r['episodes']} | {r['success_mean']:.3f} ± {r['success_std']:.3f} | "
            f"{progress} | {r['steps_mean']:.1f} | {r['tokens_mean']:.0f} | ${r['cost_total']:.4f} |"
            + (f" {r.get('learning_stop') or '-'} |" if learned else "")
        )
    return "\n".join(lines) + "\n"


def _csv(rows: list[dict[str, Any]], columns) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r.get(k, "") for k in columns})
    return buf.getvalue()


def to_csv(rows: list[dict[str, Any]]) -> str:
    return _csv(rows, COLUMNS)


# ------------------------------------------------------------------ per size (the difficulty ladder)
SIZE_COLUMNS = ("method", "env", "size", "episodes", "runs", "success_mean", "success_std", "progress_mean")


def summarize_by_size(
    records: Iterable[EpisodeRecord], size_of: Callable[[str, str], int | None]
) -> list[dict[str, Any]]:
    """One row per (method, env, size), sorted by env, method, size; ``size_of(env, instance)`` gives an
    instance's size (:func:`environments.pddl.ladder.instance_size`), None leaves the episode out.
    Success is averaged per run first, as in :func:`summarize_records`."""
    groups: dict[tuple[str, str, int], list[EpisodeRecord]] = defaultdict(list)
    seen: set[str] = set()
    for rec in records:
        if rec["episode_id"] in seen:
            continue
        seen.add(rec["episode_id"])
        size = size_of(rec["env"], rec.get("instance", ""))
        if size is not None:
            groups[(rec["env"], rec["method"], int(size))].append(rec)
    rows = []
    for (env, method, size), recs in sorted(groups.items()):
        per_run: dict[int, list[bool]] = defaultdict(list)
        for r in recs:
            per_run[int(r.get("run", 0))].append(bool(r["success"]))
        rates = [sum(v) / len(v) for _, v in sorted(per_run.items())]
        rows.append(
            {
                "method": method,
                "env": env,
                "size": size,
                "episodes": len(recs),
                "runs": len(rates),
                "success_mean": statistics.fmean(rates),
                "success_std": statistics.pstdev(rates) if len(rates) > 1 else 0.0,
                "progress_mean": statistics.fmean(float(r.get("progress", 0.0)) for r in recs),
            }
        )
    return rows


def several_sizes(rows: list[dict[str, Any]]) -> bool:
    """Does some task have episodes of more than one size? (Otherwise the per-size view repeats the main table.)"""
    sizes: dict[str, set] = defaultdict(set)
    for r in rows:
        sizes[str(r["env"])].add(str(r["size"]))
    return any(len(v) > 1 for v in sizes.values())


def size_markdown(rows: list[dict[str, Any]]) -> str:
    """Per task and size, one column per method: ``success mean ± sd (progress)``; "" unless some task
    has several sizes."""
    if not several_sizes(rows):
        return ""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    cells = {(r["env"], r["size"], r["method"]): r for r in rows}
    lines = [
        "Per size (cells: success mean ± sd over runs, (progress)):",
        "",
        "| task | size | " + " | ".join(methods) + " |",
        "|" + "---|" * (2 + len(methods)),
    ]
    for env, size in sorted({(r["env"], r["size"]) for r in rows}):
        parts = []
        for m in methods:
            r = cells.get((env, size, m))
            parts.append(
                "-" if r is None else f"{r['success_mean']:.2f} ± {r['success_std']:.2f} ({r['progress_mean']:.2f})"
            )
        lines.append(f"| {env} | {size} | " + " | ".join(parts) + " |")
    return "\n".join(lines) + "\n"


def size_csv(rows: list[dict[str, Any]]) -> str:
    return _csv(rows, SIZE_COLUMNS)
