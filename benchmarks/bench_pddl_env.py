"""PDDL env speed against pddlgym (what the reference implementation runs on), same plans, same run.

    python benchmarks/bench_pddl_env.py [--domains gripper barman] [--seconds 2] [--data-dir DIR]

For each domain, every benchmark problem's oracle plan (pyperplan, computed once and cached
outside the timing) is replayed step by step, with the list of valid actions computed at every
step, until ``--seconds`` have passed. Printed per domain, in steps per second:

- ours, cold: all per-task caches (ground actions, valid actions, state texts) cleared before
  every episode, so nothing is reused between episodes;
- ours, warm: caches kept, as in learning, where many episodes start from the same states;
- pddlgym 0.0.7: ``PDDLEnv(domain, problem_dir, operators_as_actions=True,
  dynamic_action_space=True)``, ``step`` + ``action_space.all_ground_literals(obs)`` per step
  (pip install pddlgym==0.0.7, the project's ``bench`` extra; skipped with a note if absent).

Ours does more per step than pddlgym here: it also writes the observation text and the info dict.
Also printed: the time to create an env and to reset it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from environments import list_instances, make_env  # noqa: E402
from environments.data import find_data_dir  # noqa: E402
from environments.pddl.oracle import oracle_plans  # noqa: E402

DOMAINS = ("gripper", "blockworld", "barman", "tyreworld")


def bench_ours(env_name: str, plans: dict[str, list[str]], seconds: float, cold: bool) -> float:
    """Steps/s of our environment ``env_name`` replaying each instance's plan (``cold``: grounding caches cleared)."""
    envs = {name: make_env(env_name, name) for name in plans}
    steps, elapsed = 0, 0.0
    while elapsed < seconds:
        for name, plan in plans.items():
            env = envs[name]
            if cold:
                env.ground.clear_caches()
            start = time.perf_counter()
            _, info = env.reset()
            for call in plan:
                assert call in info["valid_actions"], (name, call)
                _, _, _, _, info = env.step(call)
            elapsed += time.perf_counter() - start
            steps += len(plan)
            assert info["success"], name
    return steps / elapsed


def bench_pddlgym(domain: str, data: Path, plans: dict[str, list[str]], seconds: float) -> float | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pddlgym.core import PDDLEnv
    except ImportError:
        return None
    env = PDDLEnv(
        str(data / "pddl" / f"{domain}.pddl"),
        str(data / "pddl" / domain),
        operators_as_actions=True,
        dynamic_action_space=True,
    )
    # pddlgym numbers problems by their position in the sorted file names.
    index = {Path(p.problem_fname).stem: i for i, p in enumerate(env.problems)}
    steps, elapsed = 0, 0.0
    while elapsed < seconds:
        for name, plan in plans.items():
            env.fix_problem_index(index[name])
            start = time.perf_counter()
            obs, _ = env.reset()
            for call in plan:
                valid = env.action_space.all_ground_literals(obs, valid_only=True)
                by_call = {
                    f"{lit.predicate.name.replace('-', '_')}({', '.join(repr(v.name) for v in lit.variables)})": lit
                    for lit in valid
                }
                obs, reward, done, *_ = env.step(by_call[call])
            elapsed += time.perf_counter() - start
            steps += len(plan)
            assert done and reward == 1.0, name
    return steps / elapsed


def create_and_reset_ms(domain: str, instance: str, repeat: int = 200) -> tuple[float, float]:
    make_env(f"pddl/{domain}", instance)  # parse once; later envs share the parsed task
    start = time.perf_counter()
    envs = [make_env(f"pddl/{domain}", instance) for _ in range(repeat)]
    create = (time.perf_counter() - start) / repeat * 1000
    start = time.perf_counter()
    for env in envs:
        env.reset()
    return create, (time.perf_counter() - start) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domains", nargs="+", default=list(DOMAINS), choices=DOMAINS)
    parser.add_argument("--seconds", type=float, default=2.0, help="timed replay per domain and mode")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--plan-cache", default=str(Path(tempfile.gettempdir()) / "learnact-oracle-plans"))
    args = parser.parse_args()
    data = find_data_dir(args.data_dir, required="pddl/gripper")
    if data is None:
        sys.exit("benchmark data not found: pass --data-dir DIR (a folder with pddl/) or set LEARNACT_DATA")

    print(
        f"{'domain':<11} {'problems':>8} {'plan steps':>10} {'ours cold':>10} {'ours warm':>10} "
        f"{'pddlgym':>9} {'cold/gym':>9}   create / reset"
    )
    gym: float | None = None
    for domain in args.domains:
        names = list_instances(f"pddl/{domain}", data_dir=data)
        t0 = time.perf_counter()
        found = oracle_plans([(domain, n) for n in names], data_dir=data, cache_dir=args.plan_cache)
        if time.perf_counter() - t0 > 5:
            print(f"  (planned {domain} in {time.perf_counter() - t0:.0f} s; cached in {args.plan_cache})")
        plans = {n: found[(domain, n)] for n in names}
        cold = bench_ours(f"pddl/{domain}", plans, args.seconds, cold=True)
        warm = bench_ours(f"pddl/{domain}", plans, args.seconds, cold=False)
        gym = bench_pddlgym(domain, data, plans, args.seconds)
        create, reset = create_and_reset_ms(domain, names[-1])
        ratio = f"{cold / gym:8.1f}x" if gym else "      n/a"
        gym_text = f"{gym:9.0f}" if gym else "  missing"
        print(
            f"{domain:<11} {len(plans):>8} {sum(map(len, plans.values())):>10} {cold:>10.0f} {warm:>10.0f} "
            f"{gym_text} {ratio}   {create:.3f} ms / {reset:.3f} ms",
            flush=True,
        )
    # The reference point of the issue: gripper prob08 alone.
    if "gripper" in args.domains:
        plan = oracle_plans([("gripper", "prob08")], data_dir=data, cache_dir=args.plan_cache)[("gripper", "prob08")]
        cold = bench_ours("pddl/gripper", {"prob08": plan}, args.seconds, cold=True)
        gym = bench_pddlgym("gripper", data, {"prob08": plan}, args.seconds)
        gym_text = f"{gym:.0f} steps/s, ratio {cold / gym:.1f}x" if gym else "pddlgym missing"
        print(f"gripper prob08: ours cold {cold:.0f} steps/s, pddlgym {gym_text}")
    if gym is None:
        print("pddlgym is not installed: pip install pddlgym==0.0.7 (the project's bench extra)")


if __name__ == "__main__":
    main()
