"""PDDL environments: the contract (reset/step/info), refusals that say why and change nothing,
valid actions equal to brute force, observations in English, generators, instance names,
LearnAct's splits, and missing data."""

from __future__ import annotations

import itertools
import random

import pytest

from environments import DataNotFoundError, list_instances, make_env
from environments.base import format_call
from environments.data import find_data_dir
from environments.pddl.env import OWN_DOMAINS
from environments.pddl.generators import SIZES

DOMAINS = ("gripper", "blockworld", "barman", "tyreworld")
DATA = find_data_dir(required="pddl/gripper")
needs_data = pytest.mark.skipif(DATA is None, reason="benchmark data (../shared/data/pddl) is absent")

TINY = """(define (problem t) (:domain gripper-strips) (:objects rooma roomb ball1 left right)
 (:init (room rooma) (room roomb) (ball ball1) (gripper left) (gripper right) (at-robby rooma)
        (free left) (free right) (at ball1 rooma))
 (:goal (and (at ball1 roomb) (at-robby rooma))))"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.pddl"
    path.write_text(TINY)
    return make_env("pddl/gripper", str(path))


def test_contract_on_a_problem_file(tiny):
    obs, info = tiny.reset()
    assert {"valid", "success", "progress", "goal", "valid_actions"} <= set(info)
    assert (
        obs.startswith("Rooma is a room. Roomb is a room. Ball1 is a ball.")
        and "Robby is at rooma." in obs
        and "Ball1 is at rooma." in obs
    )
    assert (
        info["goal"]
        == tiny.goal
        == "The goal is to satisfy the following conditions: Ball1 is at roomb. Robby is at rooma."
    )
    assert info["progress"] == 0.5 and not info["success"]
    assert info["valid_actions"] == [  # distinct parameters take distinct objects, as in pddlgym
        "move('rooma', 'roomb')",
        "pick('ball1', 'rooma', 'left')",
        "pick('ball1', 'rooma', 'right')",
    ]
    plan = ["pick('ball1', 'rooma', 'left')", "move('rooma', 'roomb')", "drop('ball1', 'roomb', 'left')"]
    progress = []
    for call in plan:
        obs, reward, terminated, truncated, info = tiny.step(call)
        assert info["valid"] and reward == 0.0 and not terminated and not truncated
        progress.append(info["progress"])
    assert "Ball1 is at roomb." in obs and "The left gripper is free." in obs
    # Robby left rooma: the share of goal facts fell to 1/2, progress keeps the maximum.
    assert progress == [0.5, 0.5, 0.5]
    obs, reward, terminated, truncated, info = tiny.step("move('roomb', 'rooma')")
    assert info["success"] and info["progress"] == 1.0 and reward == 1.0 and terminated


def test_reset_restores_the_initial_state(tiny):
    obs0, _ = tiny.reset()
    tiny.step("move('rooma', 'roomb')")
    obs, info = tiny.reset()
    assert obs == obs0 and info["progress"] == 0.5 and tiny.steps == 0


def test_lenient_spelling_of_a_valid_call(tiny):
    tiny.reset()
    obs, _, _, _, info = tiny.step('pick( "Ball1", "rooma" ,"left")')
    assert info["valid"] and "Robby is carrying ball1 in the left gripper." in obs


@pytest.mark.parametrize(
    "action,reason",
    [
        ("fly('rooma')", "Unknown action 'fly'. The available actions are: move(from, to), pick(obj, room, gripper)"),
        ("pick('ball1', 'rooma')", "Wrong number of arguments: pick(obj, room, gripper) takes 3 arguments, got 2"),
        (
            "pick('ball9', 'rooma', 'left')",
            "Unknown object(s): ball9. The objects are: ball1, left, right, rooma, roomb",
        ),
        ("drop('ball1', 'rooma', 'left')", "because Robby is carrying ball1 in the left gripper is not true"),
        ("pick('ball1', 'roomb', 'left')", "because Robby is at roomb is not true; Ball1 is at roomb is not true"),
        ("move('rooma', 'rooma')", "each argument must be a different object, but rooma is given more than once"),
        ("pick(ball1, rooma, left)", "not a literal; quote object names"),
        ("pick('ball1', 'rooma', 'left'); move('rooma', 'roomb')", "Invalid action"),
        ("", "empty action"),
        ("pick('ball1', 'rooma', 3)", "object names in quotes"),
        (None, "expected text"),
    ],
)
def test_invalid_actions_change_nothing_and_say_why(tiny, action, reason):
    obs0, info0 = tiny.reset()
    obs, reward, terminated, truncated, info = tiny.step(action)
    assert info["valid"] is False and reason in obs and info["reason"] == obs
    assert reward == 0.0 and not terminated and not truncated
    assert tiny.state == tiny.ground.init and info["valid_actions"] == info0["valid_actions"]
    assert info["progress"] == info0["progress"]


def test_typed_domain_refuses_wrong_types():
    env = make_env("pddl/barman", "gen:seed=0")
    env.reset()
    obs, _, _, _, info = env.step("grasp('shaker1', 'left')")
    assert not info["valid"] and "shaker1 is a shaker, but h must be a hand" in obs


def test_max_steps_truncates(tiny):
    env = make_env("pddl/gripper", "gen:seed=0", max_steps=2)
    env.reset()
    assert not env.step("fly()")[3]
    assert env.step("fly()")[3]
    with pytest.raises(TypeError, match="unknown option"):
        make_env("pddl/gripper", "gen:seed=0", colour="red")


def brute_force_valid(env) -> list[str]:
    """Every type-correct tuple of distinct objects for every operator, kept when its preconditions hold."""
    ground, out = env.ground, []
    for op in ground.domain.operators.values():
        pools = [ground.objects_of_type[t] for _, t in op.params]
        for args in itertools.product(*pools):
            if len(set(args)) < len(args):
                continue
            missing, present = ground.check(env.state, op, args)
            if not missing and not present:
                out.append(format_call(op.name.replace("-", "_"), args))
    return sorted(out)


@pytest.mark.parametrize("domain", DOMAINS)
def test_valid_actions_equal_brute_force_along_random_walks(domain):
    rng = random.Random(0)
    for seed in range(3):
        env = make_env(f"pddl/{domain}", f"gen:seed={seed}")
        _, info = env.reset()
        for _ in range(25):
            assert info["valid_actions"] == brute_force_valid(env) == env.valid_actions()
            if not info["valid_actions"]:
                break
            _, _, terminated, _, info = env.step(rng.choice(info["valid_actions"]))
            if terminated:
                break


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_primitive_is_described_in_english(domain):
    env = make_env(f"pddl/{domain}", "gen:seed=0")
    names = [op.replace("-", "_") for op in env.ground.domain.operators]
    assert [p.name for p in env.primitives] == names
    for spec, op in zip(env.primitives, env.ground.domain.operators.values()):
        assert len(spec.params) == len(op.params) and spec.description and spec.preconditions and spec.effects
        assert "?" not in spec.preconditions + spec.effects


def test_primitive_signatures():
    sigs = {d: [p.signature for p in make_env(f"pddl/{d}", "gen:seed=0").primitives] for d in DOMAINS}
    assert sigs["gripper"] == ["move(from, to)", "pick(obj, room, gripper)", "drop(obj, room, gripper)"]
    assert sigs["blockworld"] == [
        "pickup(block)",
        "putdown(block)",
        "stack(block, under_block)",
        "unstack(block, under_block)",
    ]
    assert "pour_shot_to_clean_shaker(shot, ingredient, shaker, hand, level, next_level)" in sigs["barman"]
    assert "put_on_wheel(wheel, hub)" in sigs["tyreworld"]


@pytest.mark.parametrize(
    "domain,fact",
    [
        ("gripper", "The left gripper is free."),
        ("blockworld", "The robot arm is empty."),
        ("barman", "Shaker1 is on the table."),
        ("tyreworld", "Jack is in boot."),
    ],
)
def test_observations_are_sentences(domain, fact):
    obs, info = make_env(f"pddl/{domain}", "gen:seed=0").reset()
    assert fact in obs and "(" not in obs and "?" not in obs
    assert info["goal"].startswith("The goal is to satisfy the following conditions: ")


def test_unknown_predicates_fall_back_to_a_generic_sentence():
    from environments.pddl.text import sentence

    assert sentence("gripper", ("at-robby", "rooma")) == "Robby is at rooma."
    assert sentence("mydomain", ("at-robby", "rooma")) == "at-robby(rooma) is true."


@pytest.mark.parametrize("domain", DOMAINS)
def test_generator_is_seeded_and_sized(domain):
    a = make_env(f"pddl/{domain}", "gen:seed=7")
    b = make_env(f"pddl/{domain}", "gen:seed=7")
    c = make_env(f"pddl/{domain}", "gen:seed=8")
    assert a.reset()[0] == b.reset()[0] and (a.reset()[0], a.goal) != (c.reset()[0], c.goal)
    size, default = next(iter(SIZES[domain].items()))
    bigger = make_env(f"pddl/{domain}", f"gen:seed=7,{size}={default + 1}")
    assert len(bigger.ground.objects) > len(a.ground.objects)


@pytest.mark.parametrize("bad", ["gen:seed=x", "gen:balls=0", "gen:wings=3", "gen:seed"])
def test_bad_generated_names_are_clear_errors(bad):
    with pytest.raises(ValueError, match="gen:"):
        make_env("pddl/gripper", bad)


def test_generated_instances_need_no_data(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNACT_DATA", str(tmp_path))
    names = list_instances("pddl/tyreworld", split="generated")
    assert names[0] == "gen:seed=0" and len(names) >= 3
    obs, _ = make_env("pddl/tyreworld", names[0], data_dir=tmp_path).reset()
    assert "Jack is in boot." in obs


@needs_data
def test_instances_are_named_in_natural_order():
    assert list_instances("pddl/blockworld")[:3] == ["problem1", "problem2", "problem3"]
    assert list_instances("pddl/gripper") == [f"prob{i:02d}" for i in range(1, 21)]
    env = make_env("pddl/blockworld", "problem10")
    assert env.instance == "problem10" and env.reset()[0]


@needs_data
def test_splits_follow_learnact():
    assert list_instances("pddl/gripper", split="train") == ["prob08", "prob10", "prob15"]
    for domain, n in [("gripper", 20), ("barman", 20), ("blockworld", 10), ("tyreworld", 10)]:
        train, test = list_instances(f"pddl/{domain}", "train"), list_instances(f"pddl/{domain}", "test")
        assert len(train) == 3 and len(train) + len(test) == n
        assert sorted(train + test) == sorted(list_instances(f"pddl/{domain}"))
    with pytest.raises(ValueError, match="unknown split"):
        list_instances("pddl/gripper", split="dev")


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="--data-dir") as err:
        make_env("pddl/gripper", "prob01", data_dir=tmp_path)
    assert "LEARNACT_DATA" in str(err.value) and "gen:seed=" in str(err.value)
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        list_instances("pddl/gripper", data_dir=tmp_path)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        list_instances("pddl/gripper", data_dir=tmp_path / "nope")


@needs_data
def test_unknown_instance_lists_known_ones():
    with pytest.raises(DataNotFoundError, match="known: prob01, prob02"):
        make_env("pddl/gripper", "prob99")


def test_envs_on_one_instance_share_the_parsed_task():
    a, b = make_env("pddl/gripper", "gen:seed=3"), make_env("pddl/gripper", "gen:seed=3")
    assert a.ground is b.ground
    a.reset()
    b.reset()
    a.step(a.valid_actions()[0])
    assert b.state == b.ground.init  # the state is per env


def test_bad_instances_and_domain_files_are_clear_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        make_env("pddl/gripper", str(tmp_path / "missing.pddl"))
    with pytest.raises(ValueError, match="is for domain 'barman'"):
        make_env("pddl/barman", "gen:seed=0", domain_file=OWN_DOMAINS / "blockworld.pddl")
    broken = tmp_path / "broken.pddl"
    broken.write_text("(define (problem p) (:domain gripper-strips) (:init (at-robby rooma))")
    with pytest.raises(ValueError, match="broken.pddl"):
        make_env("pddl/gripper", str(broken))


def test_env_survives_pickle_and_deepcopy():
    import copy
    import pickle

    env = make_env("pddl/barman", "gen:seed=0")
    env.reset()
    env.step(env.valid_actions()[0])
    for clone in (pickle.loads(pickle.dumps(env)), copy.deepcopy(env)):
        assert clone.state == env.state and clone.valid_actions() == env.valid_actions()
        obs, _, _, _, info = clone.step(clone.valid_actions()[0])
        assert info["valid"] and obs


def test_no_data_folder_anywhere(tmp_path, monkeypatch):
    import environments.data as data

    (tmp_path / "project" / "repo").mkdir(parents=True)
    monkeypatch.setattr(data, "PROJECT_ROOT", tmp_path / "project" / "repo")
    monkeypatch.chdir(tmp_path / "project" / "repo")
    monkeypatch.delenv("LEARNACT_DATA", raising=False)
    with pytest.raises(DataNotFoundError, match=r"\$LEARNACT_DATA.*--data-dir"):
        make_env("pddl/gripper", "prob01")
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        list_instances("pddl/barman", split="train")
    assert make_env("pddl/barman", "gen:seed=2").reset()[0]
