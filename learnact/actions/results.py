"""Value types of the executor: limits, the primitive trace and the structured result of one call."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Every error kind a call can end with. Failure detection in the project uses these, never text.
ERROR_KINDS = (
    "syntax",  # the line is not one call with literal arguments
    "unknown_name",  # not an offered action or primitive (helpers are not offered)
    "arity",  # wrong number of arguments
    "forbidden",  # the learned code uses something the sandbox refuses (import, dunders ...)
    "exception",  # the learned code raised (message holds the traceback, learned-code line numbers)
    "timeout",  # wall-clock or CPU limit; the worker was killed
    "memory",  # memory limit
    "primitive_limit",  # more primitive calls than allowed in one learned call
    "invalid_primitive",  # a primitive did not apply (info["valid"] is False); the call stopped there
    "output_limit",  # printed output or returned text too long
    "worker_crash",  # the worker died or broke the protocol
)


@dataclass(frozen=True)
class Limits:
    """Per-call limits of a learned call. ``memory_mb`` is on top of the worker's own footprint."""

    wall_s: float = 10.0
    cpu_s: float | None = None  # default: wall_s + 1 (RLIMIT_CPU backs up the wall-clock kill)
    memory_mb: int = 256
    output_chars: int = 20_000
    recursion: int = 200
    max_primitive_calls: int = 50


@dataclass(frozen=True)
class TraceStep:
    """One primitive stepped in the real environment during a call."""

    action: str
    observation: str
    valid: bool


@dataclass(frozen=True)
class CallError:
    kind: str
    message: str
    line: int | None = None  # line of the learned code (in ``library.code``) where it happened
    step: int | None = None  # 1-based index in the trace of the primitive that failed

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class CallResult:
    """What one agent line did. ``ok`` is False exactly when ``error`` is set."""

    ok: bool
    observation: str
    error: CallError | None = None
    trace: list[TraceStep] = field(default_factory=list)
    name: str | None = None
    is_learned: bool = False
    info: dict[str, Any] = field(default_factory=dict)  # the env's info after the last primitive ({} if none)
    returned: str | None = None  # the learned function's return value when it was a string
    output: str = ""  # text printed by the learned code
    seconds: float = 0.0

    @property
    def success(self) -> bool:
        return bool(self.info.get("success"))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (env info values that JSON cannot hold become strings)."""
        d = asdict(self)
        return json.loads(json.dumps(d, default=str))

    def as_step(self, index: int, line: str) -> dict[str, Any]:
        """This call as one agent step of an episode's record (``nodes.state.StepRecord``): the line, what the
        agent saw, whether it worked, the error kind and the primitive trace."""
        return {
            "index": index,
            "action": line,
            "observation": self.observation,
            "ok": bool(self.ok),
            "is_learned": bool(self.is_learned),
            "name": self.name,
            "error_kind": self.error.kind if self.error is not None else None,
            "trace": [{"action": s.action, "observation": s.observation, "valid": bool(s.valid)} for s in self.trace],
        }
