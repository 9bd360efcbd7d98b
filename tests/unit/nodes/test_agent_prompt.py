"""The compact agent prompt's parts: per-object views, refused calls, the typed grammar, worked steps
verified in the sandbox, and learned code that reads the state (observe/facts/valid_actions)."""

from __future__ import annotations

from conftest_helpers import CARRY, ROOT, tiny_gripper

from environments import make_env
from environments.pddl.prompt_material import EXAMPLE_INSTANCES
from learnact.actions import ActionLibrary, Executor
from nodes.assist.decode import agent_grammar
from nodes.assist.turns import episode_turns, refused_since_change, turn_text, window_start
from nodes.assist.worked_steps import few_shot_turns, learned_plan
from nodes.episodes import EpisodeRuntime
from prompts import load_domain_material

LIBRARY = ROOT / "benchmarks" / "libraries" / "gripper.py"


def test_gripper_view_puts_each_ball_with_its_target():
    env = make_env("pddl/gripper", "gen:seed=9,balls=2,rooms=3")
    env.reset()
    view = env.state_view()
    assert view.splitlines()[0] == "Robby is in roomc."
    assert "ball1 is in roomb; it must go to rooma." in view and "The left gripper is free." in view
    env.step("move('roomc', 'roomb')")
    env.step("pick('ball1', 'roomb', 'left')")
    assert "ball1 is in the left gripper; it must go to rooma." in env.state_view()


def test_blockworld_view_shows_towers_and_goal_progress():
    env = make_env("pddl/blockworld", "gen:seed=2,blocks=3")
    env.reset()
    view = env.state_view()
    assert "Towers, bottom to top: b1 b3 | b2." in view and "To do: b2 must be on b1 (now on the table)." in view


def test_typed_calls_use_static_preconditions_as_types():
    env = make_env("pddl/gripper", "gen:seed=9,balls=2,rooms=3")
    env.reset()
    calls = env.typed_calls()
    assert "pick('ball1', 'roomb', 'left')" in calls and "move('rooma', 'roomc')" in calls
    assert not any("'left', 'right'" in c or "('ball1', 'ball2'" in c for c in calls)
    assert len(calls) == 2 * (2 * 3 * 2) + 3 * 2  # pick + drop over ball, room, gripper; move over room pairs


def test_refused_calls_reset_when_the_state_changes():
    bad = {"action": "move('roomb', 'rooma')", "ok": False, "trace": [{"valid": False}]}
    good = {"action": "pick('ball1', 'rooma', 'left')", "ok": True, "trace": [{"valid": True}]}
    half = {"action": "carry('ball1')", "ok": False, "trace": [{"valid": True}, {"valid": False}]}
    assert refused_since_change([bad, bad]) == ["move('roomb', 'rooma')"]
    assert refused_since_change([bad, good]) == []
    assert refused_since_change([bad, half]) == []  # a learned call that failed half-way changed the world
    idle = {"action": "deliver('ball2', 'rooma')", "ok": True, "no_change": True, "trace": [{"valid": True}] * 2}
    assert refused_since_change([good, idle, bad]) == ["deliver('ball2', 'rooma')", "move('roomb', 'rooma')"]


def test_a_valid_call_that_changes_nothing_is_marked_and_not_offered_again(tmp_path):
    from conftest_helpers import run_episode_graph
    from fakes import ScriptedChatModel

    from graphs.act import build_act_graph
    from learnact.llm.usage import UsageTracker
    from nodes.context import Context
    from nodes.episodes import EpisodeRegistry

    code = 'def stay(room):\n    """Go nowhere."""\n    return observe()\n'
    replies = iter(["stay('rooma')"] * 2)
    ctx = Context(
        agent_model=ScriptedChatModel(lambda s, u: next(replies, "move('rooma', 'roomb')")),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        max_steps=3,
        resample_refused=0,
    )
    final = run_episode_graph(
        build_act_graph(), ctx, tiny_gripper(tmp_path), library=ActionLibrary.from_code(code).to_dict()
    )
    first, second = final["steps"][:2]
    assert first["ok"] and first.get("no_change") and second.get("no_change")
    assert "stay('rooma')\nResult: valid, but nothing changed.\n\nStep 2." in ctx.agent_model.calls[1]["user"]
    assert "Tried here" not in ctx.agent_model.calls[1]["user"]  # the turn above shows it


def test_typed_grammar_excludes_refused_calls_and_types_learned_arguments(tmp_path):
    env = make_env("pddl/gripper", tiny_gripper(tmp_path))
    env.reset()
    lib = ActionLibrary.from_code(CARRY)
    rt = EpisodeRuntime(env=env, executor=None, library=lib)
    grammar = agent_grammar(rt, typed=True, refused=["move('roomb', 'rooma')"])
    assert "move('rooma', 'roomb')" in grammar.replace('\\"', '"') and "move('roomb', 'rooma')" not in grammar
    assert "carry(" in grammar and "'ball1'" in grammar.replace("\\'", "'")
    free = agent_grammar(rt, typed=False)
    assert "move('rooma', 'roomb')" not in free  # the untyped grammar admits any quoted text


def test_turn_text_numbers_the_step_and_says_what_not_to_repeat():
    step = {"action": "move('roomb', 'rooma')", "ok": False, "observation": "Robby is not at roomb.", "trace": []}
    text = turn_text("Robby is in rooma.", step, 2, ["move('roomb', 'rooma')"])
    assert text.startswith(
        "Result: NOT POSSIBLE, nothing changed. Robby is not at roomb.\n\nStep 2.\nNow:\nRobby is in rooma."
    )
    assert text.endswith("Tried here without effect (do not repeat): move('roomb', 'rooma')")
    assert turn_text("x", None, 1) == "Step 1.\nNow:\nx"


def _step(action: str, ok: bool = True) -> dict:
    return {"action": action, "ok": ok, "observation": "" if ok else "no.", "trace": []}


def test_the_episode_turns_only_grow_between_chunk_trims():
    """A step appends its call, its result and the new view: the text before them is what the previous
    request sent, so a local server evaluates only the new tokens."""
    steps = [_step(f"move('r{i}', 'r{i + 1}')", ok=i % 3 != 1) for i in range(20)]

    def flat(n: int) -> str:
        turns, current = episode_turns(steps[:n], 3, f"view {n}")
        return "".join(f"<u>{u}<a>{a}" for u, a in turns) + "<u>" + current

    for n in range(1, 20):
        before, after = flat(n), flat(n + 1)
        trimmed = window_start(n + 1, 3) != window_start(n, 3)
        kept = before[: before.rindex("\nNow:\n")]  # everything but the last view
        assert after.startswith(kept) != trimmed, n
    assert [window_start(n, 3) for n in (0, 3, 10, 11, 18, 19)] == [0, 0, 0, 8, 8, 16]
    turns, current = episode_turns(steps[:11], 3, "v")
    assert (
        len(turns) == 3 and turns[0][0].startswith("(Steps 1-8 are not shown.)") and turns[0][1] == steps[8]["action"]
    )
    assert current.startswith("Result: NOT POSSIBLE, nothing changed. no.\n\nStep 12.\nNow:\nv")  # step 11 failed
    # A refused call the window no longer shows is named in the current turn; one it shows is not.
    _, current = episode_turns(steps[:11], 3, "v", banned=[steps[7]["action"], steps[10]["action"]])
    assert current.endswith(f"Tried here without effect (do not repeat): {steps[7]['action']}")
    refused = {**steps[10], "observation": f"The action {steps[10]['action']} is not valid because the door is shut."}
    assert turn_text("v", refused, 12).startswith("Result: NOT POSSIBLE, nothing changed. the door is shut.")
    assert episode_turns(steps[:5], 0, "v") == (
        [],
        "(Steps 1-5 are not shown.)\n\nStep 6.\nNow:\nv",
    )  # keep 0: no history


def test_learned_code_reads_the_state_without_acting():
    code = '''def where(ball):
    """Where a ball is, from the facts; no step."""
    rooms = [f[2] for f in facts() if f[0] == 'at' and f[1] == ball]
    n = len(valid_actions())
    return rooms[0] + ' ' + str(n) + ' ' + observe()[:5]
'''
    env = make_env("pddl/gripper", "gen:seed=9,balls=2,rooms=3")
    env.reset()
    with Executor(env, ActionLibrary.from_code(code)) as ex:
        result = ex.run("where('ball1')")
    assert result.ok and result.trace == [] and env.steps == 0
    assert result.returned.startswith("roomb ") and result.returned.endswith(env.observe()[:5])


def test_worked_steps_use_learned_actions_when_they_help():
    lib = ActionLibrary.from_code(LIBRARY.read_text())
    material = load_domain_material("pddl/gripper")
    turns, sources = few_shot_turns("pddl/gripper", lib, material.example, None)
    calls = [call for _, call in turns]
    assert sources == "planned+planned"
    assert calls[0] == "carry('ball1', 'rooma', 'roomb')" and any(c.startswith("deliver(") for c in calls)
    assert all(c.split("(")[0] in ("carry", "deliver") for c in calls)
    assert turns[0][0].startswith("Step 1.\nNow:\nRobby is in rooma.")


def test_worked_steps_fall_back_to_primitives_and_skip_a_broken_demonstration():
    lib = ActionLibrary.from_code(CARRY)  # needs a gripper argument: no call from the example's objects fails
    material = load_domain_material("pddl/gripper")
    demo = "Action: carry('ball9', 'rooma', 'roomb', 'left')"
    turns, sources = few_shot_turns("pddl/gripper", lib, material.example, demo)
    assert not sources.startswith("demonstration")
    empty, src = few_shot_turns("pddl/gripper", ActionLibrary.empty(), material.example, None)
    assert src == "example+example" and empty[0][1] == "pick('ball1', 'rooma', 'right')"


def test_learned_plan_reaches_the_goal_with_learned_calls():
    env = make_env("pddl/gripper", "gen:seed=9,balls=2,rooms=3")
    lib = ActionLibrary.from_code(LIBRARY.read_text())
    with Executor(env, lib) as ex:
        plan = learned_plan(env, ex, lib)
        for call in plan:
            result = ex.run(call)
    assert result.info["success"] and len(plan) == 2


def test_paper_prompt_puts_the_demonstration_before_the_example_and_drops_a_stale_one():
    from nodes.act import paper_examples

    lib = ActionLibrary.from_code(CARRY)
    prims = ("move", "pick", "drop")
    fresh = "Goal: g\nAction: carry('ball1', 'rooma', 'roomb', 'left')\nAction: move('roomb', 'rooma')"
    assert paper_examples(fresh, "EXAMPLE", lib, prims) == fresh + "\n\nEXAMPLE"
    stale = "Goal: g\nAction: carry('ball1', 'rooma', 'roomb')"  # the signature changed since
    assert paper_examples(stale, "EXAMPLE", lib, prims) == "EXAMPLE"
    assert paper_examples("Action: carry_two('ball1')", "EXAMPLE", lib, prims) == "EXAMPLE"
    assert paper_examples(None, "EXAMPLE", lib, prims) == "EXAMPLE"


def test_learned_call_arguments_follow_parameter_names_and_may_repeat():
    from nodes.assist.worked_steps import learned_calls

    code = 'def carry(ball, from_room, to_room, gripper, here):\n    """Carry."""\n    return move(here, from_room)\n'
    env = make_env("pddl/gripper", "gen:seed=9,balls=2,rooms=3")
    env.reset()
    calls = learned_calls(env, ActionLibrary.from_code(code))
    assert len(calls) == 2 * 3 * 3 * 2 * 7  # balls, rooms, rooms, grippers, any object for `here`
    assert "carry('ball1', 'roomb', 'rooma', 'left', 'roomb')" in calls  # here == from_room
    assert learned_calls(env, ActionLibrary.from_code(code), limit=10) is None


def test_worked_steps_chain_a_preparing_learned_call_with_one_that_makes_progress():
    code = '''def go_and_pick(ball, from_room, to_room, gripper):
    """Go to to_room and pick ball there."""
    move(from_room, to_room)
    return pick(ball, to_room, gripper)


def carry_and_drop(ball, from_room, to_room, gripper):
    """Carry a held ball to to_room and drop it."""
    move(from_room, to_room)
    return drop(ball, to_room, gripper)
'''
    plan, result = plan_and_run(code, "gen:seed=9,balls=2,rooms=3")  # Robby starts away from both balls
    assert plan[0].startswith("go_and_pick(") and plan[1].startswith("carry_and_drop(")
    assert result.ok and result.info["success"]


def plan_and_run(code: str, instance: str):
    """The learned plan of ``code``'s library on a gripper instance, and the result of its last call when run."""
    env = make_env("pddl/gripper", instance)
    lib = ActionLibrary.from_code(code)
    with Executor(env, lib) as ex:
        plan = learned_plan(env, ex, lib)
        for call in plan:
            result = ex.run(call)
    return plan, result


def test_worked_steps_show_an_action_that_only_prepares_where_it_saves_steps():
    code = '''def pick_and_go(ball, from_room, to_room, gripper):
    """Pick up ball in from_room and go to to_room with it."""
    pick(ball, from_room, gripper)
    return move(from_room, to_room)
'''
    plan, result = plan_and_run(code, EXAMPLE_INSTANCES["gripper"])  # Robby starts with ball1, which must go to roomb
    assert plan[0].startswith("pick_and_go('ball1', 'rooma', 'roomb', ") and plan[1].startswith("drop('ball1', 'roomb'")
    assert result.ok and result.info["success"]
    assert sum(c.startswith("pick_and_go(") for c in plan) == 2  # both balls: fewer steps than pick, move, drop


def test_a_reply_repeating_a_refused_call_is_sampled_again_warmer(tmp_path):
    from conftest_helpers import run_episode_graph
    from fakes import ScriptedChatModel

    from graphs.act import build_act_graph
    from learnact.llm.usage import UsageTracker
    from nodes.context import Context
    from nodes.episodes import EpisodeRegistry

    replies = iter(["move('roomb', 'rooma')", "move('roomb', 'rooma')", "pick('ball1', 'rooma', 'left')"])
    ctx = Context(
        agent_model=ScriptedChatModel(lambda s, u: next(replies, "move('rooma', 'roomb')")),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        max_steps=2,
        grammar=False,
    )
    final = run_episode_graph(build_act_graph(), ctx, tiny_gripper(tmp_path))
    assert [s["action"] for s in final["steps"]] == ["move('roomb', 'rooma')", "pick('ball1', 'rooma', 'left')"]
    calls = ctx.agent_model.calls
    assert len(calls) == 3 and calls[2]["kwargs"].get("temperature") == 0.8 and "temperature" not in calls[1]["kwargs"]


def test_probes_report_broken_actions_only_with_a_call_an_agent_would_make():
    from nodes.assist.probes import probe_failures

    code = '''def go(from_room, to_room):
    """Only moves: no goal fact becomes true, but it works."""
    return move(from_room, to_room)


def grab_and_stay(ball, room):
    """Picks the ball, then moves to the same room (always refused)."""
    pick(ball, room, 'left')
    return move(room, room)
'''
    found = probe_failures(
        ActionLibrary.from_code(code), "pddl/gripper", "gen:seed=2,balls=2,rooms=3"
    )  # Robby by ball1
    assert [f["name"] for f in found] == ["grab_and_stay"]
    failure = found[0]
    assert failure["trace"][0]["valid"] and not failure["trace"][-1]["valid"]  # it acted, then failed
    assert failure["error_kind"] == "invalid_primitive" and "never called" in failure["note"]
