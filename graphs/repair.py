"""The one check-and-repair loop: check -> fix -> check ... -> END (nodes/repair.py).

The creation subgraph (graphs/create.py) embeds it for the reply's code and for its demonstration's calls; a
revision (nodes/revise.py) runs it for an Update's code. Each attempt is a step of its own.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from nodes.context import Context
from nodes.learn_state import RepairOutput, RepairState
from nodes.repair import check_code, fix_code, route_after_check


def build_repair_graph(checkpointer=None):
    """``checkpointer``: None embedded (the embedding graph's, per attempt); False where a node runs it."""
    graph = StateGraph(RepairState, context_schema=Context, output_schema=RepairOutput)
    graph.add_node("check", check_code)
    graph.add_node("fix", fix_code)
    graph.add_edge(START, "check")
    graph.add_conditional_edges("check", route_after_check, ["fix", END])
    graph.add_edge("fix", "check")
    return graph.compile(checkpointer=checkpointer, name="repair")
