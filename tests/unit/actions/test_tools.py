"""Learned actions as LangChain tools (actions.as_tools): schemas, a prebuilt LangGraph agent reaching a gripper
goal through them, the recorded trace, and hostile learned code answered with text instead of an exception."""

from __future__ import annotations

import re

import pytest
from conftest_helpers import ROOT
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.prebuilt import create_react_agent

from environments import make_env
from learnact.actions import ActionLibrary, Limits, as_tools, load_actions_file

GRIPPER_LIBRARY = ROOT / "benchmarks" / "libraries" / "gripper.py"
INSTANCE = "gen:seed=9,balls=2,rooms=3"  # Robby in roomc; ball1 roomb -> rooma, ball2 rooma -> roomb
# create_react_agent is deprecated in favour of langchain.agents.create_agent (langchain is not a dependency here).
pytestmark = pytest.mark.filterwarnings("ignore:create_react_agent has been moved")


class ToolCallingFake(GenericFakeChatModel):
    """Replies with the scripted messages in order; binding tools changes nothing."""

    def bind_tools(self, tools, **kwargs):
        return self


def scripted(*calls: tuple[str, dict]) -> ToolCallingFake:
    """A model that makes each call in turn (one per reply), then says it is done."""
    replies = [
        AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call{i}", "type": "tool_call"}])
        for i, (name, args) in enumerate(calls)
    ]
    return ToolCallingFake(messages=iter([*replies, AIMessage(content="Done.")]))


def gripper_env():
    env = make_env("pddl/gripper", INSTANCE)
    env.reset()
    return env


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Learned actions as LangChain tools", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_tools_have_names_descriptions_and_argument_schemas():
    env = gripper_env()
    library = load_actions_file(GRIPPER_LIBRARY)
    with as_tools(library, env) as learned_only, as_tools(library, env, primitives=True) as toolset:
        assert [t.name for t in learned_only.tools] == ["carry", "deliver"]
        assert [t.name for t in toolset.tools] == ["carry", "deliver", "move", "pick", "drop"]
        carry, deliver, move = toolset.tools[:3]
        assert carry.description.startswith("Bring one ball from from_room to to_room.")
        assert deliver.description.startswith("Bring ball to to_room from wherever it is")
        assert list(carry.args) == ["ball", "from_room", "to_room"]
        assert all(spec["type"] == "string" for spec in carry.args.values())
        assert carry.tool_call_schema.model_json_schema()["required"] == ["ball", "from_room", "to_room"]
        assert list(deliver.args) == ["ball", "to_room"]
        # gripper's move(from, to): a keyword is no schema field name; the description keeps the real one.
        assert list(move.args) == ["from_", "to"] and move.args["from_"]["description"] == "from"
        assert (
            move.description.startswith("Move Robby from one room to another.") and "Preconditions:" in move.description
        )


def test_usage_notes_optional_arguments_and_schema_errors_are_text():
    env = gripper_env()
    code = 'def look(room, other=None):\n    """Look around.\n\n    Says what is where."""\n    return observe()\n'
    library = ActionLibrary.from_code(code).with_note("look", "call it first", iteration=1, reason="plan")
    with as_tools(library, env) as toolset:
        (look,) = toolset.tools
        assert look.description == "Look around.\n\nSays what is where.\nUsage notes:\n- call it first"
        assert look.args["other"]["default"] is None
        assert "Robby is at roomc" in look.invoke({"room": "roomc"})
        assert look.invoke({}).startswith("Invalid action: the arguments do not fit the tool: room: Field required")
    assert [s["action"] for s in toolset.steps] == ["look('roomc')"]


def test_readme_example_drives_a_prebuilt_agent_to_the_goal(monkeypatch):
    model = scripted(
        ("deliver", {"ball": "ball1", "to_room": "rooma"}),
        ("carry", {"ball": "ball2", "from_room": "rooma", "to_room": "roomb"}),
    )
    monkeypatch.chdir(ROOT)
    namespace = {"model": model}
    exec(readme_example(), namespace)  # noqa: S102 - the README's own example, run as written
    toolset = namespace["toolset"]
    assert toolset.success and toolset.last_info["progress"] == 1.0
    steps = toolset.steps
    assert [s["action"] for s in steps] == ["deliver('ball1', 'rooma')", "carry('ball2', 'rooma', 'roomb')"]
    assert all(s["is_learned"] and s["ok"] and s["error_kind"] is None for s in steps)
    assert [t["action"] for t in steps[0]["trace"]] == [
        "move('roomc', 'roomb')",
        "pick('ball1', 'roomb', 'left')",
        "move('roomb', 'rooma')",
        "drop('ball1', 'rooma', 'left')",
    ]
    assert [t["action"] for t in steps[1]["trace"]] == [
        "pick('ball2', 'rooma', 'left')",
        "move('rooma', 'roomb')",
        "drop('ball2', 'roomb', 'left')",
    ]
    assert all(t["valid"] for s in steps for t in s["trace"])
    assert [s["index"] for s in steps] == [0, 1]


def test_agent_reads_tool_results_and_primitives_are_recorded_too():
    env = gripper_env()
    model = scripted(
        ("move", {"from_": "roomc", "to": "roomb"}),
        ("deliver", {"ball": "ball1", "to_room": "rooma"}),
        ("deliver", {"ball": "ball2", "to_room": "roomb"}),
    )
    with as_tools(load_actions_file(GRIPPER_LIBRARY), env, primitives=True) as toolset:
        out = create_react_agent(model, toolset.tools).invoke({"messages": [("user", env.goal)]})
    tool_messages = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert [m.name for m in tool_messages] == ["move", "deliver", "deliver"]
    assert "Robby is at roomb" in tool_messages[0].content
    assert toolset.success and out["messages"][-1].content == "Done."
    assert [(s["name"], s["is_learned"], len(s["trace"])) for s in toolset.steps] == [
        ("move", False, 1),
        ("deliver", True, 3),
        ("deliver", True, 3),
    ]


HOSTILE = '''
def boom(ball):
    """Raises."""
    raise ValueError("boom " + ball)


def spin(ball):
    """Never returns."""
    while True:
        pass


def sneak(ball):
    """Imports."""
    import os
    return os.getcwd()


def wrong_room(ball):
    """Picks where the ball is not."""
    return pick(ball, 'roomc', 'left')
'''


def test_hostile_learned_calls_return_error_text_and_the_tools_keep_working():
    env = gripper_env()
    library = ActionLibrary.from_code(GRIPPER_LIBRARY.read_text(encoding="utf-8") + "\n\n" + HOSTILE)
    calls = [(name, {"ball": "ball1"}) for name in ("boom", "spin", "sneak", "wrong_room")]
    model = scripted(
        *calls, ("deliver", {"ball": "ball1", "to_room": "rooma"}), ("deliver", {"ball": "ball2", "to_room": "roomb"})
    )
    with as_tools(library, env, limits=Limits(wall_s=1.0)) as toolset:
        out = create_react_agent(model, toolset.tools).invoke({"messages": [("user", env.goal)]})
    replies = {m.name: m.content for m in out["messages"] if isinstance(m, ToolMessage)}
    assert "boom failed (exception) before any primitive step: raised ValueError: boom ball1" in replies["boom"]
    assert "spin failed (timeout)" in replies["spin"]
    assert "sneak failed (forbidden)" in replies["sneak"]
    assert (
        "wrong_room failed at primitive step 1: pick('ball1', 'roomc', 'left') is not valid here."
        in replies["wrong_room"]
    )
    kinds = [(s["name"], s["is_learned"], s["ok"], s["error_kind"]) for s in toolset.steps]
    assert kinds[:4] == [
        ("boom", True, False, "exception"),
        ("spin", True, False, "timeout"),
        ("sneak", True, False, "forbidden"),
        ("wrong_room", True, False, "invalid_primitive"),
    ]
    assert [(t["action"], t["valid"]) for t in toolset.steps[3]["trace"]] == [("pick('ball1', 'roomc', 'left')", False)]
    assert toolset.success and all(s["ok"] for s in toolset.steps[4:])  # a fresh worker after the timeout


def test_an_environment_error_is_text_and_the_tools_recover():
    env = gripper_env()
    toolset = as_tools(load_actions_file(GRIPPER_LIBRARY), env)
    deliver = toolset.tools[1]
    step = env.step

    def broken_step(action):
        raise RuntimeError("the simulator fell over")

    env.step = broken_step
    reply = deliver.invoke({"ball": "ball1", "to_room": "rooma"})
    assert reply == "Invalid action: the call could not run: RuntimeError: the simulator fell over"
    assert toolset.steps[-1]["error_kind"] == "tool_error" and toolset.steps[-1]["ok"] is False
    env.step = step
    assert "Ball1 is at rooma" in deliver.invoke({"ball": "ball1", "to_room": "rooma"})  # a fresh worker
    worker = toolset.executor._worker
    toolset.close()
    assert toolset.executor._worker is None and not worker.alive


def test_parameter_names_that_are_no_schema_field_still_make_a_tool():
    code = (
        "def odd(json, model_config, self, config, _hidden, lambda_, *rest):\n"
        '    """Odd names."""\n    return observe()\n'
    )
    with as_tools(ActionLibrary.from_code(code), gripper_env()) as toolset:
        (odd,) = toolset.tools
        assert list(odd.args) == ["json_", "model_config_", "self_", "config_", "hidden", "lambda_", "rest"]
        args = {name: "x" for name in list(odd.args)[:-1]}
        assert "Robby is at roomc" in odd.invoke({**args, "rest": ["y", "z"]})
    assert toolset.steps[-1]["action"] == "odd('x', 'x', 'x', 'x', 'x', 'x', 'y', 'z')"
