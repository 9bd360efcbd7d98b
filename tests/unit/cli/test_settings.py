"""Each setting declared once (learnact.settings.table): the Context's fields, `run.py --help`, config.json and the
README's protocol table are made from it; one model rule; --assist gives the small-model aids' defaults."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from conftest_helpers import ROOT

from learnact.cli.flags import build_parser
from learnact.cli.protocol import NOT_RECORDED
from learnact.cli.resolve import resolve_settings
from learnact.cli.runs import RunDir
from learnact.cli.session import make_context
from learnact.settings.defaults import DEFAULTS
from learnact.settings.protocol import DEFAULT_PROTOCOL, protocol_value
from learnact.settings.registry import default_assist, default_model
from learnact.settings.render import protocol_table, table_region
from learnact.settings.table import SETTINGS
from nodes.context import Context

GRIPPER = ["--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1"]
AIDS = [s for s in SETTINGS.values() if s.is_aid]


@pytest.fixture(autouse=True)
def no_model_from_the_environment(monkeypatch):
    for name in ("LEARNACT_MODEL", "OPENAI_API_KEY", "LEARNACT_BASE_URL", "LEARNACT_LEARNER_MODEL"):
        monkeypatch.delenv(name, raising=False)


def settings_for(*argv: str) -> dict:
    return resolve_settings(build_parser().parse_args(["--graph", "learn", *GRIPPER, *argv]))


def test_the_context_fields_are_the_settings():
    fields = {f.name: f for f in dataclasses.fields(Context)}
    for s in SETTINGS.values():
        assert (s.name in fields) == s.context, s.name
        if s.context and not s.is_aid:
            assert fields[s.name].default in (s.value("pddl/"), dataclasses.MISSING), s.name
    ctx = Context()  # the embedded model: the aids of assist small, today's defaults
    assert ctx.assist == "small" and {s.name: getattr(ctx, s.name) for s in AIDS} == {
        s.name: s.assist["small"] for s in AIDS
    }
    assert (ctx.grammar, ctx.agent_prompt, ctx.resample_refused) == (True, "compact", 2)


def test_the_protocol_settings_take_this_project_s_protocol_values():
    for name in DEFAULT_PROTOCOL:
        assert getattr(DEFAULTS, name) == protocol_value("default", name, "pddl/gripper"), name
    assert DEFAULTS.for_env("alfworld/put") == {"max_steps": 20, "history_window": 50, "score": "call_ratio_success"}


def test_help_states_each_setting_and_its_default():
    text = " ".join(build_parser().format_help().split())
    for s in SETTINGS.values():
        assert s.option in text, s.name
    for phrase in (
        f"(default {DEFAULTS.max_rounds}; --protocol paper: 2)",
        f"(default: {DEFAULTS.agent_max_tokens} for the agent, {DEFAULTS.learner_max_tokens} for the learner)",
        "trimmed 8 at a time (default 3)",
        "(--assist small: True; none: False)",
        "--learner-model-name LEARNER_MODEL_NAME, --learner-model LEARNER_MODEL_NAME",
        "--no-grammar",
        "--no-probe",
        "--untyped-grammar",
        "--no-demonstration",
    ):
        assert phrase in text, phrase


def test_config_and_context_agree(tmp_path):
    s = settings_for()
    for name in SETTINGS:
        assert (name in s) == (name not in NOT_RECORDED["learn"]), name
    assert (s["max_rounds"], s["candidates"], s["recent_steps"], s["resample_refused"]) == (3, 4, 3, 2)
    assert s["models"]["learner"]["temperature"] == DEFAULTS.learner_temperature
    ctx = make_context(s, {"agent": None, "learner": None}, None, RunDir(tmp_path / "run"))
    for name in SETTINGS:
        if SETTINGS[name].context and name in s:
            assert getattr(ctx, name) == s[name], name
    assert (ctx.learner_temperature, ctx.agent_temperature, ctx.seed) == (0.7, 0.0, 0)
    small = resolve_settings(
        build_parser().parse_args(["--graph", "learn", "--max-rounds", "1", "--learner-temperature", "0.3"])
    )
    ctx = make_context(small, {"agent": None, "learner": None}, None, RunDir(tmp_path / "small"))
    assert (ctx.max_rounds, ctx.candidates, ctx.learner_temperature) == (1, 2, 0.3)


def test_the_data_folder_reaches_the_episodes_that_make_the_environments(tmp_path):
    """--data-dir is read where environments are made (the run's EpisodeRegistry), not only kept on the Context."""
    folder = tmp_path / "data"
    s = settings_for("--data-dir", str(folder))
    ctx = make_context(s, {"agent": None, "learner": None}, None, RunDir(tmp_path / "run"))
    assert ctx.data_dir == str(folder) and ctx.episodes.data_dir == str(folder)


def test_the_readme_protocol_table_is_the_generated_one():
    assert table_region((ROOT / "README.md").read_text(encoding="utf-8")) == protocol_table(), (
        "regenerate it: python -m learnact.settings.render README.md"
    )


# ---------------------------------------------------------------- one model rule


def test_one_model_rule_for_run_py_and_the_context(monkeypatch):
    assert default_model(environ={}) == "local"
    assert default_model(environ={"OPENAI_API_KEY": "k"}) == default_model("http://x", environ={}) == "gpt-4o-mini"
    assert default_model("http://x", environ={"LEARNACT_MODEL": "mine", "OPENAI_API_KEY": "k"}) == "mine"
    for environ, expected in (
        ({}, "local"),
        ({"LEARNACT_MODEL": "mine"}, "mine"),
        ({"OPENAI_API_KEY": "k"}, "gpt-4o-mini"),
    ):
        monkeypatch.delenv("LEARNACT_MODEL", raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        s = settings_for()
        assert (s["model"], s["models"]["agent"]["model"], Context().model) == (expected, expected, expected), environ
    s = settings_for("--model", "given", "--timeout", "7", "--max-retries", "1", "--cache")
    assert (s["timeout"], s["max_retries"], s["cache"]) == (7, 1, True)
    ctx = Context(model="given", timeout=7, max_retries=1, rps=2.0, cache=True, run_dir="/tmp/r")
    spec = ctx.model_spec("learner")
    assert (spec.timeout_s, spec.max_retries, spec.requests_per_second, ctx.cache_dir()) == (
        7,
        1,
        2.0,
        "/tmp/r/llm-cache",
    )


# ---------------------------------------------------------------- --assist


def aids(values) -> dict:
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    return {s.name: get(s.name) for s in AIDS}


SMALL = {s.name: s.assist["small"] for s in AIDS}
NONE = {s.name: s.assist["none"] for s in AIDS}


def test_assist_defaults_from_the_model_and_the_protocol():
    assert (default_assist("local"), default_assist("gpt-4o-mini"), default_assist("local", "paper")) == (
        "small",
        "none",
        "none",
    )
    cases = {
        (): ("small", SMALL),  # the embedded model: today's defaults
        ("--model", "stub-model", "--base-url", "http://x"): ("none", NONE),
        ("--protocol", "paper"): ("none", NONE),
        ("--model", "stub-model", "--assist", "small"): ("small", SMALL),
        ("--protocol", "paper", "--assist", "small"): ("small", SMALL),
        ("--agent-model", "gpt-4o-mini", "--learner-model", "local"): ("none", NONE),  # the agent's model decides
    }
    for argv, (level, expected) in cases.items():
        s = settings_for(*argv)
        assert (s["assist"], aids(s)) == (level, expected), argv
    assert settings_for("--protocol", "paper", "--assist", "small")["protocol_departures"] == {"assist": "small"}
    assert (Context().assist, Context(model="gpt-4o").assist, Context(model="gpt-4o", assist="small").assist) == (
        "small",
        "none",
        "small",
    )
    assert aids(Context(model="gpt-4o")) == NONE and aids(Context(model="gpt-4o", assist="small")) == SMALL


def test_an_aid_s_own_setting_beats_the_assist_level():
    s = settings_for("--model", "stub-model", "--grammar", "--resample-refused", "1", "--agent-prompt", "compact")
    assert s["assist"] == "none" and (s["grammar"], s["resample_refused"], s["agent_prompt"]) == (True, 1, "compact")
    assert s["typed_grammar"] is False and s["probe_unused"] is False  # the others follow the level
    s = settings_for("--no-probe", "--untyped-grammar", "--no-state-queries")  # the older spellings still work
    assert s["assist"] == "small" and (s["probe_unused"], s["typed_grammar"], s["state_queries"], s["grammar"]) == (
        False,
        False,
        False,
        True,
    )
    ctx = Context(model="gpt-4o", grammar=True, creation_trials=True)
    assert (ctx.grammar, ctx.creation_trials, ctx.probe_unused) == (True, True, False)
    ctx = Context(assist="none")
    assert aids(ctx) == NONE


# ---------------------------------------------------------------- a setting added in one place

THROWAWAY = """
import json, sys
from learnact.settings import table
from learnact.settings.registry import Setting
table.SETTINGS["throwaway_knob"] = Setting("throwaway_knob", int, 7, "A throw-away knob of the test", group="learning",
                                           paper=9, choices=(5, 7, 9))
from learnact.cli.commands import open_run
from learnact.cli.flags import build_parser
from learnact.cli.protocol import NOT_RECORDED
from learnact.cli.runs import RunDir
from learnact.cli.session import make_context
from learnact.settings.render import protocol_table
from graphs.registry import build_graph

argv = ["--graph", "act", "--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1", "--run-dir", sys.argv[1]]
run, settings = open_run(build_parser().parse_args([*argv, "--throwaway-knob", "5"]))
ctx = make_context(settings, {"agent": None, "learner": None}, None, run)
print(json.dumps({
    "help": " ".join(build_parser().format_help().split()),
    "config": json.loads((run.path / "config.json").read_text()),
    "context": ctx.throwaway_knob,
    "schema": build_graph("act").get_context_jsonschema()["properties"].get("throwaway_knob"),
    "table": protocol_table(),
}))
"""


def test_a_setting_added_in_one_place_appears_everywhere(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", THROWAWAY, str(tmp_path / "run")], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout)
    assert "--throwaway-knob {5,7,9} a throw-away knob of the test (default 7; --protocol paper: 9)" in seen["help"]
    assert seen["config"]["throwaway_knob"] == 5 and seen["context"] == 5
    assert seen["schema"]["default"] == 7 and seen["schema"]["description"].startswith("A throw-away knob of the test")
    assert (
        "| throwaway_knob | `7` | `9` | `--throwaway-knob` (`throwaway_knob`) | A throw-away knob of the test |"
        in seen["table"]
    )
    assert "throwaway_knob" not in SETTINGS and "throwaway_knob" not in (ROOT / "README.md").read_text()
