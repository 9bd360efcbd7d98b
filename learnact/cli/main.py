"""``python run.py``: learn an action library, act with it, evaluate, list and swap prompts, check a PDDL domain folder.

Every user error ends in one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import os
import signal
import sys

from learnact.llm.local import stop_all_servers

from .errors import describe_user_error, one_line
from .flags import build_parser
from .prompts_cmd import prompts_command
from .report_cmd import report_command

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
        stop_all_servers()
    finally:
        os._exit(130)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "prompts":
            return prompts_command(argv[1:])
        if argv and argv[0] == "report":
            return report_command(argv[1:])
        if argv and argv[0] == "check":
            from .check_cmd import check_command  # late: loads the PDDL tools only for this command

            return check_command(argv[1:])
        args = build_parser().parse_args(argv)
        # Imported once the flags parse: `--help` and a bad flag answer without loading LangGraph and the nodes.
        from .commands import run_command

        if not args.draw:
            signal.signal(signal.SIGINT, _interrupt_now)
        return run_command(args)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - user-facing boundary
        message = describe_user_error(exc)
        if message is None:
            raise
        print(f"error: {one_line(message)}", file=sys.stderr)
        return 2
