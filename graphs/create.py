"""The creation of one candidate action set, a subgraph of the learning graph (K of them in parallel).

    START -> write -> check -> fix -> check ...    (the repair loop: while nothing of the code works)
    check -> demonstrate -> check                  (the demonstration's learned calls, checked the same way)
    check | demonstrate -> finish -> END

Each attempt is a step of its own: checkpointed, drawn and streamed like any other node.
"""
from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from nodes.context import Context
from nodes.create import (
    check_actions,
    demonstrate,
    finish_candidate,
    fix_actions,
    route_after_check,
    route_after_demonstration,
    write_actions,
)  # fmt: skip
from nodes.learn_state import CreateTask, CreationOutput, CreationState


def build_creation_graph(checkpointer=None):
    """``checkpointer``: None inside the learning graph (its checkpointer is used, per attempt)."""
    graph = StateGraph(CreationState, context_schema=Context, input_schema=CreateTask, output_schema=CreationOutput)
    nodes = {"write": write_actions, "check": check_actions, "fix": fix_actions, "demonstrate": demonstrate, "finish": finish_candidate}
    for name, node in nodes.items():
        graph.add_node(name, node)

    graph.add_edge(START, "write")
    graph.add_edge("write", "check")
    graph.add_conditional_edges("check", route_after_check, ["fix", "demonstrate", "finish"])
    graph.add_edge("fix", "check")  # the repair loop
    graph.add_conditional_edges("demonstrate", route_after_demonstration, ["check", "finish"])
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer, name="create")
