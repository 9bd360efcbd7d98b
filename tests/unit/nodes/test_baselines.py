"""The baselines with scripted models on a real PDDL environment and the real sandbox:
ReAct (thoughts are steps), cross-task Reflexion (on Act and on ReAct) and Code-as-Policies."""

from __future__ import annotations

import re

import pytest
from conftest_helpers import TINY_GRIPPER, TINY_PLAN, actions_taken, plan_agent, tiny_gripper
from conftest_helpers import run_episode_graph as run_episode
from fakes import ScriptedChatModel
from langgraph.types import Send

from graphs.act import build_act_graph
from graphs.code_as_policy import build_code_as_policy_graph
from graphs.react import build_react_graph
from graphs.reflexion import build_reflexion_graph
from learnact.actions import Executor
from learnact.llm.usage import UsageTracker
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.records import episode_record
from nodes.reflexion import plan_reflexion_rollouts

# Same world as TINY_GRIPPER, but ball1 starts in roomb and must go to rooma: TINY_PLAN fails here.
REVERSED = (
    TINY_GRIPPER.replace("tiny-gripper", "reversed-gripper")
    .replace("(at ball1 rooma))", "(at ball1 roomb))")
    .replace("(:goal (and (at ball1 roomb))))", "(:goal (and (at ball1 rooma))))")
)
REV_PLAN = [
    "move('rooma', 'roomb')",
    "pick('ball1', 'roomb', 'left')",
    "move('roomb', 'rooma')",
    "drop('ball1', 'rooma', 'left')",
]
LESSON = "Go to the room the ball is in before picking it up."
REACT_SYSTEM = "At each step you either think or act."  # from prompts/templates/react.md
REFLECT_SYSTEM = "You analyse a failed attempt"  # from prompts/templates/reflect.md
LESSONS_HEADER = "Lessons from earlier attempts:"


def reversed_gripper(tmp_path) -> str:
    path = tmp_path / "reversed.pddl"
    path.write_text(REVERSED)
    return str(path)


def is_reversed(user: str) -> bool:
    """The agent's prompt is for the reversed instance (its goal asks for ball1 in rooma): the paper
    prompt's goal line, or the compact prompt's current turn (after its worked steps)."""
    current = user.rsplit("\nStep ", 1)[-1]
    return (
        re.search(r"^Goal: .*Ball1 is at rooma\.", user, re.MULTILINE) is not None or "it must go to rooma." in current
    )


def make_ctx(agent_fn, learner_fn=None, **kw) -> Context:
    return Context(
        agent_model=ScriptedChatModel(agent_fn),
        learner_model=ScriptedChatModel(learner_fn or (lambda s, u: "unused")),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        **{"resample_refused": 0, **kw},  # scripted agents here repeat calls on purpose; counts stay exact
    )


class SandboxLines(list):
    """Every line the run's sandbox runs (the only way an agent step reaches the environment); ``sandbox``
    is the ``Context.sandbox`` that records them."""

    def sandbox(self, env, library, **options) -> Executor:
        lines = self

        class Spy(Executor):
            def run(self, line):
                if not str(self.env.instance).startswith("gen:"):  # not the compact prompt's worked steps
                    lines.append(line)
                return super().run(line)

        return Spy(env, library, **options)


@pytest.fixture
def executor_lines() -> SandboxLines:
    return SandboxLines()


# ---------------------------------------------------------------------------------------- ReAct
def test_react_thought_is_a_step_that_gets_ok_and_never_reaches_the_environment(tmp_path, executor_lines):
    script = ["Think: the ball is in rooma, so pick it first.", "think: then carry it to roomb.", *TINY_PLAN]
    ctx = make_ctx(plan_agent(script), agent_prompt="paper", sandbox=executor_lines.sandbox)
    final = run_episode(build_react_graph(), ctx, tiny_gripper(tmp_path))

    assert final["success"] and final["stop_reason"] == "success"
    assert len(final["steps"]) == 5  # two thoughts + three actions, all counted
    thoughts, actions = final["steps"][:2], final["steps"][2:]
    assert [s["action"] for s in thoughts] == [
        "Think: the ball is in rooma, so pick it first.",
        "Think: then carry it to roomb.",
    ]
    for s in thoughts:
        assert s["thought"] and s["ok"] and s["observation"] == "OK." and s["trace"] == [] and not s["is_learned"]
    assert [s["action"] for s in actions] == TINY_PLAN and not any(s.get("thought") for s in actions)
    assert executor_lines == TINY_PLAN  # the thoughts never touched the environment
    # The first real action still sees the initial world: picking from rooma works.
    assert actions[0]["ok"] and "carrying ball1" in actions[0]["observation"]

    calls = ctx.agent_model.calls
    assert len(calls) == 5 and all(REACT_SYSTEM in c["system"] for c in calls)
    assert "Think: the ball is in rooma, so pick it first.\nObservation: OK." in calls[1]["user"]
    assert "Action: Think" not in calls[-1]["user"]  # thoughts are shown as thoughts, not as actions
    record = episode_record(final, method="react", usage=ctx.usage.totals(key="e1"))
    assert record["steps"] == 5 and record["primitive_steps"] == 3 and record["tokens"] > 0


def test_react_compact_prompt_shows_a_thought_as_the_agent_s_turn(tmp_path):
    script = ["Think: the ball is in rooma, so pick it first.", *TINY_PLAN]
    ctx = make_ctx(plan_agent(script))
    final = run_episode(build_react_graph(), ctx, tiny_gripper(tmp_path))
    assert final["success"] and len(final["steps"]) == 4
    second = ctx.agent_model.calls[1]
    assert REACT_SYSTEM in second["system"] and "Step 2." in second["user"]
    # the thought is the agent's turn, answered "OK." like an action's result, then the next step's view
    assert "Think: the ball is in rooma, so pick it first.\nOK.\n\nStep 2.\nNow:" in second["user"]


def test_react_thoughts_use_up_the_step_cap(tmp_path, executor_lines):
    ctx = make_ctx(lambda s, u: "Think: I am not sure yet.", max_steps=4, sandbox=executor_lines.sandbox)
    final = run_episode(build_react_graph(), ctx, tiny_gripper(tmp_path))
    assert final["stop_reason"] == "max_steps" and not final["success"] and final["progress"] == 0.0
    assert len(final["steps"]) == 4 and all(s["thought"] for s in final["steps"])
    assert len(ctx.agent_model.calls) == 4 and executor_lines == []


def test_act_does_not_take_thoughts(tmp_path, executor_lines):
    """The same reply in the Act baseline is a (failed) action, not a free thought."""
    ctx = make_ctx(plan_agent(["Think: pick first.", *TINY_PLAN]), sandbox=executor_lines.sandbox)
    final = run_episode(build_act_graph(), ctx, tiny_gripper(tmp_path))
    first = final["steps"][0]
    assert not first.get("thought") and not first["ok"] and first["observation"].startswith("Invalid action")
    assert executor_lines[0].startswith("Think")
    assert REACT_SYSTEM not in ctx.agent_model.calls[0]["system"]


# ------------------------------------------------------------------------------------ Reflexion
def learning_agent(plan_with_lesson=REV_PLAN, prefix=()):
    """Replays TINY_PLAN; once it has been given LESSON it replays the right plan on the reversed instance."""

    def respond(system: str, user: str) -> str:
        plan = [*prefix, *(plan_with_lesson if LESSON in system and is_reversed(user) else TINY_PLAN)]
        return plan[min(actions_taken(user), len(plan) - 1)]

    return respond


def reflexion(ctx, instances, **inputs):
    state = {"env_name": "pddl/gripper", "train_instances": instances, **inputs}
    try:
        return build_reflexion_graph().invoke(state, context=ctx)
    finally:
        ctx.episodes.close_all()


def by_round(final) -> dict[int, dict[str, bool]]:
    out: dict[int, dict[str, bool]] = {}
    for r in final["rollouts"]:
        out.setdefault(r["round"], {})[r["instance"]] = r["success"]
    return out


def test_reflexion_asks_lessons_only_for_failures_and_stops_when_all_succeed(tmp_path):
    tiny, rev = tiny_gripper(tmp_path), reversed_gripper(tmp_path)
    messy = "  Go to the room the ball\n   is in before picking it up.  \n"  # normalised to LESSON
    ctx = make_ctx(
        learning_agent(),
        lambda s, u: messy,
        rollout_graph=build_act_graph(checkpointer=False),
        learn_max_steps=5,
        max_steps=30,
    )
    final = reflexion(ctx, [tiny, rev], max_rounds=3)

    assert by_round(final) == {0: {tiny: True, rev: False}, 1: {tiny: True, rev: True}}
    assert final["stop_reason"] == "all_succeeded" and final["round"] == 2
    assert final["lessons"] == [LESSON]
    learner_calls = ctx.learner_model.calls
    assert len(learner_calls) == 1  # only the failed episode of round 0 was reflected on
    prompt = learner_calls[0]
    assert REFLECT_SYSTEM in prompt["system"]
    assert "Ball1 is at rooma." in prompt["user"] and "Action: pick('ball1', 'rooma', 'left')" in prompt["user"]
    assert "Previous lessons:\n(none)" in prompt["user"]
    # Round 0 (no lesson): 3 steps on tiny + 5 (the cap) on reversed; round 1 with the lesson: 3 + 4.
    with_lesson = [c for c in ctx.agent_model.calls if LESSON in c["system"]]
    without = [c for c in ctx.agent_model.calls if LESSON not in c["system"]]
    assert len(without) == 8 and len(with_lesson) == 7
    assert all(LESSONS_HEADER in c["system"] for c in with_lesson) and not any(
        LESSONS_HEADER in c["system"] for c in without
    )
    # Rollouts use the learning step cap (learn_max_steps, as LearnAct's rollouts), not the test-time 30.
    failed = next(r for r in final["rollouts"] if not r["success"])
    assert len(failed["steps"]) == 5


def test_reflexion_rounds_come_from_max_rounds_and_lessons_accumulate(tmp_path):
    tiny, rev = tiny_gripper(tmp_path), reversed_gripper(tmp_path)

    learner = {"reflexion.reflect": lambda system, user: f"Lesson number {user.count('- Lesson number') + 1}."}

    # --max-rounds 2 (the paper's revision rounds): as many rounds of rollouts as LearnAct, 1 + 2 = the paper's 3.
    ctx = make_ctx(
        plan_agent(TINY_PLAN),
        learner,
        rollout_graph=build_act_graph(checkpointer=False),
        learn_max_steps=4,
        max_rounds=2,
    )
    final = reflexion(ctx, [tiny, rev])

    assert final["stop_reason"] == "max_rounds" and final["round"] == 3
    assert by_round(final) == {k: {tiny: True, rev: False} for k in range(3)}
    assert len(final["rollouts"]) == 6
    assert final["lessons"] == ["Lesson number 1.", "Lesson number 2.", "Lesson number 3."]
    calls = ctx.learner_model.calls
    assert len(calls) == 3 and all("Ball1 is at rooma." in c["user"] for c in calls)
    assert "- Lesson number 1.\n- Lesson number 2." in calls[2]["user"]  # earlier lessons shown to the learner
    # The last round's agent prompts carry the two lessons learned so far.
    assert sum("- Lesson number 2." in c["system"] for c in ctx.agent_model.calls) == 3 + 4


def test_reflexion_round_count_follows_max_rounds(tmp_path):
    """It was hard-coded to 3 whatever --max-rounds said."""
    ctx = make_ctx(
        plan_agent(TINY_PLAN),
        lambda s, u: LESSON,
        rollout_graph=build_act_graph(checkpointer=False),
        learn_max_steps=4,
        max_rounds=0,
    )
    final = reflexion(ctx, [tiny_gripper(tmp_path), reversed_gripper(tmp_path)])
    assert final["stop_reason"] == "max_rounds" and final["round"] == 1 and len(ctx.learner_model.calls) == 1


def test_reflexion_with_nothing_failed_asks_for_no_lesson(tmp_path):
    ctx = make_ctx(plan_agent(TINY_PLAN), rollout_graph=build_act_graph(checkpointer=False))
    final = reflexion(ctx, [tiny_gripper(tmp_path, "a.pddl"), tiny_gripper(tmp_path, "b.pddl")], max_rounds=3)
    assert final["stop_reason"] == "all_succeeded" and final["round"] == 1
    assert final["lessons"] == [] and ctx.learner_model.calls == [] and len(final["rollouts"]) == 2


def test_react_reflexion_rolls_out_with_the_react_agent(tmp_path):
    tiny, rev = tiny_gripper(tmp_path), reversed_gripper(tmp_path)
    agent = learning_agent(prefix=["Think: where is ball1?"])
    ctx = make_ctx(agent, lambda s, u: LESSON, rollout_graph=build_react_graph(checkpointer=False), learn_max_steps=6)
    final = reflexion(ctx, [tiny, rev], max_rounds=3)

    assert final["stop_reason"] == "all_succeeded" and final["lessons"] == [LESSON]
    assert by_round(final) == {0: {tiny: True, rev: False}, 1: {tiny: True, rev: True}}
    assert all(REACT_SYSTEM in c["system"] for c in ctx.agent_model.calls)
    assert all(r["steps"][0]["thought"] and r["steps"][0]["observation"] == "OK." for r in final["rollouts"])
    assert (
        "Think: where is ball1?" in ctx.learner_model.calls[0]["user"]
    )  # the thought is part of the reflected trajectory


def test_reflexion_plans_only_the_rollouts_missing_from_the_current_round():
    state = {
        "env_name": "pddl/gripper",
        "train_instances": ["a", "b", "c"],
        "round": 1,
        "lessons": ["L1"],
        "rollouts": [{"round": 0, "instance": "a", "success": False}, {"round": 1, "instance": "b", "success": False}],
    }
    sends = plan_reflexion_rollouts(state)
    assert all(isinstance(s, Send) and s.node == "reflexion_rollout" for s in sends)
    assert [s.arg["instance"] for s in sends] == ["a", "c"]
    assert all(s.arg["round"] == 1 and s.arg["lessons"] == ["L1"] for s in sends)


# ------------------------------------------------------------------------------ Code-as-Policies
GOOD_PROGRAM = '''Here is the program.
```python
def _go(src, dst):
    """Helper: move only when needed."""
    if src != dst:
        move(src, dst)


def carry(obj, src, dst, gripper):
    pick(obj, src, gripper)
    _go(src, dst)
    return drop(obj, dst, gripper)


def solve():
    carry('ball1', 'rooma', 'roomb', 'left')
```
It picks the ball, moves and drops it.'''


def code_policy(tmp_path, program: str, **kw):
    """Code-as-Policies is a baseline of the acting model: the agent writes the program, the learner is never asked."""
    ctx = make_ctx(
        lambda s, u: program, lambda s, u: pytest.fail("the learner model is not used by Code-as-Policies"), **kw
    )
    final = run_episode(build_code_as_policy_graph(), ctx, tiny_gripper(tmp_path))
    return final, ctx


def test_code_as_policy_one_call_one_program_run(tmp_path, executor_lines):
    final, ctx = code_policy(tmp_path, GOOD_PROGRAM, sandbox=executor_lines.sandbox)
    assert final["success"] and final["stop_reason"] == "success" and final["progress"] == 1.0
    assert len(ctx.agent_model.calls) == 1 and ctx.learner_model.calls == []
    assert executor_lines == ["solve()"]  # the whole program ran once, as one call
    # One step per primitive the program ran (helpers included), so steps compare with the agents.
    assert [s["action"] for s in final["steps"]] == TINY_PLAN
    assert all(s["ok"] and not s["is_learned"] and len(s["trace"]) == 1 for s in final["steps"])
    prompt = ctx.agent_model.calls[0]
    assert "You write a Python program" in prompt["system"]
    assert "Goal: The goal is to satisfy the following conditions: Ball1 is at roomb." in prompt["user"]
    assert re.search(r"Initial observation:\n.*Robby is at rooma\..*Ball1 is at rooma\.", prompt["user"])
    assert "pick(" in prompt["user"] and "drop(" in prompt["user"]
    assert prompt["kwargs"].get("max_tokens") == ctx.program_max_tokens  # a whole program gets a bigger reply cap
    record = episode_record(final, method="code_as_policy", usage=ctx.usage.totals(key="e1"))
    assert record["steps"] == 3 and record["success"] and record["tokens"] > 0
    assert "def solve():" in record["program"] and "```" not in record["program"]  # kept for inspection


def test_code_as_policy_reply_cut_at_the_token_cap_is_a_clear_bad_program(tmp_path):
    cut = "```python\ndef solve():\n    move('rooma', 'roomb')\n    if ("  # no closing fence: the reply hit the cap
    final, _ = code_policy(tmp_path, cut)
    assert final["stop_reason"] == "bad_program"
    assert final["program"].startswith("def solve():")  # the opening fence is not taken for code
    assert "line 3" in final["steps"][-1]["observation"]  # the line numbers are the program's own


def test_code_as_policy_is_open_loop(tmp_path, executor_lines):
    """A program that stops short is not given a second chance: no further LLM call, no replanning."""
    program = "```python\ndef solve():\n    move('rooma', 'roomb')\n    move('roomb', 'rooma')\n```"
    final, ctx = code_policy(tmp_path, program, sandbox=executor_lines.sandbox)
    assert not final["success"] and final["stop_reason"] == "program_ended"
    assert [s["action"] for s in final["steps"]] == ["move('rooma', 'roomb')", "move('roomb', 'rooma')"]
    assert len(ctx.agent_model.calls) == 1 and executor_lines == ["solve()"]


def test_code_as_policy_stops_at_the_first_invalid_primitive(tmp_path):
    program = "```python\ndef solve():\n    pick('ball1', 'roomb', 'left')\n    move('rooma', 'roomb')\n```"
    final, ctx = code_policy(tmp_path, program)
    assert final["stop_reason"] == "program_error" and not final["success"]
    assert len(final["steps"]) == 1  # the move after the invalid pick never ran
    step = final["steps"][0]
    assert (
        step["action"] == "pick('ball1', 'roomb', 'left')"
        and not step["ok"]
        and step["error_kind"] == "invalid_primitive"
    )


BROKEN_PROGRAMS = {
    "prose": ("I am sorry, I cannot write this program.", "bad_program", "syntax", 0),
    "syntax_error": ("```python\ndef solve(:\n    move('rooma', 'roomb')\n```", "bad_program", "syntax", 0),
    "no_solve": ("```python\ndef go():\n    move('rooma', 'roomb')\n```", "bad_program", "syntax", 0),
    "shadows_a_primitive": (
        "```python\ndef move(a, b):\n    return 'moved'\n\ndef solve():\n    move('rooma', 'roomb')\n```",
        "bad_program",
        "syntax",
        0,
    ),
    "import_inside": (
        "```python\ndef solve():\n    import os\n    os.system('touch /tmp/pwned')\n```",
        "program_error",
        "forbidden",
        0,
    ),
    "open_a_file": (
        "```python\ndef solve():\n    return open('/etc/passwd').read()\n```",
        "program_error",
        "forbidden",
        0,
    ),
    "dunder_escape": (
        "```python\ndef solve():\n    return ().__class__.__base__.__subclasses__()\n```",
        "program_error",
        "forbidden",
        0,
    ),
    "raises_midway": (
        "```python\ndef solve():\n    move('rooma', 'roomb')\n    raise RuntimeError('gave up')\n```",
        "program_error",
        "exception",
        1,
    ),
    "solve_takes_arguments": (
        "```python\ndef solve(goal):\n    move('rooma', 'roomb')\n```",
        "program_error",
        "arity",
        0,
    ),
    "memory_bomb": (
        "```python\ndef solve():\n    x = [0] * (10 ** 10)\n    return str(len(x))\n```",
        "program_error",
        "memory",
        0,
    ),
}


@pytest.mark.parametrize("name", list(BROKEN_PROGRAMS))
def test_broken_or_hostile_program_is_a_recorded_failure_not_a_crash(tmp_path, name):
    program, stop_reason, kind, primitives_run = BROKEN_PROGRAMS[name]
    final, ctx = code_policy(tmp_path, program, max_steps=4)
    assert final["stop_reason"] == stop_reason and not final["success"]
    assert len(ctx.agent_model.calls) == 1  # no retry, no repair: one shot
    steps = final["steps"]
    assert len([s for s in steps if s["action"] != "solve()"]) == primitives_run  # each primitive it ran is a step
    last = steps[-1]
    assert last["action"] == "solve()" and not last["ok"] and last["observation"]
    if kind is not None:
        assert last["error_kind"] == kind
    record = episode_record(final, method="code_as_policy", usage=ctx.usage.totals(key="e1"))
    assert record["success"] is False and record["stop_reason"] == stop_reason and record["steps"] == len(steps)


def test_module_level_statements_are_dropped_never_run(tmp_path):
    """Seen with the local model: programs ending in `print(solve())` were refused whole as bad programs."""
    marker = tmp_path / "pwned"
    program = (
        f"```python\nimport os\nos.system('touch {marker}')\nROOMS = ['rooma']\n\n"
        "def solve():\n    move('rooma', 'roomb')\n\nprint(solve())\n```"
    )
    final, _ = code_policy(tmp_path, program, max_steps=4)
    assert final["stop_reason"] == "program_ended" and [s["action"] for s in final["steps"]] == [
        "move('rooma', 'roomb')"
    ]
    assert not marker.exists()  # the module-level call was never run, in the worker or here
    assert "print(solve())" in final["program"]  # the record keeps the program as the model wrote it


def test_program_that_never_stops_uses_exactly_the_step_cap(tmp_path):
    program = (
        "```python\ndef solve():\n    while True:\n        move('rooma', 'roomb')\n        move('roomb', 'rooma')\n```"
    )
    final, ctx = code_policy(tmp_path, program, max_steps=4)
    assert final["stop_reason"] == "max_steps" and not final["success"]
    assert [s["action"] for s in final["steps"]] == ["move('rooma', 'roomb')", "move('roomb', 'rooma')"] * 2
    assert all(s["ok"] for s in final["steps"])  # the cap is not an extra failed step
    assert len(ctx.agent_model.calls) == 1


def test_program_looping_without_acting_is_stopped_by_its_time_limit_and_keeps_its_steps(tmp_path):
    """A loop that never calls a primitive never reaches the step cap: the wall-clock limit ends it."""
    program = "```python\ndef solve():\n    move('rooma', 'roomb')\n    while True:\n        pass\n```"
    final, ctx = code_policy(tmp_path, program, max_steps=4, program_wall_s=1.5)
    assert final["stop_reason"] == "program_error" and not final["success"]
    assert [s["action"] for s in final["steps"]] == ["move('rooma', 'roomb')", "solve()"]  # the step it took is kept
    last = final["steps"][-1]
    assert last["error_kind"] == "timeout" and "1.5 s time limit" in last["observation"]  # the set limit, not 30 s
    assert len(ctx.agent_model.calls) == 1
