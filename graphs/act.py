"""Test-time Act agent: start -> decide -> execute -> (decide | finish)."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from nodes.act import decide, execute, finish_episode, route_after_step, start_episode
from nodes.context import Context
from nodes.state import EpisodeInput, EpisodeState


def build_episode_graph(decide_node, name: str, checkpointer=None):
    """The step loop shared by Act and ReAct; only the decide node differs."""
    graph = StateGraph(EpisodeState, context_schema=Context, input_schema=EpisodeInput)
    graph.add_node("start", start_episode)
    graph.add_node("decide", decide_node)
    graph.add_node("execute", execute)
    graph.add_node("finish", finish_episode)
    graph.add_edge(START, "start")
    graph.add_conditional_edges("start", route_after_step, {"decide": "decide", "finish": "finish"})
    graph.add_edge("decide", "execute")
    graph.add_conditional_edges("execute", route_after_step, {"decide": "decide", "finish": "finish"})
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer, name=name)


def build_act_graph(checkpointer=None):
    return build_episode_graph(decide, "act", checkpointer)
