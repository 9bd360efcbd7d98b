"""Creation trials and unused-action probes (nodes/assist/probes.py) on real ALFWorld games: the env's state
is restored by replaying the game's commands, so an action with hard-coded objects that never apply is caught
as on PDDL, and a sound one is kept. Skips with the reason when the alfworld extra or the data is absent (see
tests/unit/environments/test_alfworld_env.py)."""

from __future__ import annotations

from test_alfworld_env import PUT_GAME, needs_data

from environments import make_env, parse_call
from learnact.actions import ActionLibrary
from nodes.assist.creation_trials import creation_trials, example_instance
from nodes.assist.probes import probe_failures, trial_failures
from nodes.assist.worked_steps import action_calls, learned_calls
from nodes.context import Context
from prompts import load_domain_material

HARD_CODED = '''def grab_thing():
    """Take the thing from the cabinet (objects written into the code)."""
    return take('nonexistent 1', 'cabinet 1')
'''
SOUND = '''def go_and_open(recep):
    """Go to a receptacle and open it."""
    goto(recep)
    return open(recep)
'''


def example_episode(task: str = "put"):
    env = make_env(f"alfworld/{task}", example_instance(f"alfworld/{task}"))
    return env, [
        line.split("Action: ", 1)[1]
        for line in load_domain_material(f"alfworld/{task}").example.splitlines()
        if line.startswith("Action: ")
    ]


@needs_data
def test_trials_drop_an_action_with_hard_coded_objects_and_keep_a_sound_one() -> None:
    env, calls = example_episode()
    try:
        failed = trial_failures(ActionLibrary.from_code(HARD_CODED + "\n\n" + SOUND), env, calls)
        assert env.state == ()  # the env is left reset
    finally:
        env.close()
    assert set(failed) == {"grab_thing"}
    assert "situations of the example episode" in failed["grab_thing"]
    assert "take('nonexistent 1', 'cabinet 1'): Nothing happens." in failed["grab_thing"]
    assert "the true facts there" not in failed["grab_thing"]  # ALFWorld's state is not a list of facts


@needs_data
def test_creation_trials_play_the_alfworld_example_episodes_game() -> None:
    """The example episode of prompts/domains/alfworld/examples/<task>.md was recorded on the type's first demo
    game: the creation check's trials run there (before, they were None on ALFWorld)."""
    assert example_instance("alfworld/put").startswith("valid_train/pick_and_place_simple-")
    env, calls = example_episode()
    try:
        env.reset()
        assert all(env.step(call)[4]["valid"] for call in calls) and len(env.state) == len(calls)
    finally:
        env.close()
    trials = creation_trials("alfworld/put", Context(creation_trials=True))
    assert trials is not None and set(trials(ActionLibrary.from_code(HARD_CODED + "\n\n" + SOUND))) == {"grab_thing"}


@needs_data
def test_probes_report_the_unused_action_with_hard_coded_objects_only() -> None:
    found = probe_failures(ActionLibrary.from_code(HARD_CODED + "\n\n" + SOUND), "alfworld/put", PUT_GAME)
    assert [f["name"] for f in found] == ["grab_thing"]
    failure = found[0]
    assert failure["call"] == "grab_thing()" and failure["instance"] == PUT_GAME
    assert failure["error_kind"] == "invalid_primitive" and failure["before"].startswith(
        "Observation: You are in the middle"
    )


@needs_data
def test_an_action_that_acts_then_fails_everywhere_is_reported_and_the_state_put_back() -> None:
    """It goes somewhere (the state changes) and then takes from elsewhere: every call needs a restore."""
    code = '''def fetch(obj):
    """Go to countertop 1 and take obj from countertop 3."""
    goto('countertop 1')
    return take(obj, 'countertop 3')
'''
    found = probe_failures(ActionLibrary.from_code(code), "alfworld/put", PUT_GAME)
    assert [f["name"] for f in found] == ["fetch"]
    steps = found[0]["trace"]
    assert (
        steps[0]["valid"] and not steps[-1]["valid"] and found[0]["call"] == "fetch('saltshaker 1')"
    )  # the goal's object first


@needs_data
def test_calls_tried_are_bounded_and_every_parameter_varies() -> None:
    env = make_env("alfworld/put", PUT_GAME)
    env.reset()
    move = ActionLibrary.from_code('''def move(obj, from_recep, to_recep):
    """Carry obj."""
    goto(from_recep)
    take(obj, from_recep)
    goto(to_recep)
    return put(obj, to_recep)
''').get("move")
    calls = action_calls(env, move, 60)
    everything = learned_calls(env, ActionLibrary.from_code(move.source))
    assert len(calls) == 60 and len(everything) == len(env.portable_objects) * len(env.receptacles) ** 2 > 10_000
    args = [parse_call(c)[1] for c in calls]
    assert args[0] == ("saltshaker 1", "drawer 1", "drawer 1")  # objects of the goal first
    assert all(len({a[i] for a in args}) > 2 for i in range(3))  # not only the last parameter
    assert {a[0] for a in args} <= set(env.portable_objects) and {a[1] for a in args} <= set(env.receptacles)
    env.close()
