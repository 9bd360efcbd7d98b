"""Evaluation harness: learn (LearnAct, Reflexion) -> run every test episode (Send) -> summarize.

The evaluation runs the other graphs by name; ``graphs`` are their builders, as graphs.registry gives
them (``build_graph("evaluate")``); ``Context.graphs`` overrides them per run.
"""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph

from nodes.context import Context
from nodes.evaluate import (
    EvalInput,
    EvalState,
    GraphBuilders,
    learn_method,
    plan_episodes,
    plan_learning,
    run_episode,
    summarize,
)


def build_evaluate_graph(checkpointer=None, graphs: GraphBuilders | None = None):
    graph = StateGraph(EvalState, context_schema=Context, input_schema=EvalInput)
    graph.add_node("learn_method", partial(learn_method, graphs=graphs))
    graph.add_node("plan_episodes_node", lambda state: {})
    graph.add_node("run_episode", partial(run_episode, graphs=graphs))
    graph.add_node("summarize", summarize)
    graph.add_conditional_edges(START, plan_learning, ["learn_method", "plan_episodes_node"])
    graph.add_edge("learn_method", "plan_episodes_node")
    graph.add_conditional_edges("plan_episodes_node", plan_episodes, ["run_episode", "summarize"])
    graph.add_edge("run_episode", "summarize")
    graph.add_edge("summarize", END)
    return graph.compile(checkpointer=checkpointer, name="evaluate")
