"""Every graph by name: the one table that ``run.py --graph``, the evaluation, the pictures (``--draw``,
the report) and ``langgraph dev`` (graphs/server.py, langgraph.json) look graphs up in.

The table names each graph's module and builder instead of importing them, so that ``run.py --help``
and argument errors do not load LangGraph and every node module first (about 1.5 s); a graph's module
is imported when the graph is built. The evaluation composes the other graphs: it is built here with
their builders (``graphs=``), so that it runs whatever this table names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any


@dataclass(frozen=True)
class GraphEntry:
    module: str
    builder: str
    what: str  # one line, for --help and the README
    command: bool = True  # `run.py --graph NAME` runs it (Reflexion runs inside the evaluation only)


GRAPHS: dict[str, GraphEntry] = {
    "learn": GraphEntry("graphs.learn", "build_learn_graph", "learn an action library (LearnAct)"),
    "create": GraphEntry(
        "graphs.create",
        "build_creation_graph",
        "one candidate action set: write, check, fix, demonstrate (inside learn)",
        command=False,
    ),
    "act": GraphEntry("graphs.act", "build_act_graph", "test-time Act episodes, optionally with learned actions"),
    "react": GraphEntry("graphs.react", "build_react_graph", "ReAct episodes (Act with Think: steps)"),
    "code_as_policy": GraphEntry("graphs.code_as_policy", "build_code_as_policy_graph", "Code-as-Policies episodes"),
    "reflexion": GraphEntry("graphs.reflexion", "build_reflexion_graph", "cross-task Reflexion lessons", command=False),
    "evaluate": GraphEntry("graphs.evaluate", "build_evaluate_graph", "every method on the same test episodes"),
}
# The graphs `run.py --graph` runs.
COMMANDS = tuple(name for name, entry in GRAPHS.items() if entry.command)
# The graphs the evaluation runs: its methods' episodes and learning.
EVALUATED = ("act", "react", "code_as_policy", "learn", "reflexion")


def builder(name: str) -> Callable[..., Any]:
    """The function that builds graph ``name`` (``checkpointer=`` as its keyword)."""
    if name not in GRAPHS:
        raise ValueError(f"no graph named {name!r}; choose from {', '.join(GRAPHS)}")
    entry = GRAPHS[name]
    build = getattr(importlib.import_module(entry.module), entry.builder)
    if name == "evaluate":
        return partial(build, graphs=method_graphs())
    return build


def build_graph(name: str, checkpointer: Any = None):
    """Graph ``name``, compiled with ``checkpointer`` (None: none of its own; False: never checkpointed)."""
    return builder(name)(checkpointer=checkpointer)


def method_graphs() -> dict[str, Callable[..., Any]]:
    """Builders of the graphs the evaluation runs, by name (``builder(checkpointer=...)``)."""
    return {name: builder(name) for name in EVALUATED}
