"""Every benchmark problem and generated problem is solved by replaying an oracle plan
(pyperplan) through the env: each step valid and listed in valid_actions, success at the end
with progress 1.0, reward 1.0 and termination."""

from __future__ import annotations

import pytest

from environments import make_env
from environments.data import find_data_dir
from environments.pddl.oracle import oracle_plans

pytest.importorskip("pyperplan", reason="the oracle planner pyperplan is a dev dependency (pip install -e .[dev])")

DOMAINS = ("gripper", "blockworld", "barman", "tyreworld")
DATA = find_data_dir(required="pddl/gripper")
GENERATED = [
    *((d, f"gen:seed={s}") for d in DOMAINS for s in (0, 1, 2)),
    ("gripper", "gen:seed=4,balls=6,rooms=3"),
    ("blockworld", "gen:seed=5,blocks=6"),
    ("barman", "gen:seed=1,cocktails=2"),
    ("tyreworld", "gen:seed=1,wheels=2"),
]


def benchmark_instances() -> list[tuple[str, str]]:
    if DATA is None:
        return []
    return [(d, p.stem) for d in DOMAINS for p in sorted((DATA / "pddl" / d).glob("*.pddl"))]


@pytest.fixture(scope="session")
def plans(tmp_path_factory) -> dict:
    """All plans in one planner run; kept between sessions beside pytest's temporary folders
    (pyperplan needs ~1 min for barman the first time)."""
    cache = tmp_path_factory.getbasetemp().parent / "learnact-oracle-plans"
    return oracle_plans(benchmark_instances() + GENERATED, cache_dir=cache)


def replay(domain: str, instance: str, plan: list[str]) -> None:
    env = make_env(f"pddl/{domain}", instance)
    _, info = env.reset()
    assert not info["success"] and info["progress"] < 1.0
    for call in plan:
        assert call in info["valid_actions"], f"{call} missing from valid_actions"
        _, reward, terminated, _, info = env.step(call)
        assert info["valid"], (call, info.get("reason"))
        assert terminated == info["success"]
    assert info["success"] and info["progress"] == 1.0 and terminated and reward == 1.0


@pytest.mark.skipif(DATA is None, reason="benchmark data (../shared/data/pddl) is absent")
def test_all_sixty_benchmark_problems_are_present():
    counts = {d: sum(1 for i in benchmark_instances() if i[0] == d) for d in DOMAINS}
    assert counts == {"gripper": 20, "blockworld": 10, "barman": 20, "tyreworld": 10}


@pytest.mark.skipif(DATA is None, reason="benchmark data (../shared/data/pddl) is absent")
@pytest.mark.parametrize("domain,instance", benchmark_instances())
def test_benchmark_problem_solved_by_oracle(plans, domain, instance):
    replay(domain, instance, plans[(domain, instance)])


@pytest.mark.parametrize("domain,instance", GENERATED)
def test_generated_problem_solved_by_oracle_on_our_domain(plans, domain, instance):
    replay(domain, instance, plans[(domain, instance)])


@pytest.mark.skipif(DATA is None, reason="benchmark data (../shared/data/pddl) is absent")
@pytest.mark.parametrize("domain", DOMAINS)
def test_benchmark_problems_run_on_our_domain_files(plans, domain):
    """The shipped domain files mean the same as the benchmark's: its plans work on ours."""
    from environments.pddl.env import OWN_DOMAINS

    for d, instance in benchmark_instances():
        if d != domain:
            continue
        path = DATA / "pddl" / domain / f"{instance}.pddl"
        env = make_env(f"pddl/{domain}", str(path), domain_file=OWN_DOMAINS / f"{domain}.pddl")
        env.reset()
        for call in plans[(domain, instance)]:
            *_, info = env.step(call)
            assert info["valid"], (instance, call, info.get("reason"))
        assert info["success"], instance
