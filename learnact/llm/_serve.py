"""Entry point of the local model server process: ``python -m llm._serve PARENT_PID <llama_cpp.server args>``.

The server must never outlive the program that started it. ``LocalServer`` already asks the kernel
for SIGKILL on parent death (PR_SET_PDEATHSIG), but that signal fires when the *thread* that spawned
the child exits, and it is lost if the parent dies between fork and prctl. A watchdog thread that
polls the parent pid covers both holes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time


def _watch_parent(parent_pid: int, period_s: float = 0.5) -> None:
    while True:
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(period_s)


def main() -> None:
    parent_pid = int(sys.argv[1])
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watchdog").start()
    from llama_cpp.server.__main__ import main as serve

    sys.argv = ["llama_cpp.server", *sys.argv[2:]]
    serve()


if __name__ == "__main__":
    main()
