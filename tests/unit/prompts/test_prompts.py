"""Prompt templates: validation, overrides, rendering, CLI listing."""

from __future__ import annotations

import pytest

from prompts import NODE_PLACEHOLDERS, PromptError, PromptSet, load_domain_material, parse_override
from prompts.loader import parse_template


def test_builtin_templates_are_valid_and_render():
    prompts = PromptSet()
    for node, (required, _) in NODE_PLACEHOLDERS.items():
        t = prompts.get(node)
        assert required <= t.placeholders
        messages = t.render(**{name: f"<{name}>" for name in t.placeholders})
        assert messages[-1][0] == "user"
        assert "{{" not in "".join(text for _, text in messages)


def test_unknown_placeholder_is_an_error(tmp_path):
    (tmp_path / "act.md").write_text("=== user ===\nGoal: {{goal}} {{history}} {{weather}}\n")
    with pytest.raises(PromptError, match="weather"):
        PromptSet(str(tmp_path))


def test_missing_required_placeholder_is_an_error(tmp_path):
    bad = tmp_path / "mine.md"
    bad.write_text("=== system ===\nhi\n=== user ===\nGoal: {{goal}}\n")
    with pytest.raises(PromptError, match="history"):
        PromptSet(overrides={"act": str(bad)})


def test_override_replaces_one_node_only(tmp_path):
    (tmp_path / "act.md").write_text("=== user ===\nMY PROMPT {{goal}}\n{{history}}\n")
    prompts = PromptSet(str(tmp_path))
    assert prompts.render("act", goal="g", history="h") == [("user", "MY PROMPT g\nh")]
    assert "revise" in PromptSet().get("revise_actions").source
    assert prompts.fingerprint()["act"]["source"].startswith(str(tmp_path))


def test_file_named_after_no_node_is_an_error(tmp_path):
    (tmp_path / "actt.md").write_text("=== user ===\n{{goal}}{{history}}")
    with pytest.raises(PromptError, match="no node named 'actt'"):
        PromptSet(str(tmp_path))


def test_template_needs_user_section():
    with pytest.raises(PromptError, match="user"):
        parse_template("act", "just text {{goal}} {{history}}")


def test_parse_override():
    assert parse_override("act=my.md") == ("act", "my.md")
    with pytest.raises(PromptError):
        parse_override("act")


def test_missing_override_file_is_clear():
    with pytest.raises(PromptError, match="cannot read"):
        PromptSet(overrides={"act": "/nonexistent/act.md"})


@pytest.mark.parametrize(
    "env_name",
    ["pddl/gripper", "pddl/blockworld", "pddl/barman", "pddl/tyreworld"]
    + [f"alfworld/{t}" for t in ("put", "clean", "heat", "cool", "examine", "puttwo")],
)
def test_domain_material_exists_for_every_task_type(env_name):
    material = load_domain_material(env_name)
    assert len(material.instruction) > 100
    assert "Action:" in material.example and "Goal:" in material.example


def test_domain_material_override(tmp_path):
    (tmp_path / "domains" / "gripper").mkdir(parents=True)
    (tmp_path / "domains" / "gripper" / "example.md").write_text("Goal: x\nAction: pick('a', 'b', 'c')\n")
    material = load_domain_material("pddl/gripper", str(tmp_path))
    assert material.example.startswith("Goal: x")
