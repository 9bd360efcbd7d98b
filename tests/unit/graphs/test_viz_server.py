"""The graph registry: langgraph.json, graphs/server.py and `run.py --graph` name the same graphs, and every
graph takes an input schema (what Studio's input form shows) without the graph's internal counters."""

from __future__ import annotations

import importlib
import json

import pytest
from conftest_helpers import ROOT
from langgraph.pregel import Pregel

from graphs.registry import COMMANDS, GRAPHS, build_graph


def test_langgraph_json_points_at_compiled_graphs():
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["dependencies"] == ["."]
    assert set(config["graphs"]) == set(GRAPHS)
    for graph_id, spec in config["graphs"].items():
        path, attr = spec.split(":")
        assert (ROOT / path).is_file(), spec
        module = importlib.import_module(path.removeprefix("./").removesuffix(".py").replace("/", "."))
        # The server reads module.__dict__, so the graph must be a real attribute, not a lazy one.
        assert isinstance(module.__dict__.get(attr), Pregel), graph_id


def test_the_command_line_runs_the_registry_s_graphs():
    from learnact.cli.flags import build_parser

    (graph_flag,) = [a for a in build_parser()._actions if a.dest == "graph"]
    assert tuple(graph_flag.choices) == COMMANDS and set(COMMANDS) < set(GRAPHS)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_every_graph_has_an_input_schema_without_internal_counters(name):
    schema = build_graph(name).get_input_jsonschema()
    json.dumps(schema)
    assert not {"round", "stale_rounds", "steps", "rollouts", "candidates", "results"} & set(schema["properties"])
    required = {
        "act": {"env_name", "instance"},
        "react": {"env_name", "instance"},
        "code_as_policy": {"env_name", "instance"},
        "learn": {"env_name", "train_instances"},
        "reflexion": {"env_name", "train_instances"},
        "evaluate": {"methods", "train", "test"},
        "create": {"env_name", "train_instances", "candidate_id"},
    }
    assert set(schema["required"]) == required[name]
