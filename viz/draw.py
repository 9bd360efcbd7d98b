"""Pictures of the graphs, offline: Mermaid text or a PNG through pygraphviz."""
from __future__ import annotations

from pathlib import Path


def compiled_graph(name: str):
    if name == "learn":
        from graphs.learn import build_learn_graph

        return build_learn_graph()
    if name == "act":
        from graphs.act import build_act_graph

        return build_act_graph()
    raise ValueError(f"no graph named {name!r}")


def draw_graph(name: str, fmt: str, out_dir: Path) -> str:
    """Mermaid text (returned) or the path of a PNG written into ``out_dir``."""
    graph = compiled_graph(name).get_graph()
    if fmt == "mermaid":
        return graph.draw_mermaid()
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        raise FileNotFoundError("--draw png needs pygraphviz: pip install -e '.[viz]'") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}-graph.png"
    graph.draw_png(str(path))
    return str(path)
