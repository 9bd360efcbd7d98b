"""Every default in one place (settings.defaults): the Context's fields, `run.py --help` and config.json say
the same values, and the protocol's values come from settings.protocol only."""
from __future__ import annotations

import dataclasses

from learnact.cli.flags import build_parser
from learnact.cli.resolve import resolve_settings
from learnact.cli.runs import RunDir
from learnact.cli.session import make_context
from learnact.settings.defaults import DEFAULTS, Defaults
from learnact.settings.protocol import DEFAULT_PROTOCOL, protocol_value
from nodes.context import Context

# Context field -> its name in Defaults, where the two differ.
RENAMED = {"temperature": "agent_temperature", "use_grammar": "grammar"}


def test_the_context_defaults_are_the_settings_defaults():
    shared = 0
    for f in dataclasses.fields(Context):
        name = RENAMED.get(f.name, f.name)
        if name in Defaults.__dataclass_fields__:
            assert f.default == getattr(DEFAULTS, name), f.name
            shared += 1
    assert shared >= 25


def test_the_protocol_settings_take_this_project_s_protocol_values():
    for name in DEFAULT_PROTOCOL:
        assert getattr(DEFAULTS, name) == protocol_value("default", name, "pddl/gripper"), name
    assert DEFAULTS.for_env("alfworld/put") == {"max_steps": 20, "history_window": 50, "score": "call_ratio_success"}


def test_help_states_the_defaults():
    text = " ".join(build_parser().format_help().split())
    for phrase in (
        f"cap on revision rounds (default {DEFAULTS.max_rounds};",
        f"(default {DEFAULTS.candidates};",
        f"default {DEFAULTS.learner_temperature}, so that the K samples differ",
        f"(default: {DEFAULTS.agent_max_tokens} for the agent, {DEFAULTS.learner_max_tokens} for the learner)",
        f"at least this many of the agent's last steps are shown as chat turns, trimmed 8 at a time (default {DEFAULTS.recent_steps})",
    ):
        assert phrase in text, phrase


def test_config_and_context_agree(tmp_path):
    argv = ["--graph", "learn", "--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1"]
    s = resolve_settings(build_parser().parse_args(argv))
    assert (s["max_rounds"], s["candidates"], s["recent_steps"], s["resample_refused"]) == (
        DEFAULTS.max_rounds, DEFAULTS.candidates, DEFAULTS.recent_steps, DEFAULTS.resample_refused,
    )  # fmt: skip
    assert s["models"]["learner"]["temperature"] == DEFAULTS.learner_temperature
    ctx = make_context(s, {"agent": None, "learner": None}, None, RunDir(tmp_path / "run"))
    for name in ("max_rounds", "candidates", "patience", "learn_max_steps", "score", "history_window", "recent_steps"):
        assert getattr(ctx, name) == s[name], name
    assert (ctx.learner_temperature, ctx.temperature, ctx.seed) == (0.7, 0.0, 0)
    small = resolve_settings(build_parser().parse_args(["--graph", "learn", "--max-rounds", "1", "--learner-temperature", "0.3"]))
    ctx = make_context(small, {"agent": None, "learner": None}, None, RunDir(tmp_path / "small"))
    assert (ctx.max_rounds, ctx.candidates, ctx.learner_temperature) == (1, 2, 0.3)
