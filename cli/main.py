"""``python run.py``: learn an action library, act with it, evaluate, list and swap prompts.

Every user error ends in one clear line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

GRAPHS = ("learn", "act", "react", "code_as_policy", "evaluate")
DEFAULT_ENV = "pddl/gripper"
# `run.py --graph learn` with no other flag: small generated gripper problems, small settings.
DEFAULT_TRAIN_GENERATED = ["gen:seed=1,balls=2", "gen:seed=2,balls=3"]
DEFAULT_TEST_GENERATED = ["gen:seed=11,balls=2", "gen:seed=12,balls=3", "gen:seed=13,balls=4"]


INTERRUPTED = "\ninterrupted: finished work is saved; continue with --resume RUN_DIR"


def _interrupt_now(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    """Ctrl-C during a graph run: stop now, as a ``kill -9`` would, but tidily.

    A KeyboardInterrupt would only reach the main thread, and LangGraph then waits for the tasks
    running on its pool to end: a whole episode, or a whole nested learning run, i.e. minutes.
    Everything finished is already on disk (checkpoints after every step, fsync'd JSONL records), and
    resuming after a hard stop is what ``--resume`` is built and tested for. So: restore the cursor
    the live view hid, stop the local model server, and exit at once with 130.
    """
    if sys.stderr.isatty():
        sys.stderr.write("\x1b[?25h")
    sys.stderr.write(INTERRUPTED + "\n")
    sys.stderr.flush()
    try:
        from llm.local import stop_all_servers

        stop_all_servers()
    finally:
        os._exit(130)


class UserError(Exception):
    """Bad input: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    from .errors import OneLineParser

    p = OneLineParser(
        prog="run.py",
        description="LearnAct as LangGraph workflows: learn actions as Python functions, then act with them.",
        epilog="Subcommands: `run.py prompts` lists templates, `run.py prompts show NODE` prints one, "
        "`run.py report RUN_DIR` writes the HTML report of a run.",
    )
    g = p.add_argument_group("what to run")
    g.add_argument("--graph", choices=GRAPHS, default="learn", help="learn (default), act, react, code_as_policy or evaluate")
    g.add_argument(
        "--env",
        help=f"environment, e.g. pddl/gripper, alfworld/put; evaluate also takes lists and pddl/*, alfworld/* "
        f"(default {DEFAULT_ENV} on generated problems)",
    )
    g.add_argument("--methods", default="act,learnact", help="evaluate: comma-separated, from act,react,reflexion,react_reflexion,code_as_policy,learnact")
    g.add_argument("--instance", action="append", help="instance name or file (repeatable, or comma-separated); act default: the test split")
    g.add_argument("--split", choices=["train", "test"], help="act on LearnAct's split (default test)")
    g.add_argument("--data-dir", help="benchmark data folder laid out like ../shared/data (default: $LEARNACT_DATA or ../shared/data)")
    g.add_argument("--draw", choices=["mermaid", "png"], help="draw the graph instead of running it")
    m = p.add_argument_group("models")
    m.add_argument("--model", help="model for both roles: local (default without OPENAI_API_KEY), an OpenAI model, or provider:model")
    m.add_argument("--agent-model", help="model that acts")
    m.add_argument("--learner-model", help="model that writes and revises actions (default: the agent's)")
    m.add_argument("--base-url", help="OpenAI-compatible server URL (vLLM, Ollama, llama.cpp)")
    m.add_argument("--model-path", help="GGUF file served locally instead of the embedded Qwen2.5-Coder-1.5B")
    m.add_argument("--agent-temperature", type=float, default=0.0)
    m.add_argument("--learner-temperature", type=float, help="default 0.7, so that the K samples differ (--protocol paper: 0)")
    m.add_argument("--seed", type=int, default=0, help="sampling seed, varied per call so parallel samples differ but a re-run repeats them (default 0)")
    m.add_argument("--max-tokens", type=int, default=None, help="reply token cap (default: 64 for the agent, 768 for the learner)")
    m.add_argument("--no-grammar", action="store_true", help="do not constrain local-model replies to one call")
    m.add_argument(
        "--valid-actions-only", action="store_true",
        help="local model: the grammar admits only the primitive calls valid in the current state (or a learned action);"
        " an experiment for small models, not the paper's setting",
    )  # fmt: skip
    m.add_argument(
        "--agent-prompt", choices=["compact", "paper"],
        help="the agent's prompt: compact (default: the state per object, the last steps, worked steps as chat turns, "
        "verified in the sandbox) or paper (the paper's: one system text with the example episode, then the transcript)",
    )
    m.add_argument("--recent-steps", type=int, help="compact prompt: how many of the agent's last steps it sees (default 3)")
    m.add_argument(
        "--untyped-grammar", action="store_true",
        help="local model: let the grammar admit any call over the offered names (default: well-typed primitive calls, "
        "minus calls refused since the state last changed, and learned calls over the object names)",
    )
    m.add_argument(
        "--resample-refused", type=int, metavar="N",
        help="an agent reply repeating a call already tried without effect in this state is sampled again, warmer, "
        "up to N times (default 2; 0 = never)",
    )
    m.add_argument("--cache", action="store_true", help="cache LLM replies on disk (re-runs are free and reproducible)")
    m.add_argument("--rps", type=float, help="rate limit: requests per second")
    m.add_argument("--timeout", type=float, help="seconds to wait for one model reply before retrying (default 120)")
    m.add_argument(
        "--max-retries", type=int,
        help="retries of a failed model request (429, 5xx, timeout, reset connection, empty or garbage reply; default 4)",
    )
    a = p.add_argument_group("acting")
    a.add_argument("--max-steps", type=int, help="agent steps per episode (act: 30 PDDL / 20 ALFWorld; learn rollouts: 10)")
    a.add_argument(
        "--history-window", type=int,
        help="history entries shown to the agent, one entry = one Action with its Observation (default 20 PDDL / 50 ALFWorld);"
        " the paper's window counts lines, 2 per entry: its 20 / 50 lines are --history-window 10 / 25 (--protocol paper)",
    )  # fmt: skip
    a.add_argument("--actions", help="learned actions: a .py file or a run folder of `--graph learn`")
    a.add_argument(
        "--runs", type=int, default=1,
        help="repeat every episode this many times; evaluate: each run of a learning method learns anew with the seed --seed + run",
    )  # fmt: skip
    l = p.add_argument_group("learning")
    l.add_argument("--train", type=int, help="number of training instances (default: the LearnAct split's 3)")
    l.add_argument("--candidates", type=int, help="K candidate action sets / revision samples (default 4)")
    l.add_argument(
        "--max-rounds", type=int,
        help="cap on revision rounds (default 3; --protocol paper: 2); Reflexion gets as many rounds of training rollouts"
        " as LearnAct, max-rounds + 1",
    )  # fmt: skip
    l.add_argument(
        "--patience", type=int,
        help="stop when the best score has not improved for this many rounds (default 1; 0: never, the paper's fixed rounds)",
    )
    l.add_argument("--score", choices=["step_correction", "call_ratio_success", "step_correction_call_ratio_success"])
    l.add_argument("--concurrency", type=int, help="parallel rollouts / episodes (default 1 with the local model, else 4)")
    from .ladder_flags import add_ladder_flags
    from .protocol import add_protocol_flags

    add_ladder_flags(p)
    add_protocol_flags(p)
    r = p.add_argument_group("outputs")
    r.add_argument("--run-dir", help="run folder (default runs/<run-id>)")
    r.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    r.add_argument("--prompts", help="folder whose <node>.md files replace the built-in templates")
    r.add_argument("--prompt", action="append", default=[], metavar="NODE=FILE", help="replace one node's template")
    r.add_argument("-v", "--verbose", action="store_true", help="print every agent step")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "prompts":
            from .prompts_cmd import prompts_command

            return prompts_command(argv[1:])
        if argv and argv[0] == "report":
            from viz.report import report_command

            return report_command(argv[1:])
        args = build_parser().parse_args(argv)
        from .commands import run_command

        if not args.draw:
            signal.signal(signal.SIGINT, _interrupt_now)
        return run_command(args)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - user-facing boundary
        from .errors import describe_user_error, one_line

        message = describe_user_error(exc)
        if message is None:
            raise
        print(f"error: {one_line(message)}", file=sys.stderr)
        return 2
