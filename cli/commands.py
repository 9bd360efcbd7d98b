"""What ``run.py --graph ...`` does: resolve the settings, open the run folder, run the graph, report."""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from llm.usage import UsageTracker
from prompts import PromptSet
from viz.draw import draw_graph
from viz.report import write_report

from .act_cmd import run_act
from .errors import UserError
from .evaluate_cmd import run_evaluate
from .learn_cmd import run_learn
from .resolve import check_inputs, resolve_settings
from .runs import RunDir, new_run_id
from .session import open_models


def draw(args: argparse.Namespace) -> int:
    print(draw_graph(args.graph, args.draw, Path(args.run_dir or ".")))
    return 0


def _money(cost) -> str:
    return "n/a (no price known for this model)" if cost is None else f"${cost:.4f}"


def open_run(args: argparse.Namespace) -> tuple[RunDir, dict[str, Any]]:
    """The run folder and its settings: a resumed run's from its config.json, a new run's resolved from
    the flags and written there. Every input is checked before anything starts."""
    if args.resume:
        run = RunDir(args.resume)
        settings = run.load_config()
        if settings.get("graph") != args.graph and "--graph" in sys.argv:
            raise UserError(f"{args.resume} is a run of --graph {settings.get('graph')}; resume it with --graph {settings.get('graph')}")
        run.check_resumable(needs_checkpoint=settings["graph"] == "learn")
        check_inputs(settings)
        return run, settings
    settings = resolve_settings(args)
    check_inputs(settings)
    settings["prompt_hashes"] = PromptSet(settings["prompts"]["dir"], settings["prompts"]["overrides"]).fingerprint()
    run = RunDir(args.run_dir or Path("runs") / new_run_id(settings["graph"], settings["env"]))
    if (run.path / "config.json").exists():
        raise UserError(f"{run.path} already holds a run; continue it with --resume {run.path} or choose another --run-dir")
    run.create(settings)
    return run, settings


def run_command(args: argparse.Namespace) -> int:
    if args.draw:
        return draw(args)
    run, settings = open_run(args)
    print(f"run folder: {run.path}", file=sys.stderr)
    usage = UsageTracker()
    t0 = time.monotonic()
    with open_models(settings, run) as (models, server):
        if settings["graph"] == "learn":
            code = run_learn(settings, run, models, usage, resume=bool(args.resume), verbose=args.verbose)
        elif settings["graph"] == "evaluate":
            code = run_evaluate(settings, run, models, usage, verbose=args.verbose)
        else:
            code = run_act(settings, run, models, usage, verbose=args.verbose, method=settings["graph"])
        if server is not None:
            with contextlib.suppress(Exception):
                print(f"local model server memory: {server.rss_mb():.0f} MB", file=sys.stderr)
    finish(run, usage, t0)
    return code


def finish(run: RunDir, usage: UsageTracker, t0: float) -> None:
    """usage.json, the HTML report, and one line of totals."""
    run.write_json("usage.json", usage.summary())
    try:
        print(f"report: {write_report(run.path)}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - a report problem must not fail a finished run
        print(f"warning: the HTML report could not be written ({exc}); try: python run.py report {run.path}", file=sys.stderr)
    total = usage.totals()
    print(
        f"done in {time.monotonic() - t0:.0f}s; tokens {total.get('total_tokens', 0):,} "
        f"(prompt {total.get('prompt_tokens', 0):,}, completion {total.get('completion_tokens', 0):,}), cost {_money(total.get('cost'))}; "
        f"results in {run.path}",
        file=sys.stderr,
    )
