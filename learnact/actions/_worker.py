"""The sandbox worker: runs learned code under OS limits and talks to the parent over a pipe.

Started by :mod:`actions.executor` as ``python -I -S _worker.py <limits json>``; standard library
only. Protocol: each message is a 4-byte big-endian length and a JSON object (JSON, never pickle:
the parent must not unpickle data from an untrusted process).

parent -> worker: {"op": "load", "code", "primitives": {name: [params]}}
                  {"op": "call", "name", "args"}
                  {"obs": text} or {"stop": kind, "message": text}   (answers to "prim")
                  {"value": json} or {"stop": ...}                    (answers to "query")
worker -> parent: {"op": "ready"}, {"op": "loaded", "refused": {...}},
                  {"op": "prim", "name", "args"}, {"op": "query", "what"}, {"op": "done", ...}
"""

from __future__ import annotations

import json
import linecache
import math
import os
import resource
import struct
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox_rules  # noqa: E402  (a sibling file, stdlib only)

LEARNED_FILE = "<learned>"
MEMORY_EXIT = 86
NOBODY = 65534
_HEADER = struct.Struct(">I")

IN_FD = os.dup(0)
OUT_FD = os.dup(1)


def _silence_std_streams() -> None:
    # fd 0/1 are the protocol pipes' old numbers: nothing may write there by accident.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def send(msg: dict) -> None:
    body = json.dumps(msg).encode()
    data = _HEADER.pack(len(body)) + body
    while data:
        n = os.write(OUT_FD, data)
        data = data[n:]


def _read_exact(n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(IN_FD, left)
        if not chunk:
            os._exit(0)  # the parent went away
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv() -> dict:
    (n,) = _HEADER.unpack(_read_exact(_HEADER.size))
    return json.loads(_read_exact(n))


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def drop_privileges_and_limit(limits: dict) -> None:
    """OS-level limits that hold even if the Python-level checks were bypassed."""
    baseline = _vm_size_bytes()  # before setuid: afterwards /proc/self is no longer readable
    if hasattr(os, "getuid") and os.getuid() == 0:
        # Root ignores RLIMIT_NPROC and can undo limits: become nobody.
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    top_fd = max(IN_FD, OUT_FD) + 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (top_fd, top_fd))
    budget = baseline + int(limits["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))


class Stop(BaseException):
    """Ends a learned call; BaseException so that ``except Exception`` in learned code passes it on."""


class CallState:
    """The per-call record the learned code cannot reach (no dunder access, no closures)."""

    def __init__(self, output_chars: int) -> None:
        self.output_chars = output_chars
        self.output: list[str] = []
        self.output_len = 0
        self.failure: dict | None = None

    def fail(self, kind: str, message: str) -> Stop:
        if self.failure is None:
            self.failure = {"kind": kind, "message": message, "line": learned_line()}
        return Stop(kind)

    def check(self) -> None:
        if self.failure is not None:  # refuse to continue after a stop, even if it was caught
            raise Stop(self.failure["kind"])


def learned_line() -> int | None:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == LEARNED_FILE:
            return frame.f_lineno
        frame = frame.f_back
    return None


def make_print(state: CallState):
    def print(*args, sep=" ", end="\n"):  # noqa: A001 - the sandbox's print
        state.check()
        text = str(sep).join(str(a) for a in args) + str(end)
        state.output_len += len(text)
        if state.output_len > state.output_chars:
            raise state.fail("output_limit", f"printed more than {state.output_chars} characters")
        state.output.append(text)

    return print


def make_primitive(name: str, params: list[str], state: CallState):
    def primitive(*args, **kwargs):
        state.check()
        if kwargs:
            unknown = [k for k in kwargs if k not in params[len(args) :]]
            if unknown:
                raise TypeError(f"{name}() got unexpected keyword argument(s) {unknown}; parameters are {params}")
            args = args + tuple(kwargs[p] for p in params[len(args) :] if p in kwargs)
        if len(args) != len(params):
            raise TypeError(f"{name}() takes {len(params)} arguments ({', '.join(params)}), {len(args)} given")
        for a in args:
            if a is None or not isinstance(a, (str, int, float, bool)):
                raise TypeError(f"{name}(): argument {repr(a)[:80]} must be a string or a number")
        send({"op": "prim", "name": name, "args": list(args)})
        reply = recv()
        if "stop" in reply:
            raise state.fail(reply["stop"], reply.get("message", ""))
        return reply["obs"]

    primitive.__name__ = name
    return primitive


QUERIES = ("observe", "facts", "valid_actions")


def make_query(what: str, state: CallState):
    """A read-only look at the world (no step): the parent answers from its environment."""

    def query():
        state.check()
        send({"op": "query", "what": what})
        reply = recv()
        if "stop" in reply:
            raise state.fail(reply["stop"], reply.get("message", ""))
        value = reply.get("value")
        return [tuple(f) for f in value] if what == "facts" else value

    query.__name__ = what
    return query


def make_find(facts):
    """``find(fact, *known)``: the next part of the first true fact that starts with ``(fact, *known)``, or
    None; e.g. find('at-robby') -> 'rooma', find('at', 'ball1') -> 'roomb'. A read-only lookup over
    facts() that a small learner writes correctly far more often than a comprehension over tuples."""

    def find(fact, *known):
        head = (fact, *known)
        for f in facts():
            if len(f) > len(head) and f[: len(head)] == head:
                return f[len(head)]
        return None

    return find


def make_builtins(state: CallState) -> dict:
    import builtins

    safe = {n: getattr(builtins, n) for n in sandbox_rules.SAFE_BUILTIN_NAMES if n != "print"}
    safe["print"] = make_print(state)
    safe.update({"True": True, "False": False, "None": None})
    return safe


class Library:
    def __init__(self, msg: dict) -> None:
        code = msg["code"]
        self.primitives: dict[str, list[str]] = msg["primitives"]
        module, self.refused = sandbox_rules.sandbox_module(code, self.primitives)
        self.code = compile(module, LEARNED_FILE, "exec")
        linecache.cache[LEARNED_FILE] = (len(code), None, code.splitlines(True), LEARNED_FILE)

    def namespace(self, state: CallState) -> dict:
        def forbidden(message):
            raise state.fail("forbidden", message)

        def safe_format(obj, *args, **kwargs):
            state.check()
            try:
                return sandbox_rules.safe_format(obj, *args, **kwargs)
            except sandbox_rules.FormatViolation as exc:
                raise state.fail("forbidden", str(exc)) from None

        ns = {
            "__builtins__": make_builtins(state),
            "__name__": "learned",
            sandbox_rules.SAFE_FORMAT_NAME: safe_format,
            sandbox_rules.FORBIDDEN_STUB_NAME: forbidden,
        }
        ns.update({q: make_query(q, state) for q in QUERIES})
        ns["find"] = make_find(ns["facts"])
        ns.update({n: make_primitive(n, p, state) for n, p in self.primitives.items()})
        exec(self.code, ns)  # only function definitions (rewritten, annotations dropped)
        return ns


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def learned_traceback(exc: BaseException, limit_chars: int) -> tuple[str, int | None]:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == LEARNED_FILE]
    lines = ["Traceback (most recent call last):\n", *traceback.StackSummary.from_list(frames).format()]
    try:
        lines.extend(traceback.format_exception_only(type(exc), exc))
    except Exception:  # noqa: BLE001 - a message that cannot be rendered
        lines.append(f"{type(exc).__name__}\n")
    text = "".join(lines)
    if len(text) > limit_chars:
        text = "...\n" + text[-limit_chars:]
    return text, (frames[-1].lineno if frames else None)


def run_call(lib: Library, msg: dict, limits: dict) -> dict:
    state = CallState(int(limits["output_chars"]))
    used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    cpu_s = limits.get("cpu_s") or float(limits["wall_s"]) + 1.0
    soft = int(math.ceil(used + cpu_s))
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))
    old_limit = sys.getrecursionlimit()
    result: dict = {"op": "done"}
    try:
        ns = lib.namespace(state)
        fn = ns.get(msg["name"])
        if not callable(fn):
            return {**result, "kind": "unknown_name", "message": f"{msg['name']} is not defined"}
        sys.setrecursionlimit(_stack_depth() + int(limits["recursion"]) + 20)
        try:
            value = fn(*msg["args"])
        finally:
            sys.setrecursionlimit(old_limit)
        state.check()
        if isinstance(value, str):
            if len(value) > state.output_chars:
                raise state.fail("output_limit", f"returned text longer than {state.output_chars} characters")
            result["returned"] = value
    except Stop:
        pass
    except MemoryError:
        state.output = []
        if state.failure is None:
            state.failure = {
                "kind": "memory",
                "message": f"the memory limit ({limits['memory_mb']} MB) was exceeded",
                "line": None,
            }
    except BaseException as exc:  # noqa: BLE001 - learned code may raise anything
        if state.failure is None:
            text, line = learned_traceback(exc, state.output_chars)
            state.failure = {"kind": "exception", "message": text, "line": line}
    result["output"] = "".join(state.output)
    if state.failure is not None:
        result.update(state.failure)
    return result


def main() -> None:
    limits = json.loads(sys.argv[1])
    _silence_std_streams()
    drop_privileges_and_limit(limits)
    send({"op": "ready"})
    lib: Library | None = None
    while True:
        msg = recv()
        op = msg.get("op")
        if op == "load":
            lib = Library(msg)
            send({"op": "loaded", "refused": lib.refused})
        elif op == "call" and lib is not None:
            send(run_call(lib, msg, limits))
        else:
            send({"op": "done", "kind": "worker_crash", "message": f"unexpected message {op!r}"})


if __name__ == "__main__":
    try:
        main()
    except MemoryError:
        os._exit(MEMORY_EXIT)
