"""The small-model aids are one layer (nodes/assist/): with every aid off the core runs the paper's method and no
code of the layer runs; the grammar is built only for the embedded model with the grammar aid on."""

from __future__ import annotations

import importlib
import inspect
from collections import Counter

import pytest
from conftest_helpers import CARRY, TINY_PLAN, actions_taken, tiny_gripper
from fakes import ScriptedChatModel, calls_of

import nodes.assist
from graphs.act import build_act_graph
from graphs.learn import build_learn_graph
from learnact.llm import grammar as gbnf
from learnact.llm.models import LOCAL_BACKEND
from learnact.llm.usage import UsageTracker
from nodes.assist import switches
from nodes.context import Context
from nodes.episodes import EpisodeRegistry

MODULES = ("agent_prompt", "creation_trials", "decode", "probes", "state_queries", "turns", "worked_steps")
AIDS_OFF = dict(
    agent_prompt="paper",
    grammar=False,
    resample_refused=0,
    creation_trials=False,
    probe_unused=False,
    state_queries=False,
)
AIDS_ON = dict(
    agent_prompt="compact",
    grammar=True,
    typed_grammar=True,
    resample_refused=2,
    creation_trials=True,
    probe_unused=True,
    state_queries=True,
)
BAD_CALL = "carry('ball1', 'roomb', 'rooma', 'left')"  # the first primitive fails: a failed learned call to revise
NOTE = "Pass the room the ball is in as src."
LEARNER = {
    "learn.create": f"```python\n{CARRY}\n```",
    "learn.fix": f"```python\n{CARRY}\n```",
    "learn.demonstrate": "Action: carry('ball1', 'rooma', 'roomb', 'left')",
    "learn.revise": f"Failed reason: wrong argument order.\nImprove: Plan: carry\nContent: {NOTE}\nTest case: {BAD_CALL}",
}


@pytest.fixture
def assist_calls(monkeypatch) -> Counter:
    """Counts every call of a function of the assist layer (its hooks, every function of its modules but the
    switches) and of the grammar builders, whoever makes it."""
    counts: Counter = Counter()

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    modules = [(importlib.import_module(f"nodes.assist.{m}"), m) for m in MODULES]
    for module, label in [(nodes.assist, "nodes.assist"), *modules, (gbnf, "grammar")]:
        for name, fn in list(vars(module).items()):
            own = module is nodes.assist or fn.__module__ == module.__name__ if inspect.isfunction(fn) else False
            if (
                own and fn.__module__ != switches.__name__
            ):  # the switches are read by the core: they decide, they do not aid
                monkeypatch.setattr(module, name, counted(f"{label}.{name}", fn))
    return counts


def agent_fn(system: str, user: str) -> str:
    """Calls carry with the rooms swapped until the revision's note shows; without carry, the primitive plan."""
    text = system + "\n" + user
    if NOTE in text:
        return "carry('ball1', 'rooma', 'roomb', 'left')"
    return BAD_CALL if "carry(" in text else TINY_PLAN[min(actions_taken(user), 2)]


def primitives_only(system: str, user: str) -> str:
    """Never calls a learned action (so none fails: the probes' case)."""
    return TINY_PLAN[min(actions_taken(user), 2)]


def learn(tmp_path, agent_model, **knobs):
    """A learning run on the tiny gripper problem: one candidate, up to 2 rounds; (final state, context)."""
    ctx = Context(
        agent_model=agent_model,
        learner_model=ScriptedChatModel(LEARNER),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        run_dir=str(tmp_path / "run"),
        rollout_graph=build_act_graph(checkpointer=False),
        candidates=1,
        learn_max_steps=3,
        max_rounds=2,
        patience=0,
        **knobs,
    )
    try:
        return build_learn_graph().invoke(
            {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}, context=ctx
        ), ctx
    finally:
        ctx.episodes.close_all()


def test_with_every_aid_off_the_core_calls_no_assist_code(tmp_path, assist_calls):
    final, ctx = learn(tmp_path, ScriptedChatModel(agent_fn), **AIDS_OFF)
    assert [r["round"] for r in final["rounds"]] == [0, 1] and final[
        "stop_reason"
    ] == "nothing_failed"  # a revision ran
    assert switches.active(ctx) == []
    assert not assist_calls, f"assist code ran with every aid off: {dict(assist_calls)}"


def test_the_grammar_aid_builds_no_grammar_for_a_remote_model(tmp_path, assist_calls):
    final, ctx = learn(tmp_path, ScriptedChatModel(agent_fn), **{**AIDS_OFF, "grammar": True, "typed_grammar": True})
    assert final["stop_reason"] == "nothing_failed"
    assert not switches.grammar_on(ctx) and switches.active(ctx) == []
    assert not assist_calls, f"assist code ran for a model that takes no grammar: {dict(assist_calls)}"


def test_every_aid_on_is_reached_through_its_hook_and_the_grammar_goes_to_the_embedded_model(tmp_path, assist_calls):
    """The counter sees the layer when it is on (so the tests above can fail)."""
    local = ScriptedChatModel(primitives_only, metadata={"learnact_backend": LOCAL_BACKEND})  # takes a grammar
    final, ctx = learn(tmp_path, local, **AIDS_ON)
    assert switches.active(ctx) == list(switches.AIDS)
    hooks = {"agent_messages", "decode", "creation_trials", "learner_queries", "unused_action_failures"}
    assert {f"nodes.assist.{h}" for h in hooks} <= set(assist_calls), dict(assist_calls)
    assert assist_calls["decode.agent_grammar"] and any(k.startswith("grammar.") for k in assist_calls)
    assert all("grammar" in c["kwargs"]["extra_body"] for c in calls_of(local, "act.decide"))


def test_a_remote_model_gets_the_other_aids_but_no_grammar(tmp_path, assist_calls):
    final, ctx = learn(tmp_path, ScriptedChatModel(agent_fn), **AIDS_ON)
    assert switches.active(ctx) == [a for a in switches.AIDS if a != "grammar"]
    assert assist_calls["nodes.assist.agent_messages"] and assist_calls["nodes.assist.decode"]  # the resampling
    assert not assist_calls["decode.agent_grammar"] and not any(k.startswith("grammar.") for k in assist_calls)


def test_which_aids_are_on_is_read_without_building_a_model(monkeypatch):
    """``switches.active`` (for a run's record): the grammar is on only for the embedded model, told from the spec."""
    monkeypatch.delenv("LEARNACT_MODEL", raising=False)  # "local" is the default, which this variable replaces
    assert switches.active(Context(model="local", **AIDS_ON)) == list(switches.AIDS)
    assert switches.active(Context(model="gpt-4o-mini", **AIDS_ON)) == [a for a in switches.AIDS if a != "grammar"]
    assert switches.active(Context(model="local", **AIDS_OFF)) == []


def test_the_assist_switch_none_alone_turns_every_aid_off(tmp_path, assist_calls):
    """`--assist none` (Context.assist) with a remote model: the per-aid settings follow it, no assist code runs."""
    final, ctx = learn(tmp_path, ScriptedChatModel(agent_fn), assist="none")
    assert (ctx.agent_prompt, ctx.grammar, ctx.resample_refused, ctx.probe_unused) == ("paper", False, 0, False)
    assert final["stop_reason"] == "nothing_failed" and switches.active(ctx) == []
    assert not assist_calls, f"assist code ran with --assist none: {dict(assist_calls)}"


def test_the_assist_switch_small_turns_every_aid_on_for_the_embedded_model(tmp_path, assist_calls):
    local = ScriptedChatModel(primitives_only, metadata={"learnact_backend": LOCAL_BACKEND})
    final, ctx = learn(tmp_path, local, assist="small")
    assert switches.active(ctx) == list(switches.AIDS) and assist_calls["nodes.assist.decode"]
