"""Cross-task Reflexion learning: rollouts (Send per training instance) -> reflect -> loop or end.

The rollouts use the Act graph, or the episode graph the context carries (ReAct), so the same graph
gives Act+Reflexion and ReAct+Reflexion. Rollouts take ``learn_max_steps`` steps; the number of
rounds comes from ``--max-rounds`` (nodes.reflexion.reflexion_rounds).
"""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph

from nodes.context import Context
from nodes.reflexion import (
    ReflexionInput,
    ReflexionState,
    plan_reflexion_rollouts,
    reflect,
    reflexion_rollout,
    route_after_reflect,
)

from .act import build_act_graph


def build_reflexion_graph(checkpointer=None, rollout_graph=None):
    """``rollout_graph``: the episode graph of the training rollouts (default: Act; ``Context.rollout_graph``
    overrides it per run, e.g. ReAct for ReAct+Reflexion)."""
    rollout_graph = rollout_graph if rollout_graph is not None else build_act_graph(checkpointer=False)
    graph = StateGraph(ReflexionState, context_schema=Context, input_schema=ReflexionInput)
    graph.add_node("reflexion_rollout", partial(reflexion_rollout, episode_graph=rollout_graph))
    graph.add_node("reflect", reflect)
    graph.add_conditional_edges(START, plan_reflexion_rollouts, ["reflexion_rollout"])
    graph.add_edge("reflexion_rollout", "reflect")
    graph.add_conditional_edges("reflect", route_after_reflect, {"again": "plan", "end": END})
    graph.add_node("plan", lambda state: {})
    graph.add_conditional_edges("plan", plan_reflexion_rollouts, ["reflexion_rollout"])
    return graph.compile(checkpointer=checkpointer, name="reflexion")
