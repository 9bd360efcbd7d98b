"""Cross-task Reflexion learning: rollouts (Send per training instance) -> reflect -> loop or end.

The rollouts use whatever episode graph the context carries (Act or ReAct), so the same graph
gives Act+Reflexion and ReAct+Reflexion. Rollouts take ``learn_max_steps`` steps; the number of
rounds comes from ``--max-rounds`` (nodes.reflexion.reflexion_rounds).
"""
from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from nodes.context import Context
from nodes.reflexion import ReflexionState, plan_reflexion_rollouts, reflect, reflexion_rollout, route_after_reflect


def build_reflexion_graph(checkpointer=None):
    graph = StateGraph(ReflexionState, context_schema=Context)
    graph.add_node("reflexion_rollout", reflexion_rollout)
    graph.add_node("reflect", reflect)
    graph.add_conditional_edges(START, plan_reflexion_rollouts, ["reflexion_rollout"])
    graph.add_edge("reflexion_rollout", "reflect")
    graph.add_conditional_edges("reflect", route_after_reflect, {"again": "plan", "end": END})
    graph.add_node("plan", lambda state: {})
    graph.add_conditional_edges("plan", plan_reflexion_rollouts, ["reflexion_rollout"])
    return graph.compile(checkpointer=checkpointer, name="reflexion")
