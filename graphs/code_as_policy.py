"""Code-as-Policies baseline: start -> write_program -> run_program -> finish (open loop)."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from nodes.act import finish_episode, start_episode
from nodes.code_policy import run_program, write_program
from nodes.context import Context
from nodes.state import EpisodeInput, EpisodeState


def build_code_as_policy_graph(checkpointer=None):
    graph = StateGraph(EpisodeState, context_schema=Context, input_schema=EpisodeInput)
    graph.add_node("start", start_episode)
    graph.add_node("write_program", write_program)
    graph.add_node("run_program", run_program)
    graph.add_node("finish", finish_episode)
    graph.add_edge(START, "start")
    graph.add_edge("start", "write_program")
    graph.add_edge("write_program", "run_program")
    graph.add_edge("run_program", "finish")
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer, name="code_as_policy")
