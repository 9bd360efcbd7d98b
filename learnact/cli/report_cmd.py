"""``run.py report RUN_DIR``: the self-contained HTML report of a run folder (learnact/viz/report.py writes it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from learnact.viz.report import REPORT_NAME, write_report

from .errors import OneLineParser  # one line for a bad flag, like run.py's own


def report_command(argv: list[str]) -> int:
    parser = OneLineParser(prog="run.py report", description="Write the self-contained HTML report of a run folder.")
    parser.add_argument("run_dir", help="a run folder (runs/<run-id>)")
    parser.add_argument("-o", "--output", help=f"where to write (default RUN_DIR/{REPORT_NAME})")
    parser.add_argument("--no-graph", action="store_true", help="leave the graph picture out (faster; no graph import)")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        print(f"error: {run_dir} is not a folder; give a run folder such as runs/<run-id>", file=sys.stderr)
        return 2
    if not any(
        (run_dir / name).exists()
        for name in ("config.json", "events.jsonl", "learn_summary.json", "episodes.jsonl", "candidates")
    ):
        print(
            f"error: {run_dir} does not look like a run folder (no config.json, events.jsonl or results)",
            file=sys.stderr,
        )
        return 2
    target = Path(args.output) if args.output else run_dir / REPORT_NAME
    if not target.parent.is_dir():
        print(f"error: cannot write the report to {target}: folder {target.parent} does not exist", file=sys.stderr)
        return 2
    if not os.access(target.parent, os.W_OK | os.X_OK):  # checked before the graph picture is drawn
        print(
            f"error: cannot write the report to {target}: the folder is not writable (read-only disk or permissions)",
            file=sys.stderr,
        )
        return 2
    try:
        path = write_report(run_dir, args.output, graph_html="" if args.no_graph else None)
    except OSError as exc:  # a read-only or full disk: the run folder itself is left as it was
        print(f"error: cannot write the report to {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"report: {path}", file=sys.stderr)
    return 0
