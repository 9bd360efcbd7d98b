"""ReAct baseline: the Act loop whose agent may also write ``Think:`` steps."""

from __future__ import annotations

from nodes.act import react_decide

from .act import build_episode_graph


def build_react_graph(checkpointer=None):
    return build_episode_graph(react_decide, "react", checkpointer)
