"""The parent's handle on one sandbox worker process: spawn, framed JSON messages, deadlines, kill."""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .results import Limits

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
MEMORY_EXIT = 86  # the worker's exit code when MemoryError escaped its own code
_HEADER = struct.Struct(">I")
STARTUP_TIMEOUT_S = 30.0


class WorkerTimeout(Exception):
    """No message before the deadline."""


class WorkerDied(Exception):
    """The worker exited, closed its pipe or broke the protocol."""

    def __init__(self, message: str, kind: str = "worker_crash") -> None:
        super().__init__(message)
        self.kind = kind


class WorkerProcess:
    """One ``python -I -S _worker.py`` child (isolated mode: no site, no env vars, no cwd on sys.path)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.max_message = 4 * limits.output_chars + 1_000_000
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(WORKER_SCRIPT), json.dumps(asdict(limits))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,
            bufsize=0,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._w = self.proc.stdin.fileno()
        self._r = self.proc.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._r, select.POLLIN | select.POLLHUP | select.POLLERR)
        msg = self.recv(STARTUP_TIMEOUT_S)
        if msg.get("op") != "ready":
            self.kill()
            raise WorkerDied(f"the sandbox worker did not start properly: {msg!r}")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        data = memoryview(_HEADER.pack(len(body)) + body)
        try:
            while data:
                n = os.write(self._w, data)
                data = data[n:]
        except OSError as exc:
            raise self._death(f"the worker's pipe closed ({exc})") from None

    def _read_exact(self, n: int, deadline: float) -> bytes:
        chunks, left = [], n
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll.poll(remaining * 1000):
                raise WorkerTimeout()
            chunk = os.read(self._r, left)
            if not chunk:
                raise self._death("the worker exited")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def recv(self, timeout_s: float) -> dict:
        deadline = time.monotonic() + max(0.0, timeout_s)
        (n,) = _HEADER.unpack(self._read_exact(_HEADER.size, deadline))
        if n > self.max_message:
            self.kill()
            raise WorkerDied(f"the worker sent a {n}-byte message (limit {self.max_message})", kind="output_limit")
        try:
            msg = json.loads(self._read_exact(n, deadline))
        except ValueError:
            self.kill()
            raise WorkerDied("the worker sent a malformed message") from None
        if not isinstance(msg, dict):
            self.kill()
            raise WorkerDied("the worker sent a malformed message")
        return msg

    def _death(self, what: str) -> WorkerDied:
        code = self.proc.wait(timeout=5) if self.proc.poll() is None else self.proc.returncode
        if code == -signal.SIGXCPU:
            return WorkerDied(f"{what}: CPU time limit", kind="timeout")
        if code == MEMORY_EXIT:
            return WorkerDied(f"{what}: out of memory", kind="memory")
        return WorkerDied(f"{what} (exit code {code})")

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
