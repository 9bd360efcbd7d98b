"""Learned actions: the versioned action library and the sandbox that runs it.

>>> lib = ActionLibrary.from_code(code)
>>> with Executor(env, lib) as ex:
...     r = ex.run("carry('ball1', 'rooma', 'roomb', 'left')")
"""
from __future__ import annotations

from .executor import NO_PRIMITIVE, Executor
from .library import ActionLibrary, ActionLibraryError, LearnedAction, parse_functions, strip_fences
from .results import ERROR_KINDS, CallError, CallResult, Limits, TraceStep
from .store import ActionStore, load_actions, load_actions_file

__all__ = [
    "ERROR_KINDS",
    "NO_PRIMITIVE",
    "ActionLibrary",
    "ActionLibraryError",
    "ActionStore",
    "CallError",
    "CallResult",
    "Executor",
    "LearnedAction",
    "Limits",
    "TraceStep",
    "load_actions",
    "load_actions_file",
    "parse_functions",
    "strip_fences",
]
