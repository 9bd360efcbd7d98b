"""Pictures of the graphs, offline: Mermaid text, or PNG / SVG through pygraphviz.

LangGraph's own ``draw_ascii`` drops back-edges and ``draw_mermaid_png`` calls a web service, so
the pictures are drawn here from the graph's nodes and edges. Edges that close a loop (found by
a depth-first walk from the start node) are drawn thick, red and labelled ``loop`` so that the
learning loop (revise -> gather -> rollout -> score -> identify_errors -> revise) stands out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphs.registry import build_graph

START, END = "__start__", "__end__"
LOOP_COLOR = "#d0342c"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str | None
    conditional: bool
    loop: bool


@dataclass(frozen=True)
class GraphPicture:
    """What a picture needs: node ids in drawing order and classified edges."""

    name: str
    nodes: list[str]
    edges: list[Edge]


def back_edges(nodes: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Edges that point to a node still on the depth-first stack: the ones that close a cycle."""
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dst in edges:
        children.setdefault(src, []).append(dst)
        children.setdefault(dst, [])
    found: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
    roots = [START] if START in children else []
    roots += [n for n in children if n != START]
    for root in roots:
        if root in state:
            continue
        # Iterative DFS: (node, iterator over its children) frames, so deep graphs need no recursion.
        state[root] = 1
        stack = [(root, iter(children[root]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                found.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(children[nxt])))
    return found


def picture_of(graph: Any, name: str = "graph") -> GraphPicture:
    """Classify the edges of a LangGraph ``Graph`` (from ``compiled.get_graph()``)."""
    nodes = list(graph.nodes)
    raw = [(e.source, e.target) for e in graph.edges]
    loops = back_edges(nodes, raw)
    edges = []
    for e in graph.edges:
        label = str(e.data) if e.data is not None and str(e.data) != e.target else None
        edges.append(Edge(e.source, e.target, label, bool(e.conditional), (e.source, e.target) in loops))
    return GraphPicture(name, nodes, edges)


def _mermaid_id(node: str) -> str:
    # `end` is a Mermaid keyword; LangGraph's own ids (__start__, __end__) are safe. A subgraph's node
    # (`create_candidate:repair:check`, drawn with xray) keeps its name as the label; ':' is not valid in an id.
    return node.replace(":", "__")


def to_mermaid(picture: GraphPicture) -> str:
    lines = ["flowchart TD"]
    for node in picture.nodes:
        ident = _mermaid_id(node)
        if node in (START, END):
            lines.append(f"    {ident}([{node.strip('_')}]):::terminal")
        else:
            lines.append(f'    {ident}["{node}"]')
    loop_indices = []
    for i, e in enumerate(picture.edges):
        src, dst = _mermaid_id(e.source), _mermaid_id(e.target)
        if e.loop:
            label = f"loop: {e.label}" if e.label else "loop"
            lines.append(f"    {src} ==>|{label}| {dst}")
            loop_indices.append(i)
        elif e.conditional:
            lines.append(f"    {src} -. {e.label} .-> {dst}" if e.label else f"    {src} -.-> {dst}")
        else:
            lines.append(f"    {src} -->|{e.label}| {dst}" if e.label else f"    {src} --> {dst}")
    lines.append("    classDef terminal fill:#eef,stroke:#88a")
    for i in loop_indices:
        lines.append(f"    linkStyle {i} stroke:{LOOP_COLOR},stroke-width:3px")
    return "\n".join(lines) + "\n"


def to_agraph(picture: GraphPicture):
    try:
        import pygraphviz
    except ImportError:
        raise FileNotFoundError("PNG/SVG pictures need pygraphviz: pip install -e '.[viz]'") from None
    g = pygraphviz.AGraph(directed=True, strict=False, name=picture.name)
    g.graph_attr.update(rankdir="TB", fontname="Helvetica", nodesep="0.4", ranksep="0.45")
    g.node_attr.update(
        fontname="Helvetica", fontsize="11", shape="box", style="rounded,filled", fillcolor="#f3f6fb", color="#5b6b86"
    )
    g.edge_attr.update(fontname="Helvetica", fontsize="9", color="#5b6b86")
    for node in picture.nodes:
        if node in (START, END):
            g.add_node(node, label=node.strip("_"), shape="ellipse", fillcolor="#e4e4f4")
        else:
            g.add_node(node, label=node)
    for e in picture.edges:
        attrs: dict[str, str] = {}
        if e.conditional:
            attrs["style"] = "dashed"
        if e.label:
            attrs["label"] = e.label
        if e.loop:
            # constraint=false keeps the forward flow top-down; the loop arcs back beside it.
            attrs.update(
                color=LOOP_COLOR,
                fontcolor=LOOP_COLOR,
                penwidth="2.5",
                constraint="false",
                label=f"loop: {e.label}" if e.label else "loop",
            )
        g.add_edge(e.source, e.target, **attrs)
    return g


def to_svg(picture: GraphPicture) -> str:
    """Inline-ready SVG markup (no XML prolog, no DOCTYPE)."""
    data = to_agraph(picture).draw(format="svg", prog="dot")
    text = data.decode("utf-8") if isinstance(data, bytes) else str(data)
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def draw_graph(name: str, fmt: str, out_dir: Path) -> str:
    """Mermaid text (returned) or the path of a PNG written into ``out_dir``; ``name``: any of graphs.registry.GRAPHS."""
    picture = picture_of(
        build_graph(name).get_graph(xray=2), name
    )  # xray 2: the loop inside creation (graphs/repair.py) shows
    if fmt == "mermaid":
        return to_mermaid(picture)
    if fmt != "png":
        raise ValueError(f"unknown picture format {fmt!r}: use mermaid or png")
    agraph = to_agraph(picture)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}-graph.png"
    agraph.draw(str(path), format="png", prog="dot")
    return str(path)
