"""Learned actions: the versioned action library and the sandbox that runs it.

>>> lib = ActionLibrary.from_code(code)
>>> with Executor(env, lib) as ex:
...     r = ex.run("carry('ball1', 'rooma', 'roomb', 'left')")
>>> with as_tools(lib, env) as toolset:  # LangChain tools for any tool-calling agent
...     agent = create_react_agent(model, toolset.tools)
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
    "ToolSet",
    "TraceStep",
    "as_tools",
    "load_actions",
    "load_actions_file",
    "parse_functions",
    "strip_fences",
]


def __getattr__(name: str):
    # LangChain tools on demand: ``import actions`` stays light (no langchain_core) for the sandbox and the store.
    if name in ("ToolSet", "as_tools"):
        from . import tools

        return getattr(tools, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
