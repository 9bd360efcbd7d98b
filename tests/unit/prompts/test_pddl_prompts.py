"""The PDDL prompt material says what the env does: the instruction lists every primitive with
its signature and conditions, and the worked example replays through the env word for word."""

from __future__ import annotations

import re

import pytest

from environments import make_env
from environments.pddl.prompt_material import EXAMPLE_INSTANCES, PROMPT_DIR, instruction

DOMAINS = ("gripper", "blockworld", "barman", "tyreworld")


@pytest.mark.parametrize("domain", DOMAINS)
def test_instruction_lists_every_primitive_and_is_current(domain):
    text = (PROMPT_DIR / domain / "instruction.md").read_text()
    env = make_env(f"pddl/{domain}", "gen:seed=0")
    for spec in env.primitives:
        assert f"- {spec.signature}: {spec.description}" in text
        assert spec.preconditions in text and spec.effects in text
    assert text == instruction(domain), "stale: run python -m environments.pddl.prompt_material"


@pytest.mark.parametrize("domain", DOMAINS)
def test_example_episode_replays_word_for_word(domain):
    lines = (PROMPT_DIR / domain / "example.md").read_text().splitlines()
    env = make_env(f"pddl/{domain}", EXAMPLE_INSTANCES[domain])
    obs, info = env.reset()
    assert lines[0] == f"Goal: {env.goal}" and lines[1] == f"Observation: {obs}"
    pairs = lines[2:]
    assert pairs and len(pairs) % 2 == 0
    for action_line, obs_line in zip(pairs[::2], pairs[1::2]):
        call = re.fullmatch(r"Action: (.+)", action_line).group(1)
        obs, _, _, _, info = env.step(call)
        assert info["valid"] and obs_line == f"Observation: {obs}", call
    assert info["success"]
