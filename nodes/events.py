"""Custom stream events (``stream_mode="custom"``) that run.py renders as live progress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langgraph.config import get_config, get_stream_writer


def emit(event: str, /, **data: Any) -> None:
    """Send one progress event; a no-op outside a streaming run."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # not inside a runnable context (e.g. a node called directly in a test)
        return
    writer({"event": event, **data})


# Nodes that are subgraphs of the graph they belong to (the creation subgraph, graphs/create.py, in the learning
# graph): their events are the graph's own. A graph that a node runs by calling it (a rollout's episode, an
# evaluation's learning sub-run) is not one: its events are its own, and the node passes on what it wants shown.
SUBGRAPH_NODES = frozenset({"create_candidate", "repair"})  # "repair": the check-and-repair loop inside creation


def stream_events(graph: Any, inputs: Any, config: Any = None, *, context: Any) -> Iterator[dict[str, Any]]:
    """Run ``graph`` and yield its custom events: those of its own nodes and of its subgraphs' nodes
    (``stream(..., subgraphs=True)``), not those of graphs its nodes run. Inside a node (a graph streamed by
    a node: nodes/evaluate.py), the namespace of the calling node is the graph's own level."""
    own = _caller_depth()
    for namespace, chunk in graph.stream(inputs, config, context=context, stream_mode="custom", subgraphs=True):
        if all(part.split(":", 1)[0] in SUBGRAPH_NODES for part in namespace[own:]):
            yield chunk


def _caller_depth() -> int:
    try:
        namespace = get_config().get("configurable", {}).get("checkpoint_ns", "")
    except RuntimeError:  # not inside a node
        return 0
    return len(namespace.split("|")) if namespace else 0  # LangGraph's separator of namespace levels
