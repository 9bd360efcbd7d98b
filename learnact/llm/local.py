"""The embedded local model served with llama.cpp (its file: `learnact/llm/model_file.py`; its build: `learnact/llm/runtime_build.py`).

``LocalServer`` starts ``llama_cpp.server`` on 127.0.0.1 (a free port) in its own process group and
guarantees it does not outlive this program: ``stop()`` on context exit, at interpreter exit, on
SIGTERM, and in the child a kernel parent-death signal plus a parent watchdog (``learnact/llm/_serve.py``)
for SIGKILL of the parent. The llama-cpp-python ``--cache`` RAM cache stays off: it grew without
bound (23 GB) here; the server reuses the prompt prefix of consecutive requests by itself.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Sequence
from pathlib import Path

from .errors import SIGILL_MESSAGE, LocalModelError, LocalRuntimeCrash, crash_reason
from .model_file import (  # noqa: F401 - re-exported: the model file is part of what a LocalServer serves
    CHECK_PROMPT,
    EMBEDDED,
    INSTALL_HINT,
    EmbeddedModel,
    assemble_parts,
    default_cache_dir,
    ensure_model_file,
    find_part_files,
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_live_servers: weakref.WeakSet[LocalServer] = weakref.WeakSet()
_sigterm_installed = False


def stop_all_servers() -> None:
    for server in list(_live_servers):
        server.stop()


def revive(base_url: str | None) -> bool:
    """Restart the embedded server at ``base_url`` if its process died (killed, out of memory) and wait
    until it answers; True when a server of this process answers there again, False when there is none
    (never started here, or stopped on purpose: ``stop()`` forgets it)."""
    if not base_url:
        return False
    for server in list(_live_servers):
        if server.port is None or server.base_url != base_url.rstrip("/"):
            continue
        with server._lock:
            dead = server.proc is not None and server.proc.poll() is not None
            code = server.proc.returncode if dead and server.proc is not None else None
        if dead:
            if code == -signal.SIGILL:  # a runtime built for another CPU dies again at once: say why, no restart
                raise LocalRuntimeCrash(SIGILL_MESSAGE)
            # Any other death (killed, out of memory, a crash): start again; a crash that repeats on the
            # start-up prompt is then told in one line by start() itself.
            print(
                f"the local model server died (exit code {code}); restarting it on port {server.port} ...",
                file=sys.stderr,
                flush=True,
            )
        server.start()  # a no-op while it runs (another thread restarted it); waits until it answers
        server._wait_healthy()
        return True
    return False


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    stop_all_servers()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _install_sigterm_handler() -> None:
    """Stop servers on SIGTERM, but only where nobody else handles SIGTERM (and only from the main thread)."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_sigterm)
    _sigterm_installed = True


atexit.register(stop_all_servers)


class LocalServer:
    """``llama_cpp.server`` for one GGUF on 127.0.0.1; a context manager.

    ``model_path`` replaces the embedded model. ``.base_url`` is the OpenAI-compatible ``/v1`` URL.
    """

    MODEL_ALIAS = "local"

    def __init__(
        self,
        model_path: str | None = None,
        port: int | None = None,
        n_ctx: int = 4096,
        n_threads: int = 2,
        *,
        n_batch: int = 512,
        n_threads_batch: int | None = None,
        startup_timeout_s: float = 180,
        cache_dir: str | None = None,
        extra_args: Sequence[str] = (),
    ):
        self.model_path = model_path
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_threads_batch = n_threads_batch or n_threads
        self.n_batch = n_batch
        self.startup_timeout_s = startup_timeout_s
        self.cache_dir = cache_dir
        self.extra_args = list(extra_args)
        if any(a.strip("-") == "cache" for a in self.extra_args):
            raise LocalModelError("the llama.cpp --cache RAM cache grows without bound; it is not allowed here")
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------

    def resolve_model_path(self) -> Path:
        if self.model_path:
            path = Path(self.model_path).expanduser()
            if not path.is_file():
                raise LocalModelError(f"--model-path {self.model_path}: no such file")
            return path
        return ensure_model_file(self.cache_dir)

    def command(self, model_file: Path, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "learnact.llm._serve",
            str(os.getpid()),
            "--model",
            str(model_file),
            "--model_alias",
            self.MODEL_ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.n_threads),
            "--n_threads_batch",
            str(self.n_threads_batch),
            "--n_batch",
            str(self.n_batch),
            *self.extra_args,
        ]

    def start(self) -> LocalServer:
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                return self
            try:
                import llama_cpp  # noqa: F401 - only to fail early with a clear message
            except ImportError as exc:
                raise LocalModelError(f"llama-cpp-python is not installed ({exc}): {INSTALL_HINT}") from exc
            model_file = self.resolve_model_path()
            self.resolved_model_file = model_file
            port = self.port or free_port()
            if os.environ.get("LEARNACT_SERVER_LOG"):  # where a benchmark (or a user) wants llama.cpp's log
                self.log_path = Path(os.environ["LEARNACT_SERVER_LOG"])
                fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            else:
                fd, log_name = tempfile.mkstemp(prefix="learnact-llama-server-", suffix=".log")
                self.log_path = Path(log_name)
            env = dict(os.environ)
            # OpenMP threads spin-wait by default; when another process holds one of the 2 cores, that made
            # generation ~20x slower here (1 tok/s instead of 20). Passive waiting keeps it at full speed.
            env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            env.setdefault("MALLOC_ARENA_MAX", "2")  # fewer glibc arenas: less heap growth from uvicorn's threads
            # llm._serve must be importable whatever the child's working directory is.
            env["PYTHONPATH"] = os.pathsep.join(
                [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep)
            with os.fdopen(fd, "wb") as log:
                self.proc = subprocess.Popen(
                    self.command(model_file, port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,  # own process group: killpg reaches it, terminal Ctrl-C does not
                    preexec_fn=_die_with_parent,
                )
            self.port = port
            _live_servers.add(self)
            _install_sigterm_handler()
        try:
            self._wait_healthy()
            self._first_token()
        except BaseException:
            self.stop()
            raise
        return self

    def _died(self) -> LocalModelError:
        assert self.proc is not None
        code = self.proc.returncode
        reason = crash_reason(code)
        if reason:
            return LocalRuntimeCrash(reason)
        return LocalModelError(f"the local model server exited with code {code}: {self.log_tail()}")

    def _first_token(self) -> None:
        """Ask for one token after ``CHECK_PROMPT``: a runtime built for instructions this CPU refuses dies on its
        first matrix product, not at load, and must be told apart from a server that is merely slow before a run starts."""
        body = json.dumps({"prompt": CHECK_PROMPT, "max_tokens": 1, "temperature": 0}).encode()
        request = urllib.request.Request(
            self.base_url + "/completions", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.startup_timeout_s) as reply:
                reply.read()
            return
        except (urllib.error.URLError, OSError) as exc:
            assert self.proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(2)
            if self.proc.poll() is not None:
                raise self._died() from None
            raise LocalModelError(
                f"the local model server did not produce a first token ({exc}): {self.log_tail()}"
            ) from None

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise self._died()
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise LocalModelError(
            f"the local model server did not answer within {self.startup_timeout_s:.0f} s: {self.log_tail()}"
        )

    def log_tail(self, lines: int = 3) -> str:
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-lines:]
        return " | ".join(tail) + f" (log: {self.log_path})"

    def stop(self, timeout_s: float = 5) -> None:
        """Terminate the server's whole process group; SIGKILL if it does not exit in time. Idempotent."""
        with self._lock:
            proc, self.proc = self.proc, None
            _live_servers.discard(self)
        if proc is None or proc.poll() is not None:
            return
        for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(wait_s)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()

    # -- facts -----------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise LocalModelError("the local model server is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    def rss_mb(self) -> float:
        """Resident memory of the server process in MB (0 when it is not running)."""
        if not self.running:
            return 0.0
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0
