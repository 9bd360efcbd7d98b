"""The one way to run an episode with a library (nodes/runner.py): a checkpointed episode resumed and reused,
the inputs, and the LangChain tools over an episode opened as the episode graphs open theirs."""

from __future__ import annotations

import pytest
from conftest_helpers import CARRY, TINY_PLAN, plan_agent, tiny_gripper
from fakes import ScriptedChatModel
from langgraph.checkpoint.memory import InMemorySaver

from graphs.act import build_act_graph
from learnact.actions import ActionLibrary, Executor
from learnact.llm.usage import UsageTracker
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.runner import episode_inputs, episode_tools, play_episode


def make_ctx(respond, **kw):
    return Context(agent_model=ScriptedChatModel(respond), usage=UsageTracker(), episodes=EpisodeRegistry(), **kw)


def test_episode_inputs_leave_out_what_is_not_given_and_refuse_what_is_no_input():
    assert episode_inputs("e1", "pddl/gripper", "p1", library=None, lessons=[], max_steps=5) == {
        "episode_id": "e1",
        "env_name": "pddl/gripper",
        "instance": "p1",
        "lessons": [],
        "max_steps": 5,
    }
    with pytest.raises(TypeError, match="not an episode input: lesson"):
        episode_inputs("e1", "pddl/gripper", "p1", lesson=["typo"])


def test_a_checkpointed_episode_goes_on_from_its_last_checkpoint_and_a_finished_one_is_not_played_again(tmp_path):
    plan, asked = plan_agent(TINY_PLAN), []

    def respond(system, user):
        asked.append(user)
        if len(asked) == 2:  # the second decision is cut short once: a "kill" mid-episode
            raise KeyboardInterrupt
        return plan(system, user)

    ctx = make_ctx(respond, grammar=False)
    graph = build_act_graph(checkpointer=InMemorySaver())
    inputs = episode_inputs("e1", "pddl/gripper", tiny_gripper(tmp_path))
    events: list[dict] = []
    try:
        with pytest.raises(KeyboardInterrupt):
            play_episode(graph, inputs, ctx, thread="e1", on_event=events.append)
        assert [e["event"] for e in events if e["event"] in ("episode_start", "step")] == ["episode_start", "step"]
        final = play_episode(graph, inputs, ctx, thread="e1", on_event=events.append)
        assert final["success"] and [s["action"] for s in final["steps"]] == TINY_PLAN
        assert len(asked) == 4  # the first step was not played again: the second, retried, and the third
        assert [e["event"] for e in events].count("episode_start") == 1
        again = play_episode(graph, inputs, ctx, thread="e1", on_event=events.append)
        assert again["steps"] == final["steps"] and len(asked) == 4
    finally:
        ctx.episodes.close_all()


def test_episode_tools_open_the_episode_with_the_runs_registry_and_sandbox(tmp_path):
    made: list[Executor] = []

    def sandbox(env, library, **kwargs):
        made.append(Executor(env, library, **kwargs))
        return made[-1]

    ctx = Context(usage=UsageTracker(), episodes=EpisodeRegistry(learned_call_invalid="continue"), sandbox=sandbox)
    record = ActionLibrary.from_code(CARRY).to_dict()  # the value's record, as a JSON caller gives it
    inputs = episode_inputs("tools-1", "pddl/gripper", tiny_gripper(tmp_path), library=record)
    with episode_tools(inputs, ctx, primitives=True) as toolset:
        assert [t.name for t in toolset.tools] == ["carry"] + [p.name for p in toolset.env.primitives]
        assert toolset.executor is made[0] and made[0].invalid_primitive == "continue"
        assert "Ball1 is at roomb" in toolset.env.goal and "Robby" in toolset.first_observation
        carry = next(t for t in toolset.tools if t.name == "carry")
        observation = carry.invoke({"obj": "ball1", "src": "rooma", "dst": "roomb", "gripper": "left"})
        assert toolset.success and "Ball1 is at roomb" in observation
        assert [(s["name"], s["is_learned"], len(s["trace"])) for s in toolset.steps] == [("carry", True, 3)]
        assert "tools-1" in ctx.episodes._live
    assert "tools-1" not in ctx.episodes._live and made[0]._worker is None  # closed by its registry
