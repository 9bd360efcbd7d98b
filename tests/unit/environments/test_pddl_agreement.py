"""A user's domain folder runs with PDDL's semantics: on 14 STRIPS domains of our own (8 by hand, 6 random;
tests/fixtures/pddl_domains) and the 4 built-in ones, the valid actions equal pyperplan's applicable operators
along random walks, and pyperplan's plans replay to the goal through ``make_env("pddl:PATH", ...)``. Domains
pyperplan does not read (negative preconditions, equality, action costs) are checked against a brute force."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from fixtures.pddl_domains import HAND_DOMAINS, RANDOM_SEEDS, all_folders, extended_folders, reference_successors
from fixtures.pddl_domains.generated import random_domain

from environments import list_instances, make_env
from environments.pddl.env import OWN_DOMAINS
from environments.pddl.generators import generate

pytest.importorskip("pyperplan", reason="pyperplan is the reference planner (pip install -e .[dev])")
from pyperplan.planner import _ground, _parse  # noqa: E402

BUILT_IN = ("gripper", "blockworld", "barman", "tyreworld")
OURS = list(HAND_DOMAINS) + [f"rand{s}" for s in RANDOM_SEEDS]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("domains")
    out = all_folders(root)
    for name in BUILT_IN:  # the built-in domain files as folders: PDDL semantics, generated problems
        folder = root / name
        folder.mkdir()
        shutil.copy(OWN_DOMAINS / f"{name}.pddl", folder / "domain.pddl")
        for seed in range(3):
            (folder / f"g{seed}.pddl").write_text(generate(name, f"gen:seed={seed}"))
        out[name] = folder
    return out


def pyperplan_task(folder: Path, problem: str):
    return _ground(_parse(str(folder / "domain.pddl"), str(folder / f"{problem}.pddl")), True, False)


def pyperplan_applicable(task, env) -> list[str]:
    state = frozenset(f"({' '.join(atom)})" for atom in env.facts()) & task.facts
    calls = []
    for op in task.operators:
        if op.applicable(state):
            name, *args = op.name.strip("()").split()
            calls.append(f"{name.replace('-', '_')}({', '.join(repr(a) for a in args)})")
    return sorted(calls)


@pytest.mark.parametrize("name", OURS + list(BUILT_IN))
def test_valid_actions_agree_with_pyperplan_along_random_walks(folders, name):
    rng = random.Random(7)
    env_name = f"pddl:{folders[name]}"
    checked = 0
    for problem in list_instances(env_name)[:3]:
        task = pyperplan_task(folders[name], problem)
        env = make_env(env_name, problem)
        _, info = env.reset()
        for _ in range(15):
            assert info["valid_actions"] == pyperplan_applicable(task, env), (name, problem)
            checked += 1
            if not info["valid_actions"] or info["success"]:
                break
            _, _, _, _, info = env.step(rng.choice(info["valid_actions"]))
            assert info["valid"]
    assert checked >= 3


def test_repeated_objects_follow_pddl_in_a_folder_and_pddlgym_in_the_benchmark(folders):
    """(sail l0 l0) is a PDDL action (delete then add: nothing changes); the built-in gripper keeps
    pddlgym's distinct objects, the same domain file as a folder does not."""
    ferry = make_env(f"pddl:{folders['ferry']}", "p01")
    ferry.reset()
    here = next(a[1] for a in ferry.facts() if a[0] == "at-ferry")
    assert f"sail('{here}', '{here}')" in ferry.valid_actions()
    as_folder = make_env(f"pddl:{folders['gripper']}", "g0")
    built_in = make_env("pddl/gripper", "gen:seed=0")
    room = next(a[1] for a in built_in.facts() if a[0] == "at-robby")
    assert f"move('{room}', '{room}')" not in built_in.valid_actions()
    room = next(a[1] for a in as_folder.facts() if a[0] == "at-robby")
    assert f"move('{room}', '{room}')" in as_folder.valid_actions()
    _, _, _, _, info = built_in.step(f"move('{room}', '{room}')")
    assert not info["valid"] and "different object" in info["reason"]


@pytest.mark.parametrize("name", OURS + list(BUILT_IN))
def test_pyperplan_plans_replay_to_the_goal(folders, name, tmp_path, monkeypatch):
    from environments.pddl.oracle import plan_file

    env_name = f"pddl:{folders[name]}"
    for problem in list_instances(env_name, "train"):
        env = make_env(env_name, problem)
        plan = plan_file(folders[name] / "domain.pddl", (folders[name] / f"{problem}.pddl").read_text(), timeout=120)
        _, info = env.reset()
        for call in plan:
            assert call in info["valid_actions"], (name, problem, call)
            _, reward, terminated, _, info = env.step(call)
            assert info["valid"]
        assert info["success"] and terminated and reward == 1.0 and info["progress"] == 1.0
        assert info["cost"] == len(plan)  # no action costs: one per action


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> dict[str, Path]:
    return extended_folders(tmp_path_factory.mktemp("extended"))


def test_extended_domains_use_every_construct(extended):
    texts = " ".join((f / "domain.pddl").read_text() for f in extended.values())
    for construct in ("(not (= ", "(= ?at base)", "(increase (total-cost)", "(either", "(:constants"):
        assert construct in texts
    assert "(not (p" in texts or "(not (ready" in texts


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_negative_preconditions_equality_and_costs_agree_with_brute_force(extended, seed):
    folder = extended[f"rand{seed}"]
    domain_text = (folder / "domain.pddl").read_text()
    costs = {op["name"]: op["cost"] for op in random_domain(seed, extended=True).operators}
    rng = random.Random(seed)
    for problem in list_instances(f"pddl:{folder}"):
        env = make_env(f"pddl:{folder}", problem)
        _, info = env.reset()
        step = reference_successors(domain_text, dict(env.ground.problem.objects))
        spent = 0.0
        for _ in range(12):
            expected = step(frozenset(env.facts()))
            assert info["valid_actions"] == [c for c, _ in expected]
            if not expected or info["success"]:
                break
            call, after = rng.choice(expected)
            _, _, _, _, info = env.step(call)
            spent += costs[call.split("(")[0]]
            assert frozenset(env.facts()) == after and info["cost"] == spent
