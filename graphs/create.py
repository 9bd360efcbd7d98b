"""The creation of one candidate action set, a subgraph of the learning graph (K of them in parallel).

    START -> write -> repair -> after_check            (repair: the check-and-repair loop, graphs/repair.py)
    after_check -> demonstrate -> repair -> after_check (the demonstration's learned calls, checked the same way)
    after_check | demonstrate -> finish -> END

Each attempt is a step of its own: checkpointed, drawn and streamed like any other node.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from nodes.context import Context
from nodes.create import (
    after_check,
    demonstrate,
    finish_candidate,
    route_after_check,
    route_after_demonstration,
    write_actions,
)
from nodes.learn_state import CreateTask, CreationOutput, CreationState

from .repair import build_repair_graph


def build_creation_graph(checkpointer=None):
    """``checkpointer``: None inside the learning graph (its checkpointer is used, per attempt)."""
    graph = StateGraph(CreationState, context_schema=Context, input_schema=CreateTask, output_schema=CreationOutput)
    nodes = {
        "write": write_actions,
        "repair": build_repair_graph(),
        "after_check": after_check,
        "demonstrate": demonstrate,
        "finish": finish_candidate,
    }
    for name, node in nodes.items():
        graph.add_node(name, node)

    graph.add_edge(START, "write")
    graph.add_edge("write", "repair")
    graph.add_edge("repair", "after_check")
    graph.add_conditional_edges("after_check", route_after_check, ["demonstrate", "finish"])
    graph.add_conditional_edges("demonstrate", route_after_demonstration, ["repair", "finish"])
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer, name="create")
