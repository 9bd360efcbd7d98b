"""The Act and ReAct graphs with scripted models on a real PDDL environment and the real sandbox."""

from __future__ import annotations

import pytest
from conftest_helpers import CARRY, TINY_PLAN, plan_agent, tiny_gripper
from conftest_helpers import run_episode_graph as run
from fakes import ScriptedChatModel

from graphs.act import build_act_graph
from graphs.react import build_react_graph
from learnact.actions import ActionLibrary
from learnact.llm.usage import UsageTracker
from nodes.act import clean_action_line
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.records import episode_record


def make_ctx(respond, **kw):
    return Context(agent_model=ScriptedChatModel(respond), usage=UsageTracker(), episodes=EpisodeRegistry(), **kw)


def test_act_solves_with_primitives(tmp_path):
    ctx = make_ctx(plan_agent(TINY_PLAN))
    final = run(build_act_graph(), ctx, tiny_gripper(tmp_path))
    assert final["success"] is True and final["stop_reason"] == "success"
    assert [s["action"] for s in final["steps"]] == TINY_PLAN
    assert all(s["ok"] and not s["is_learned"] for s in final["steps"])
    record = episode_record(final, method="act", usage=ctx.usage.totals(key="e1"))
    assert record["steps"] == 3 and record["primitive_steps"] == 3 and record["tokens"] > 0
    first = ctx.agent_model.calls[0]["user"]
    assert "ball1 is in rooma; it must go to roomb." in first and "pick(" in ctx.agent_model.calls[0]["system"]


def test_paper_prompt_shape_is_one_flag_away(tmp_path):
    ctx = make_ctx(plan_agent(TINY_PLAN), agent_prompt="paper")
    final = run(build_act_graph(), ctx, tiny_gripper(tmp_path))
    assert final["success"]
    user = ctx.agent_model.calls[-1]["user"]
    assert user.startswith("Goal:") and "Action: pick('ball1', 'rooma', 'left')" in user and "Now:" not in user


def test_compact_prompt_worked_turns_then_the_episode_as_turns(tmp_path):
    seen = []

    class Recorder(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            seen.append([(m.type, m.content) for m in messages])
            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    replies = iter(["move('roomb', 'rooma')"] * 5)  # refused: Robby is in rooma
    ctx = Context(
        agent_model=Recorder(lambda s, u: next(replies, "pick('ball1', 'rooma', 'left')")),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        max_steps=6,
        recent_steps=2,
        grammar=False,
        resample_refused=0,
    )
    run(build_act_graph(), ctx, tiny_gripper(tmp_path))
    # system, then the example's worked steps as user/assistant pairs, then the episode's, then the current user turn
    first = [t for t, _ in seen[0]]
    assert first[0] == "system" and first[1:3] == ["human", "ai"] and first[-1] == "human"
    for before, after in zip(seen, seen[1:]):  # a step appends: its call, its result, the new view
        assert after[: len(before) - 1] == before[:-1]
        assert after[len(before)] == ("ai", "move('roomb', 'rooma')")
        assert after[len(before) - 1][1] == before[-1][1][: before[-1][1].index("\nNow:\n")]
    last_user = seen[-1][-1][1]
    assert last_user.startswith("Result: NOT POSSIBLE, nothing changed.") and "Step 6.\nNow:\n" in last_user
    assert "Tried here" not in last_user  # the refused call is in the turns above with its result
    episode = seen[-1][len(seen[0]) - 1 : -1]  # after the worked turns: all 5 steps (one chunk)
    assert [c for t, c in episode if t == "ai"] == ["move('roomb', 'rooma')"] * 5


def test_a_learned_call_is_one_step_running_several_primitives(tmp_path):
    lib = ActionLibrary.from_code(CARRY)
    ctx = make_ctx(lambda s, u: "Action: carry('ball1', 'rooma', 'roomb', 'left')")
    final = run(build_act_graph(), ctx, tiny_gripper(tmp_path), library=lib.to_dict())
    assert final["success"] and len(final["steps"]) == 1
    step = final["steps"][0]
    assert step["is_learned"] and step["ok"] and step["name"] == "carry"
    assert [t["action"] for t in step["trace"]] == TINY_PLAN
    system = ctx.agent_model.calls[0]["system"]
    assert "carry(obj, src, dst, gripper)" in system and "Carry a ball" in system


def test_failed_learned_call_and_garbage_replies_are_steps_not_crashes(tmp_path):
    lib = ActionLibrary.from_code(CARRY)
    replies = iter(["carry('ball1', 'roomb', 'rooma', 'left')", "I would like to pick the ball", "", "fly('x')"])
    ctx = make_ctx(lambda s, u: next(replies, "move('rooma', 'roomb')"), max_steps=5)
    final = run(build_act_graph(), ctx, tiny_gripper(tmp_path), library=lib.to_dict())
    assert final["stop_reason"] == "max_steps" and len(final["steps"]) == 5 and not final["success"]
    first = final["steps"][0]
    assert first["is_learned"] and not first["ok"] and first["error_kind"] == "invalid_primitive"
    assert first["trace"][0]["valid"] is False
    assert [s["ok"] for s in final["steps"][1:4]] == [False, False, False]
    assert final["steps"][3]["error_kind"] == "unknown_name"


def test_react_thoughts_count_as_steps(tmp_path):
    script = ["Think: the ball is in rooma, pick it first."] + TINY_PLAN
    ctx = make_ctx(plan_agent(script))
    final = run(build_react_graph(), ctx, tiny_gripper(tmp_path))
    assert final["success"] and len(final["steps"]) == 4
    assert final["steps"][0]["thought"] and final["steps"][0]["observation"] == "OK."
    assert "Think:" in ctx.agent_model.calls[0]["system"]


def test_lessons_and_notes_reach_the_prompt(tmp_path):
    lib = ActionLibrary.from_code(CARRY).with_note(
        "carry", "Only call carry when the robot is in src.", iteration=1, reason="test"
    )
    ctx = make_ctx(plan_agent(TINY_PLAN))
    run(
        build_act_graph(),
        ctx,
        tiny_gripper(tmp_path),
        library=lib.to_dict(),
        lessons=["Move only when holding a ball."],
    )
    system = ctx.agent_model.calls[0]["system"]
    assert "Only call carry when the robot is in src." in system and "Move only when holding a ball." in system


def test_registry_rebuilds_a_lost_episode_by_replaying_primitives(tmp_path):
    inst = tiny_gripper(tmp_path)
    ctx = make_ctx(plan_agent(TINY_PLAN[:2]), max_steps=2)
    final = run(build_act_graph(), ctx, inst)
    assert len(final["steps"]) == 2
    fresh = EpisodeRegistry()
    rt = fresh.get(final, ctx.sandbox)  # no live runtime: rebuilt and replayed
    try:
        _, _, _, _, info = rt.env.step(TINY_PLAN[2])
        assert info["valid"] and info["success"]
    finally:
        fresh.close_all()


@pytest.mark.parametrize(
    "reply,expected",
    [
        ("Action: pick('a', 'b')", "pick('a', 'b')"),
        ("```\nmove('x', 'y')\n```", "move('x', 'y')"),
        ("> act: drop('a')\nmore text", "drop('a')"),
        ("I will call move('x', 'y') now", "move('x', 'y')"),
        ("", ""),
    ],
)
def test_clean_action_line(reply, expected):
    assert clean_action_line(reply) == expected


def test_clean_action_line_keeps_react_thoughts():
    assert clean_action_line("think: go left", allow_think=True) == "Think: go left"
    assert clean_action_line("think: go left") == "think: go left"


def test_valid_actions_only_grammar_follows_the_state_and_keeps_learned_actions(tmp_path):
    """``--valid-actions-only``: every decide call's grammar lists exactly the primitive calls valid right then."""
    from learnact.llm.models import LOCAL_BACKEND

    model = ScriptedChatModel(plan_agent(TINY_PLAN), metadata={"learnact_backend": LOCAL_BACKEND})  # takes a grammar
    ctx = Context(agent_model=model, usage=UsageTracker(), episodes=EpisodeRegistry(), valid_actions_only=True)
    lib = ActionLibrary.from_code(CARRY)
    final = run(build_act_graph(), ctx, tiny_gripper(tmp_path), library=lib.to_dict())
    assert final["success"] and [s["action"] for s in final["steps"]] == TINY_PLAN

    def choices(call) -> set[str]:
        grammar = call["kwargs"]["extra_body"]["grammar"]
        line = next(l for l in grammar.splitlines() if l.startswith("choice ::= "))
        assert grammar.splitlines()[0] == "root ::= choice | named" and '"carry(" arg' in grammar  # learned: free args
        return {alt.strip()[1:-1] for alt in line.removeprefix("choice ::= ").split(" | ")}

    # What the environment itself says is valid before each of the three steps.
    from environments import make_env

    env = make_env("pddl/gripper", tiny_gripper(tmp_path))
    env.reset()
    expected = []
    for action in TINY_PLAN:
        expected.append(set(env.valid_actions()))
        env.step(action)
    env.close()
    assert [choices(c) for c in model.calls] == expected
    assert "drop('ball1', 'roomb', 'left')" in expected[2] and "drop('ball1', 'roomb', 'left')" not in expected[0]
