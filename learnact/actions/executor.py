"""Runs one agent line: a primitive (stepped here) or a learned action (run in the sandbox worker).

Invalid primitives inside a learned call
----------------------------------------
The reference LearnAct treats a primitive that does not apply as a failed learned call. Here the
primitive is stepped in the real environment (which leaves its state unchanged and explains why),
its ``valid`` flag is recorded in the trace, and the call stops right there: the parent answers the
worker's stub with "stop", the stub raises an exception derived from BaseException (so the usual
``except Exception`` in learned code lets it through), and every further primitive request of
that call is refused by the parent, which keeps its own record. So even learned code that catches
everything cannot continue acting after an invalid step, and the call result is ``ok=False`` with
error kind ``invalid_primitive``; the observation shows the last valid observation and the failing
step's message. Stopping early keeps the trace short and the failure point exact, which is what
the revision step needs.

``invalid_primitive="continue"`` is the reference's judgement instead (``--protocol paper``): an
invalid primitive is answered with its observation like any other, the learned code runs on, and
the call succeeds iff its last primitive step was valid.

The parent is the authority on everything that touches the environment (primitive counts,
validity, the trace); the worker only reports what the code itself did (exceptions, output,
return value), and the parent never trusts it with more than JSON.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from environments.base import ActionParseError, format_call, parse_call

from .library import ActionLibrary, LearnedAction
from .results import CallError, CallResult, Limits, TraceStep
from .worker_process import WorkerDied, WorkerProcess, WorkerTimeout

NO_PRIMITIVE = "(no primitive action was taken)"
# What an invalid primitive inside a learned call does: "stop" the call there (failed), or "continue"
# (the reference's rule: run on; the call failed iff its last primitive step was invalid).
INVALID_PRIMITIVE_RULES = ("stop", "continue")


# observe()/facts()/valid_actions() answered per learned call, as a multiple of its primitive-call cap.
QUERY_LIMIT_FACTOR = 10


class Executor:
    """Runs agent lines against ``env`` with the learned actions of ``library``.

    Use as a context manager (or call :meth:`close`). The worker starts on first need and is
    reused; after a kill or a memory error it is replaced on the next learned call. The caller
    resets the env itself; the executor holds no episode state.
    """

    def __init__(
        self,
        env,
        library: ActionLibrary | Mapping[str, Any] | None = None,
        *,
        limits: Limits | None = None,
        invalid_primitive: str = "stop",
    ) -> None:
        if invalid_primitive not in INVALID_PRIMITIVE_RULES:
            raise ValueError(
                f"invalid_primitive must be one of {', '.join(INVALID_PRIMITIVE_RULES)}, got {invalid_primitive!r}"
            )
        if library is None or isinstance(library, Mapping):
            library = ActionLibrary.from_dict(library)
        self.env = env
        self.invalid_primitive = invalid_primitive
        self.library: ActionLibrary = library
        self.limits = limits or Limits()
        self._primitives = {p.name: tuple(p.params) for p in env.primitives}
        library.check_primitive_names(self._primitives)
        self._worker: WorkerProcess | None = None
        self._lock = threading.Lock()
        self.workers_started = 0

    # ------------------------------------------------------------------ lifetime
    def __enter__(self) -> Executor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the worker now (only when the library has functions), so the first call is fast."""
        with self._lock:
            if self.library.all_functions:
                self._ensure_worker()

    def close(self) -> None:
        with self._lock:
            self._drop_worker()

    def __del__(self) -> None:
        worker = getattr(self, "_worker", None)
        if worker is not None:
            try:
                worker.kill()
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    def _ensure_worker(self) -> WorkerProcess:
        if self._worker is not None and not self._worker.alive:
            self._drop_worker()
        if self._worker is None:
            worker = WorkerProcess(self.limits)
            self.workers_started += 1
            primitives = {n: list(p) for n, p in self._primitives.items()}
            worker.send({"op": "load", "code": self.library.code, "primitives": primitives})
            msg = worker.recv(30.0)
            if msg.get("op") != "loaded":
                worker.kill()
                raise WorkerDied(f"the worker could not load the library: {msg!r}")
            self._worker = worker
        return self._worker

    def _drop_worker(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    # ------------------------------------------------------------------ one line
    def run(self, line: str) -> CallResult:
        """Run one agent line; never raises for anything the agent or the learned code did."""
        start = time.perf_counter()
        try:
            name, args = parse_call(line)
        except ActionParseError as exc:
            return _refused("syntax", str(exc), None, start)
        try:
            json.dumps(args)
        except (TypeError, ValueError):
            return _refused("syntax", "arguments must be quoted strings or numbers, e.g. 'ball1'", name, start)
        if name in self._primitives:
            params = self._primitives[name]
            if len(args) != len(params):
                return _refused(
                    "arity",
                    f"{name}({', '.join(params)}) takes {len(params)} arguments, {len(args)} given",
                    name,
                    start,
                )
            return self._run_primitive(name, args, start)
        action = self.library.get(name)
        if action is None or action.is_helper:
            return _refused("unknown_name", self._unknown_message(name, action), name, start)
        if not action.accepts(len(args)):
            return _refused(
                "arity",
                f"{action.signature} takes {_arity_text(action)} arguments, {len(args)} given",
                name,
                start,
                learned=True,
            )
        with self._lock:
            return self._run_learned(action, args, start)

    def _answer_query(self, what: object, count: int, first: CallError | None) -> dict:
        """A learned call's read-only look at the world: observe(), facts() or valid_actions()."""
        if first is not None:
            return {"stop": first.kind, "message": first.message}
        if count > QUERY_LIMIT_FACTOR * self.limits.max_primitive_calls:
            return {
                "stop": "primitive_limit",
                "message": f"more than {QUERY_LIMIT_FACTOR * self.limits.max_primitive_calls} "
                "observe/facts/valid_actions queries in one learned call",
            }
        if what == "observe":
            observe = getattr(self.env, "observe", None)
            return {"value": observe() if callable(observe) else ""}
        if what == "facts":
            return {"value": [list(f) for f in self.env.facts()]}
        if what == "valid_actions":
            return {"value": list(self.env.valid_actions() or ())}
        raise WorkerDied(f"unknown query from the worker: {str(what)[:80]}")

    def _unknown_message(self, name: str, helper: LearnedAction | None) -> str:
        offered = [*self._primitives, *self.library.names]
        if helper is not None:
            return f"{name} is a helper function, not an action; use one of: {', '.join(offered)}"
        return f"unknown action {name!r}; available actions: {', '.join(offered)}"

    def _step(self, name: str, args: tuple) -> tuple[TraceStep, dict]:
        action = format_call(name, args)
        obs, _reward, _terminated, _truncated, info = self.env.step(action)
        info = dict(info or {})
        return TraceStep(action, str(obs), bool(info.get("valid", True))), info

    def _run_primitive(self, name: str, args: tuple, start: float) -> CallResult:
        step, info = self._step(name, args)
        error = None if step.valid else CallError("invalid_primitive", step.observation, step=1)
        return CallResult(
            ok=step.valid,
            observation=step.observation,
            error=error,
            trace=[step],
            name=name,
            is_learned=False,
            info=info,
            seconds=time.perf_counter() - start,
        )

    def _run_learned(self, action: LearnedAction, args: tuple, start: float) -> CallResult:
        try:
            worker = self._ensure_worker()
        except (WorkerDied, WorkerTimeout, OSError) as exc:
            self._drop_worker()
            return _refused(
                "worker_crash", f"the sandbox worker could not start: {exc}", action.name, start, learned=True
            )
        call = _Call()
        try:
            self._exchange(worker, action, args, call)
        except WorkerTimeout:
            self._drop_worker()
            call.first = call.first or CallError(
                "timeout", f"the call exceeded the {self.limits.wall_s:g} s time limit and was stopped"
            )
        except WorkerDied as exc:
            self._drop_worker()
            call.first = call.first or CallError(exc.kind, str(exc))
        error, done, trace = call.first, call.done, call.trace
        if done.get("kind"):
            line = done.get("line")
            if error is None:
                error = CallError(done["kind"], str(done.get("message", "")), line=line)
            elif error.line is None and done["kind"] == error.kind:
                error = CallError(error.kind, error.message, line=line, step=error.step)
            if done["kind"] in ("memory", "worker_crash"):
                self._drop_worker()  # a heap that hit its limit is not worth reusing
        if error is None and trace and not trace[-1].valid:  # only reachable with invalid_primitive="continue"
            last = trace[-1]
            error = CallError(
                "invalid_primitive", f"{last.action} is not valid here: {last.observation}", step=len(trace)
            )
        returned = done.get("returned") if isinstance(done.get("returned"), str) else None
        return CallResult(
            ok=error is None,
            observation=_observation(action.name, trace, error, returned),
            error=error,
            trace=trace,
            name=action.name,
            is_learned=True,
            info=call.info,
            returned=returned,
            output=str(done.get("output", "")),
            seconds=time.perf_counter() - start,
        )

    def _exchange(self, worker: WorkerProcess, action: LearnedAction, args: tuple, call: _Call) -> None:
        """Run one learned call in ``worker``, answering its primitive steps and queries, into ``call``."""
        limits = self.limits
        deadline = time.monotonic() + limits.wall_s
        worker.send({"op": "call", "name": action.name, "args": list(args)})
        while True:
            msg = worker.recv(deadline - time.monotonic())
            if msg.get("op") == "done":
                call.done = msg
                return
            if msg.get("op") == "query":
                call.queries += 1
                worker.send(self._answer_query(msg.get("what"), call.queries, call.first))
                continue
            if msg.get("op") != "prim":
                raise WorkerDied(f"unexpected message from the worker: {str(msg)[:200]}")
            name, prim_args = msg.get("name"), msg.get("args")
            if (
                name not in self._primitives
                or not isinstance(prim_args, list)
                or len(prim_args) != len(self._primitives[name])
            ):
                raise WorkerDied(f"malformed primitive request from the worker: {str(msg)[:200]}")
            if call.first is None and len(call.trace) >= limits.max_primitive_calls:
                call.first = CallError(
                    "primitive_limit", f"more than {limits.max_primitive_calls} primitive calls in one learned call"
                )
            if call.first is not None:
                worker.send({"stop": call.first.kind, "message": call.first.message})
                continue
            t0 = time.monotonic()
            step, call.info = self._step(name, tuple(prim_args))
            deadline += time.monotonic() - t0  # the environment's time is not the learned code's
            call.trace.append(step)
            if step.valid or self.invalid_primitive == "continue":
                worker.send({"obs": step.observation})
            else:
                call.first = CallError(
                    "invalid_primitive", f"{step.action} is not valid here: {step.observation}", step=len(call.trace)
                )
                worker.send({"stop": call.first.kind, "message": call.first.message})


@dataclass
class _Call:
    """What the parent records of one learned call: its primitive steps, the first failure, the worker's answer."""

    trace: list[TraceStep] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    first: CallError | None = None  # the parent's own record of the first failure
    queries: int = 0
    done: dict = field(default_factory=dict)


def _arity_text(action: LearnedAction) -> str:
    if action.max_args is None:
        return f"at least {action.min_args}"
    if action.max_args == action.min_args:
        return str(action.min_args)
    return f"{action.min_args} to {action.max_args}"


def _refused(kind: str, message: str, name: str | None, start: float, learned: bool = False) -> CallResult:
    return CallResult(
        ok=False,
        observation=f"Invalid action: {message}",
        error=CallError(kind, message),
        name=name,
        is_learned=learned,
        seconds=time.perf_counter() - start,
    )


def _short(error: CallError) -> str:
    if error.kind == "exception":
        last = [ln for ln in error.message.strip().splitlines() if ln.strip()]
        where = f" (line {error.line})" if error.line else ""
        return f"raised {last[-1].strip() if last else 'an exception'}{where}"
    return error.message


def _observation(name: str, trace: list[TraceStep], error: CallError | None, returned: str | None) -> str:
    """What the agent sees: the last observation, and on failure which step failed and why."""
    if error is None:
        if trace:
            return trace[-1].observation
        return returned if returned and returned.strip() else NO_PRIMITIVE
    state = next((s.observation for s in reversed(trace) if s.valid), "")
    if error.kind == "invalid_primitive" and error.step:
        failed = trace[error.step - 1]
        tail = f"{name} failed at primitive step {error.step}: {failed.action} is not valid here. {failed.observation}"
    else:
        done = f" after {len(trace)} primitive step(s)" if trace else " before any primitive step"
        tail = f"{name} failed ({error.kind}){done}: {_short(error)}"
    return f"{state}\n{tail}" if state else tail
