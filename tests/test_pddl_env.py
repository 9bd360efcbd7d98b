"""PDDL environments: every benchmark problem and generated problem solved by an oracle plan,
invalid actions refused with a reason and no state change, instance naming and splits."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import pytest

from environments import DataNotFoundError, list_instances, make_env
from environments.data import find_data_dir
from environments.pddl.env import OWN_DOMAINS, resolve_problem

DOMAINS = ("gripper", "blockworld", "barman", "tyreworld")
DATA = find_data_dir(required="pddl/gripper")
needs_data = pytest.mark.skipif(DATA is None, reason="benchmark data (../shared/data/pddl) is absent")


@lru_cache(maxsize=None)
def oracle_plan(domain: str, instance: str) -> tuple[str, ...]:
    """A pyperplan plan (greedy best-first; the landmark heuristic for barman) in call form."""
    import tempfile

    from pyperplan.planner import HEURISTICS, SEARCHES, search_plan

    logging.disable(logging.CRITICAL)
    _, text, bench_domain = resolve_problem(domain, instance)
    with tempfile.NamedTemporaryFile("w", suffix=".pddl", delete=False) as fh:
        fh.write(text)
    heuristic = HEURISTICS["landmark" if domain == "barman" else "hff"]
    plan = search_plan(str(bench_domain or OWN_DOMAINS / f"{domain}.pddl"), fh.name, SEARCHES["gbf"], heuristic)
    Path(fh.name).unlink()
    assert plan is not None, f"no plan for {domain} {instance}"
    calls = []
    for op in plan:
        name, *args = op.name.strip("()").split()
        calls.append(f"{name.replace('-', '_')}({', '.join(repr(a) for a in args)})")
    return tuple(calls)


def replay(domain: str, instance: str) -> dict:
    env = make_env(f"pddl/{domain}", instance)
    _, info = env.reset()
    assert not info["success"]
    for call in oracle_plan(domain, instance):
        assert call in info["valid_actions"], f"{call} missing from valid_actions"
        _, reward, terminated, _, info = env.step(call)
        assert info["valid"], call
    assert info["success"] and info["progress"] == 1.0 and terminated and reward == 1.0
    return info


def benchmark_instances():
    if DATA is None:
        return []
    return [(d, p.stem) for d in DOMAINS for p in sorted((DATA / "pddl" / d).glob("*.pddl"))]


@needs_data
def test_all_sixty_benchmark_problems_are_present():
    assert len(benchmark_instances()) == 60


@needs_data
@pytest.mark.parametrize("domain,instance", benchmark_instances())
def test_benchmark_problem_solved_by_oracle(domain, instance):
    replay(domain, instance)


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_problem_solved_by_oracle_on_our_domain(domain, seed):
    replay(domain, f"gen:seed={seed}")


@pytest.mark.parametrize(
    "domain,name", [("gripper", "gen:seed=4,balls=6,rooms=3"), ("blockworld", "gen:seed=5,blocks=6"), ("barman", "gen:seed=1,cocktails=2"), ("tyreworld", "gen:seed=1,wheels=2")]
)
def test_generator_sizes(domain, name):
    replay(domain, name)


def test_generator_is_seeded():
    a = make_env("pddl/blockworld", "gen:seed=7,blocks=5").reset()[0]
    b = make_env("pddl/blockworld", "gen:seed=7,blocks=5").reset()[0]
    c = make_env("pddl/blockworld", "gen:seed=8,blocks=5").reset()[0]
    assert a == b and a != c


@pytest.mark.parametrize("bad", ["gen:seed=x", "gen:balls=0", "gen:wings=3", "gen:seed"])
def test_bad_generated_names_are_clear_errors(bad):
    with pytest.raises(ValueError, match="gen:"):
        make_env("pddl/gripper", bad)


TINY = """(define (problem t) (:domain gripper-strips) (:objects rooma roomb ball1 left right)
 (:init (room rooma) (room roomb) (ball ball1) (gripper left) (gripper right) (at-robby rooma) (free left) (free right) (at ball1 rooma))
 (:goal (and (at ball1 roomb))))"""


@pytest.mark.parametrize(
    "action,reason",
    [
        ("fly('rooma')", "Unknown action 'fly'"),
        ("pick('ball1', 'rooma')", "Wrong number of arguments"),
        ("pick('ball9', 'rooma', 'left')", "Unknown object(s): ball9"),
        ("drop('ball1', 'rooma', 'left')", "Robby is carrying ball1 in the left gripper is not true"),
        ("pick(ball1, rooma, left)", "not a literal"),
        ("pick('ball1', 'rooma', 'left'); move('rooma', 'roomb')", "Invalid action"),
        ("", "empty action"),
        ("pick('ball1', 'rooma', 3)", "object names in quotes"),
    ],
)
def test_invalid_actions_change_nothing_and_say_why(tmp_path, action, reason):
    path = tmp_path / "t.pddl"
    path.write_text(TINY)
    env = make_env("pddl/gripper", str(path))
    obs0, info0 = env.reset()
    obs, reward, terminated, truncated, info = env.step(action)
    assert info["valid"] is False and reason in obs and reward == 0.0 and not terminated
    assert env.state == env.ground.init and info["valid_actions"] == info0["valid_actions"]


def test_typed_domain_refuses_wrong_types():
    env = make_env("pddl/barman", "gen:seed=0")
    env.reset()
    obs, _, _, _, info = env.step("grasp('shaker1', 'left')")
    assert not info["valid"] and "must be a hand" in obs


def test_progress_is_the_max_share_of_goal_facts(tmp_path):
    env = make_env("pddl/gripper", "gen:seed=0,balls=2")
    env.reset()
    best = 0.0
    for call in oracle_plan("gripper", "gen:seed=0,balls=2"):
        _, _, _, _, info = env.step(call)
        assert info["progress"] >= best
        best = info["progress"]
    assert best == 1.0


def test_observations_are_sentences():
    env = make_env("pddl/gripper", "gen:seed=0,balls=1")
    obs, info = env.reset()
    assert "Robby is at room" in obs and "The left gripper is free." in obs
    assert info["goal"].startswith("The goal is to satisfy the following conditions: Ball1 is at room")
    assert [p.signature for p in env.primitives] == ["move(from, to)", "pick(obj, room, gripper)", "drop(obj, room, gripper)"]


@needs_data
def test_instances_are_named_and_splits_follow_learnact():
    assert list_instances("pddl/blockworld")[:3] == ["problem1", "problem2", "problem3"]
    assert list_instances("pddl/gripper", split="train") == ["prob08", "prob10", "prob15"]
    test = list_instances("pddl/gripper", split="test")
    assert len(test) == 17 and not set(test) & {"prob08", "prob10", "prob15"}
    for domain, n in [("barman", 20), ("blockworld", 10), ("tyreworld", 10)]:
        assert len(list_instances(f"pddl/{domain}", "train")) + len(list_instances(f"pddl/{domain}", "test")) == n


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        make_env("pddl/gripper", "prob01", data_dir=tmp_path)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        list_instances("pddl/gripper", data_dir=tmp_path / "nope")
    assert list_instances("pddl/gripper", split="generated")[0] == "gen:seed=0"


@needs_data
def test_unknown_instance_lists_known_ones():
    with pytest.raises(DataNotFoundError, match="prob01"):
        make_env("pddl/gripper", "prob99")
