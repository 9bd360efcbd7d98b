"""Evaluation harness: learn (LearnAct, Reflexion) -> run every test episode (Send) -> summarize."""
from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from nodes.context import Context
from nodes.evaluate import EvalState, learn_method, plan_episodes, plan_learning, run_episode, summarize

from .act import build_act_graph
from .code_as_policy import build_code_as_policy_graph
from .learn import build_learn_graph
from .react import build_react_graph
from .reflexion import build_reflexion_graph

METHOD_GRAPHS = {
    "act": build_act_graph,
    "react": build_react_graph,
    "code_as_policy": build_code_as_policy_graph,
    "learn": build_learn_graph,
    "reflexion": build_reflexion_graph,
}


def build_evaluate_graph(checkpointer=None):
    graph = StateGraph(EvalState, context_schema=Context)
    graph.add_node("learn_method", learn_method)
    graph.add_node("plan_episodes_node", lambda state: {})
    graph.add_node("run_episode", run_episode)
    graph.add_node("summarize", summarize)
    graph.add_conditional_edges(START, plan_learning, ["learn_method", "plan_episodes_node"])
    graph.add_edge("learn_method", "plan_episodes_node")
    graph.add_conditional_edges("plan_episodes_node", plan_episodes, ["run_episode", "summarize"])
    graph.add_edge("run_episode", "summarize")
    graph.add_edge("summarize", END)
    return graph.compile(checkpointer=checkpointer, name="evaluate")
