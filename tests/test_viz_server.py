"""langgraph.json names module attributes that are compiled graphs (what `langgraph dev` loads)."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

from langgraph.pregel import Pregel

ROOT = Path(__file__).resolve().parent.parent


def test_langgraph_json_points_at_compiled_graphs():
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["dependencies"] == ["."]
    assert {"learn", "act"} <= set(config["graphs"])
    for graph_id, spec in config["graphs"].items():
        path, attr = spec.split(":")
        assert (ROOT / path).is_file(), spec
        module = importlib.import_module(path.removeprefix("./").removesuffix(".py").replace("/", "."))
        # The server reads module.__dict__, so the graph must be a real attribute, not a lazy one.
        assert isinstance(module.__dict__.get(attr), Pregel), graph_id
