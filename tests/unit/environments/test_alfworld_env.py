"""ALFWorld environment: instance lists and splits, scripted wins per task type, invalid actions,
missing data. Reads ../shared/data/alfworld (skips with the reason when it is absent)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_helpers import ROOT

from environments import DataNotFoundError, list_instances, make_env, parse_call
from environments.alfworld import (
    EXPECTED_EVAL_COUNTS,
    TASK_TYPES,
    call_to_command_candidates,
    command_to_call,
    find_alfworld_dir,
)

pytest.importorskip("textworld", reason="the alfworld extra is not installed (pip install -e '.[alfworld]')")

try:
    ALF_DIR = find_alfworld_dir()
except DataNotFoundError as exc:  # pragma: no cover - depends on the machine
    ALF_DIR = None
    NO_DATA_REASON = f"ALFWorld data absent: {exc}"
needs_data = pytest.mark.skipif(ALF_DIR is None, reason=globals().get("NO_DATA_REASON", ""))

# One evaluation game per type (from LearnAct's training split) and a hand-written
# sequence of call-form actions that wins it (the route a person reading the observations takes).
SCRIPTED_WINS: dict[str, tuple[str, list[str]]] = {
    "put": (
        "pick_and_place_simple-SaltShaker-None-Drawer-10/trial_T20190909_021728_339782",
        [
            "goto('countertop 3')",
            "take('saltshaker 1', 'countertop 3')",
            "goto('drawer 1')",
            "open('drawer 1')",
            "put('saltshaker 1', 'drawer 1')",
        ],
    ),
    "clean": (
        "pick_clean_then_place_in_recep-Plate-None-CounterTop-10/trial_T20190908_213533_897289",
        [
            "goto('cabinet 3')",
            "take('plate 1', 'cabinet 3')",
            "goto('sinkbasin 1')",
            "clean('plate 1', 'sinkbasin 1')",
            "goto('countertop 2')",
            "put('plate 1', 'countertop 2')",
        ],
    ),
    "heat": (
        "pick_heat_then_place_in_recep-Egg-None-GarbageCan-10/trial_T20190908_113610_425142",
        [
            "goto('countertop 1')",
            "take('egg 1', 'countertop 1')",
            "goto('microwave 1')",
            "heat('egg 1', 'microwave 1')",
            "goto('garbagecan 1')",
            "put('egg 1', 'garbagecan 1')",
        ],
    ),
    "cool": (  # (the first training game is won by cooling alone: a known data quirk)
        "pick_cool_then_place_in_recep-Mug-None-Cabinet-10/trial_T20190909_121635_622676",
        [
            "goto('cabinet 3')",
            "take('mug 1', 'cabinet 3')",
            "goto('fridge 1')",
            "cool('mug 1', 'fridge 1')",
            "goto('cabinet 4')",
            "put('mug 1', 'cabinet 4')",
        ],
    ),
    "examine": (
        "look_at_obj_in_light-Mug-None-DeskLamp-308/trial_T20190908_201421_021646",
        ["goto('desk 1')", "take('mug 1', 'desk 1')", "toggle('desklamp 1')"],
    ),
    "puttwo": (
        "pick_two_obj_and_place-PepperShaker-None-Drawer-10/trial_T20190912_221141_608117",
        [
            "goto('cabinet 4')",
            "take('peppershaker 1', 'cabinet 4')",
            "goto('drawer 1')",
            "open('drawer 1')",
            "put('peppershaker 1', 'drawer 1')",
            "goto('cabinet 1')",
            "take('peppershaker 2', 'cabinet 1')",
            "goto('drawer 1')",
            "put('peppershaker 2', 'drawer 1')",
        ],
    ),
}
PUT_GAME = SCRIPTED_WINS["put"][0]


# ----------------------------------------------------------------- mapping (no data needed)


@pytest.mark.parametrize(
    ("command", "call"),
    [
        ("go to desk 1", "goto('desk 1')"),
        ("take alarmclock 3 from sidetable 1", "take('alarmclock 3', 'sidetable 1')"),
        ("put alarmclock 3 in/on desk 1", "put('alarmclock 3', 'desk 1')"),
        ("move alarmclock 3 to desk 1", "put('alarmclock 3', 'desk 1')"),
        ("open drawer 2", "open('drawer 2')"),
        ("close drawer 2", "close('drawer 2')"),
        ("clean plate 1 with sinkbasin 1", "clean('plate 1', 'sinkbasin 1')"),
        ("heat egg 1 with microwave 1", "heat('egg 1', 'microwave 1')"),
        ("cool mug 2 with fridge 1", "cool('mug 2', 'fridge 1')"),
        ("use desklamp 1", "use('desklamp 1')"),
        ("examine shelf 1", "examine('shelf 1')"),
        ("inventory", "inventory()"),
        ("look", "look()"),
    ],
)
def test_admissible_command_maps_to_call_and_back(command: str, call: str) -> None:
    assert command_to_call(command) == call
    name, args = parse_call(call)
    assert command in call_to_command_candidates(name, args)


def test_toggle_is_the_games_use_command() -> None:
    assert call_to_command_candidates("toggle", ("desklamp 1",))[0] == "use desklamp 1"


def test_unmapped_command_is_left_out() -> None:
    assert command_to_call("slice apple 1 with knife 1") is None


# ----------------------------------------------------------------- instances and splits


@needs_data
@pytest.mark.parametrize("task", list(TASK_TYPES))
def test_eval_games_per_type(task: str) -> None:
    names = list_instances(f"alfworld/{task}")
    assert len(names) == EXPECTED_EVAL_COUNTS[task]
    assert names == sorted(names)
    assert all(n.startswith(TASK_TYPES[task] + "-") for n in names)


@needs_data
def test_134_games_in_all_and_the_shipped_list_agrees() -> None:
    names = {n for task in TASK_TYPES for n in list_instances(f"alfworld/{task}")}
    assert len(names) == 134
    listed = (ALF_DIR / "valid_unseen_134.txt").read_text().split()
    if listed:  # the shipped list, e.g. valid_unseen/<folder>/<trial>/game.tw-pddl
        assert {p.removeprefix("valid_unseen/").removesuffix("/game.tw-pddl") for p in listed} == names


@needs_data
@pytest.mark.parametrize("task", list(TASK_TYPES))
def test_learnact_splits_are_disjoint_subsets(task: str) -> None:
    train = list_instances(f"alfworld/{task}", "train")
    test = list_instances(f"alfworld/{task}", "test")
    assert len(train) == 3
    assert not set(train) & set(test)
    assert set(train) | set(test) == set(list_instances(f"alfworld/{task}"))
    demo = list_instances(f"alfworld/{task}", "demo")
    assert len(demo) == 2 and all(d.startswith("valid_train/") for d in demo)


@needs_data
def test_train_split_follows_the_manifest_order() -> None:
    assert list_instances("alfworld/put", "train")[0] == PUT_GAME


@needs_data
def test_unknown_split_and_task_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown split"):
        list_instances("alfworld/put", "validation")
    with pytest.raises(ValueError, match="not put"):
        make_env("alfworld/put", SCRIPTED_WINS["heat"][0])
    with pytest.raises(DataNotFoundError, match="not found"):
        make_env("alfworld/put", "no-such-task/trial_0")


@needs_data
def test_instance_may_be_a_game_file_path() -> None:
    game_file = ALF_DIR / "json_2.1.1" / "valid_unseen" / PUT_GAME / "game.tw-pddl"
    env = make_env("alfworld/put", str(game_file))
    assert env.instance == PUT_GAME
    obs, info = env.reset()
    assert "Your task is to:" in obs and info["goal"]


# ----------------------------------------------------------------- playing


@needs_data
@pytest.mark.parametrize("task", list(TASK_TYPES))
def test_scripted_sequence_wins(task: str) -> None:
    instance, actions = SCRIPTED_WINS[task]
    env = make_env(f"alfworld/{task}", instance)
    obs, info = env.reset()
    assert obs.startswith("You are in the middle of a room.")
    assert info["goal"] and info["goal"] in obs
    assert not info["success"] and info["progress"] == 0.0
    for i, action in enumerate(actions):
        if action.startswith(("goto", "take", "put")):  # everything else is also listed, but check these
            assert action in info["valid_actions"], (action, info["valid_actions"])
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["valid"], (action, obs)
        last = i == len(actions) - 1
        assert terminated == info["success"] == last, (action, obs)
    assert reward == 1.0 and info["progress"] == 1.0 and not truncated


@needs_data
def test_invalid_actions_are_flagged_and_explained() -> None:
    env = make_env("alfworld/put", PUT_GAME)
    _, first = env.reset()
    cases = {
        "goto(": "not a valid Python call",
        "fly('desk 1')": "unknown action 'fly'",
        "goto('desk 1', 'drawer 1')": "takes 1 argument",
        "take('saltshaker 1')": "takes 2 argument",
        "goto(desk)": "not a literal",
        "goto(3)": "names in quotes",
        "look(); look()": "not a valid Python call",
    }
    for action, why in cases.items():
        obs, reward, terminated, _, info = env.step(action)
        assert not info["valid"] and why in obs and why in info["reason"], (action, obs)
        assert info["command"] is None and reward == 0.0 and not terminated
        assert info["valid_actions"] == first["valid_actions"]  # the game was not stepped
    # Well-formed but not possible here: the game's own answer, flagged invalid.
    obs, _, _, _, info = env.step("take('saltshaker 1', 'countertop 3')")
    assert obs == "Nothing happens." and not info["valid"]
    assert info["command"] == "take saltshaker 1 from countertop 3"
    assert info["valid_actions"] == first["valid_actions"]


@needs_data
def test_max_steps_truncates_and_reset_restarts() -> None:
    env = make_env("alfworld/put", PUT_GAME, max_steps=2)
    obs0, _ = env.reset()
    *_, truncated, _ = env.step("goto('countertop 3')")
    assert not truncated
    *_, truncated, info = env.step("inventory()")
    assert truncated and info["steps"] == 2
    obs, info = env.reset()
    assert obs == obs0 and info["steps"] == 0


@needs_data
def test_state_is_the_accepted_commands_and_restore_replays_them() -> None:
    """``state``: the game commands accepted since reset (a refused call changes nothing); ``restore`` puts the
    game back there (reset and replay), observation and valid actions included, and leaves the step count."""
    env = make_env("alfworld/put", PUT_GAME, max_steps=100)
    obs0, info0 = env.reset()
    assert env.state == ()
    env.step("goto('countertop 3')")
    env.step("goto('nowhere 1')")  # refused by the game
    env.step("goto(")  # not a call
    remembered = env.state
    assert remembered == ("go to countertop 3",)
    there = (env.observe(), env.valid_actions())
    took = env.step("take('saltshaker 1', 'countertop 3')")
    env.step("goto('drawer 1')")
    assert env.state == ("go to countertop 3", "take saltshaker 1 from countertop 3", "go to drawer 1")
    env.restore(remembered)
    assert env.state == remembered and (env.observe(), env.valid_actions()) == there
    again = env.step("take('saltshaker 1', 'countertop 3')")
    assert again[0] == took[0] and again[4]["valid_actions"] == took[4]["valid_actions"]
    assert again[4]["steps"] == took[4]["steps"] + 2  # restore leaves the step count, as the PDDL env's does
    env.restore(())
    assert (env.observe(), env.valid_actions()) == (obs0, info0["valid_actions"]) and env.state == ()
    later = remembered + ("take saltshaker 1 from countertop 3",)
    env.restore(later)  # from an earlier state: only the missing commands are played
    assert env.state == later and env.observe() == took[0]
    with pytest.raises(ValueError, match="refused"):
        env.restore(("go to nowhere 1",))
    fresh = make_env("alfworld/put", PUT_GAME)  # never reset: restore starts the game
    fresh.restore(later)
    assert fresh.state == later and fresh.observe() == took[0]


@needs_data
def test_restore_brings_back_whether_the_game_is_won() -> None:
    instance, actions = SCRIPTED_WINS["put"]
    env = make_env("alfworld/put", instance)
    env.reset()
    for action in actions:
        env.step(action)
    won = env.state
    env.restore(won[:-1])
    assert not env.step("look()")[4]["success"]
    env.restore(won)
    assert env.step("look()")[4]["success"]


@needs_data
def test_objects_are_the_games_names_and_objects_for_tells_receptacles_from_objects() -> None:
    env = make_env("alfworld/put", PUT_GAME)
    _, info = env.reset()
    gotos = {parse_call(c)[1][0] for c in info["valid_actions"] if c.startswith("goto(")}
    assert set(env.receptacles) == gotos  # every receptacle, named as the calls name it
    assert {"saltshaker 1", "cabinet 3", "drawer 1", "sink 1"} <= set(env.objects)
    assert not any(o.startswith("loc ") or o.endswith("type") for o in env.objects)
    assert "saltshaker 1" in env.portable_objects and "sink 1" not in env.portable_objects  # a sink is not picked up
    assert not set(env.portable_objects) & set(env.receptacles)
    for param in ("recep", "from_recep", "receptacle", "place", "location", "target", "dest", "to", "here"):
        assert env.objects_for(param) == env.receptacles, param
    for param in ("obj", "object", "item", "thing", "obj1"):
        assert env.objects_for(param) == env.portable_objects, param
    assert env.objects_for("fridge") == ("fridge 1",) and env.objects_for("counter") == (
        "countertop 1",
        "countertop 2",
        "countertop 3",
    )
    assert env.objects_for("x") == env.objects
    *_, info = env.step("goto('countertop 3')")
    taken = [parse_call(c)[1] for c in info["valid_actions"] if c.startswith("take(")]
    assert taken and all(obj in env.portable_objects and recep in env.receptacles for obj, recep in taken)
    assert (
        env.goal_objects()[0] == "saltshaker 1" and "drawer 1" in env.goal_objects()
    )  # "put some saltshaker in drawer"


@needs_data
def test_walkthrough_option_gives_a_winning_plan_in_call_form() -> None:
    env = make_env("alfworld/clean", SCRIPTED_WINS["clean"][0], walkthrough=True)
    _, info = env.reset()
    plan = info["walkthrough"]
    assert plan and all("(" in step for step in plan)
    for action in plan:
        *_, info = env.step(action)
    assert info["success"]


@needs_data
def test_textgen_cache_does_not_change_the_game_text() -> None:
    """The same episode with TextWorld's own (uncached) text generation and translation, in a fresh process;
    cached, the game is played twice (the second time from memoised translations only)."""
    instance, actions = SCRIPTED_WINS["put"]
    script = (
        "import json, sys\n"
        "from environments import make_env\n"
        "instance, actions, cache = json.loads(sys.argv[1])\n"
        "def play():\n"
        "    env = make_env('alfworld/put', instance, textgen_cache=cache)\n"
        "    obs, info = env.reset(); out = [[obs, info['admissible_commands']]]\n"
        "    for a in actions:\n"
        "        obs, *_, info = env.step(a); out.append([obs, info['admissible_commands']])\n"
        "    return out\n"
        "first = play()\n"
        "assert not cache or play() == first, 'the second play from cached translations differs'\n"
        "print(json.dumps(first))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, json.dumps([instance, actions, cache])],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        for cache in (False, True)
    ]
    assert runs[0] == runs[1] and runs[0].strip()


@needs_data
def test_a_game_is_translated_once_per_kind_and_a_replayed_game_not_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """fast-downward's PDDL-to-SAS translation is memoised (environments/alfworld/textworld_patch.py): a new game
    costs one plain and one optimised translation, not four; a game played again costs none; each caller gets
    a task of its own (a deep copy), so one game's state cannot leak into another's."""
    import fast_downward

    from environments.alfworld import textworld_patch

    instance, actions = SCRIPTED_WINS["put"]
    make_env("alfworld/put", instance).close()  # installs the caches
    textworld_patch.clear_translation_cache()
    calls: list[bool] = []
    translate = textworld_patch._translate
    monkeypatch.setattr(
        textworld_patch, "_translate", lambda *a, **k: calls.append(k["optimize"]) or translate(*a, **k)
    )
    played = []
    for _ in range(2):
        env = make_env("alfworld/put", instance)
        env.reset()
        played.append([env.step(a)[0] for a in actions])
        env.close()
    assert sorted(calls) == [False, True]  # one of each kind, for both plays together
    assert played[0] == played[1] and "You put" in played[0][-1]
    domain, problem = next(iter(textworld_patch._TRANSLATIONS))[:2]
    (task_a, sas_a), (task_b, sas_b) = fast_downward.pddl2sas(domain, problem), fast_downward.pddl2sas(domain, problem)
    assert sas_a == sas_b and task_a is not task_b and task_a.init is not task_b.init


# ----------------------------------------------------------------- missing data


def test_missing_data_folder_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="alfworld-download"):
        list_instances("alfworld/put", data_dir=tmp_path)
    with pytest.raises(DataNotFoundError, match="ALFWORLD_DATA"):
        make_env("alfworld/put", "anything/trial_0", data_dir=tmp_path)


@needs_data
def test_partial_data_folder_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "alfworld" / "json_2.1.1" / "valid_unseen" / PUT_GAME
    shutil.copytree(ALF_DIR / "json_2.1.1" / "valid_unseen" / PUT_GAME, folder)
    with pytest.raises(DataNotFoundError, match="partial"):
        list_instances("alfworld/put", data_dir=tmp_path)
    # One game is still playable from such a folder.
    env = make_env("alfworld/put", PUT_GAME, data_dir=tmp_path)
    assert env.reset()[1]["goal"]


@needs_data
def test_alfworld_data_variable_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFWORLD_DATA", str(ALF_DIR))
    monkeypatch.setenv("LEARNACT_DATA", str(tmp_path))
    assert find_alfworld_dir() == ALF_DIR
    # An $ALFWORLD_DATA without games (importing alfworld sets ~/.cache/alfworld) falls through.
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path))
    monkeypatch.delenv("LEARNACT_DATA")
    assert find_alfworld_dir() == ALF_DIR


# ----------------------------------------------------------------- prompt material

EXAMPLES_DIR = ROOT / "prompts" / "domains" / "alfworld" / "examples"


@needs_data
@pytest.mark.parametrize("task", list(TASK_TYPES))
def test_worked_example_replays_exactly_and_wins(task: str) -> None:
    """examples/<task>.md is a real episode of a demo game: replaying it gives the same text."""
    text = (EXAMPLES_DIR / f"{task}.md").read_text(encoding="utf-8")
    goal_line, rest = text.split("\n", 1)
    steps = rest.split("\nAction: ")
    env = make_env(f"alfworld/{task}", list_instances(f"alfworld/{task}", "demo")[0])
    obs, info = env.reset()
    assert goal_line == f"Goal: {info['goal']}"
    assert steps[0] == f"Observation: {obs}"
    for step in steps[1:]:
        action, observed = step.split("\nObservation: ", 1)
        obs, *_, info = env.step(action)
        assert info["valid"] and obs == observed.rstrip("\n"), (action, obs)
    assert info["success"]


@needs_data
def test_the_agent_grammar_offers_typed_calls_over_names_seen_and_never_a_refused_one() -> None:
    """ALFWorld's typed grammar (nodes/act.py typed_pool_grammar over env.call_pools()): receptacles from the
    intro, objects once an observation showed them, and a call refused since the state last changed is out,
    so the agent cannot write the same refused call 19 times (what the embedded model did)."""
    from types import SimpleNamespace

    from test_llm_grammar import gbnf_regex

    from learnact.actions import ActionLibrary
    from nodes.assist.decode import agent_grammar

    env = make_env("alfworld/put", PUT_GAME)
    env.reset()
    pools = env.call_pools()
    assert "countertop 3" in pools["goto"][0] and pools["take"][0] == []  # no object seen yet
    env.step("goto('countertop 3')")
    assert "saltshaker 1" in env.call_pools()["take"][0] and "countertop 3" not in env.call_pools()["take"][0]
    rt = SimpleNamespace(env=env, library=ActionLibrary.empty())
    admits = gbnf_regex(
        agent_grammar(rt, typed=True, refused=["close('cabinet 6')", "take('fork 3', 'countertop 3')"])
    ).fullmatch
    assert admits("take('saltshaker 1', 'countertop 3')") and admits("close('cabinet 5')") and admits("look()")
    assert not admits("close('cabinet 6')") and not admits("take('fork 3', 'countertop 3')")
    assert not admits("take('pencil 1', 'countertop 3')")  # a name no observation has shown
    env.close()
