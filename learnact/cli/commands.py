"""What ``run.py --graph ...`` does: resolve the settings, open the run folder, run the graph, report."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from learnact.llm.errors import ServerError
from learnact.llm.usage import UsageTracker
from learnact.viz.draw import draw_graph
from learnact.viz.report import write_report
from prompts import PromptSet

from .act_cmd import run_act
from .errors import UserError
from .evaluate_cmd import run_evaluate
from .inputs import check_inputs
from .learn_cmd import run_learn
from .resolve import executor_settings, resolve_settings
from .runs import RunDir, new_run_id
from .session import open_models, open_workers


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
            raise UserError(
                f"{args.resume} is a run of --graph {settings.get('graph')}; resume it with --graph {settings.get('graph')}"
            )
        run.check_resumable(needs_checkpoint=settings["graph"] == "learn")
        check_inputs(settings)
        if getattr(args, "executor", None) or getattr(args, "ray_address", None):
            settings.update(executor_settings(args))  # where the rest runs may change; what it computes does not
        return run, settings
    settings = resolve_settings(args)
    check_inputs(settings)
    settings["prompt_hashes"] = PromptSet(
        settings["prompts"]["dir"], settings["prompts"]["overrides"], prompt_set=settings.get("prompt_set", "default")
    ).fingerprint()
    run = RunDir(args.run_dir or Path("runs") / new_run_id(settings["graph"], settings["env"]))
    if (run.path / "config.json").exists():
        raise UserError(
            f"{run.path} already holds a run; continue it with --resume {run.path} or choose another --run-dir"
        )
    run.create(settings)
    return run, settings


def _run_graph(
    settings: dict[str, Any], run: RunDir, models: dict, usage, args: argparse.Namespace, workers=None
) -> int:
    if settings["graph"] == "learn":
        return run_learn(settings, run, models, usage, resume=bool(args.resume), verbose=args.verbose, workers=workers)
    if settings["graph"] == "evaluate":
        return run_evaluate(settings, run, models, usage, verbose=args.verbose, workers=workers)
    return run_act(settings, run, models, usage, verbose=args.verbose, method=settings["graph"], workers=workers)


def run_command(args: argparse.Namespace) -> int:
    if args.draw:
        return draw(args)
    run, settings = open_run(args)
    print(f"run folder: {run.path}", file=sys.stderr)
    usage = UsageTracker()
    t0 = time.monotonic()
    try:
        with (
            open_models(settings, run, retries=usage.retries) as (models, server),
            open_workers(settings, server) as workers,
        ):
            code = _run_graph(settings, run, models, usage, args, workers)
            if server is not None:
                with contextlib.suppress(Exception):
                    print(f"local model server memory: {server.rss_mb():.0f} MB", file=sys.stderr)
    except ServerError as exc:
        # The model server failed past every retry: stop now, say how to go on. What finished is on disk
        # (episodes, rollouts, checkpoints); usage.json keeps what was spent and retried until here.
        with contextlib.suppress(OSError):
            run.write_json("usage.json", usage.summary())
        raise type(exc)(
            f"{exc}; the work finished so far is saved: continue with python run.py --graph {settings['graph']} --resume {run.path}"
        ) from exc
    finish(run, usage, t0)
    return code


def finish(run: RunDir, usage: UsageTracker, t0: float) -> None:
    """usage.json, the HTML report, and one line of totals."""
    summary = usage.summary()
    run.write_json("usage.json", summary)
    try:
        print(f"report: {write_report(run.path)}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - a report problem must not fail a finished run
        print(
            f"warning: the HTML report could not be written ({exc}); try: python run.py report {run.path}",
            file=sys.stderr,
        )
    if summary.get("retries"):
        retried = ", ".join(f"{kind} {n}" for kind, n in summary["retries"].items())
        print(f"model requests retried: {sum(summary['retries'].values())} ({retried})", file=sys.stderr)
    total = usage.totals()
    print(
        f"done in {time.monotonic() - t0:.0f}s; tokens {total.get('total_tokens', 0):,} "
        f"(prompt {total.get('prompt_tokens', 0):,}, completion {total.get('completion_tokens', 0):,}), cost {_money(total.get('cost'))}; "
        f"results in {run.path}",
        file=sys.stderr,
    )
