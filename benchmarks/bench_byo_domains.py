"""Domain folders (``pddl:PATH``): load and ground time against pyperplan's, steps per second against pddlgym's.

    python benchmarks/bench_byo_domains.py [FOLDER ...] [--seconds 2]

Without folders: five domains of the tests (tests/fixtures/pddl_domains: logistics, elevator, ferry, hanoi,
switches; problems of sizes 2, 4, 6, 8) written to a temporary folder. pddlgym 0.0.7 reads one variable per
``- type`` only, so it gets the domain rewritten that way (same meaning); it refuses ``either`` and 0-ary
predicates, shown as "refused". Per domain, over its problems:

- load: ours = parse the domain and the problem, compile the matchers, reset (the valid actions of the initial
  state), caches cleared first; ours + all = the same and every well-typed call listed (``typed_calls``, what a
  full grounding enumerates); pyperplan = its parse + ground (static and relevance analysis off), in process;
- steps/s: each problem's pyperplan plan replayed with the valid actions listed at every step, ours cold (caches
  cleared per episode) and warm, and pddlgym 0.0.7 (``step`` + ``all_ground_literals`` per step; skipped if absent).
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from benchmarks.bench_pddl_env import bench_ours  # noqa: E402 - the same replay loop on a domain folder
from environments import list_instances, make_env  # noqa: E402
from environments.pddl import env as pddl_env  # noqa: E402
from environments.pddl.oracle import plan_file  # noqa: E402


def mean_ms(times: list[float]) -> float:
    return sum(times) / len(times) * 1000


def load_ours(name: str, instance: str, full: bool) -> float:
    pddl_env._task.cache_clear()
    pddl_env._domain.cache_clear()
    start = time.perf_counter()
    env = make_env(name, instance)
    env.reset()
    if full:
        env.typed_calls()
    return time.perf_counter() - start


def load_pyperplan(folder: Path, instance: str) -> float:
    from pyperplan.planner import _ground, _parse

    start = time.perf_counter()
    _ground(_parse(str(folder / "domain.pddl"), str(folder / f"{instance}.pddl")), False, False)
    return time.perf_counter() - start


def one_type_per_variable(text: str) -> str:
    """``?a ?b - t`` -> ``?a - t ?b - t``: pddlgym 0.0.7 reads one variable per ``- type`` only (the same domain)."""
    return re.sub(
        r"((?:\?[\w-]+\s+)+)-\s+([\w-]+)", lambda m: " ".join(f"{v} - {m[2]}" for v in m[1].split()) + " ", text
    )


def steps_pddlgym(folder: Path, plans: dict[str, list[str]], seconds: float) -> float | str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pddlgym.core import PDDLEnv
    except ImportError:
        return "absent"
    problems = Path(tempfile.mkdtemp(prefix="bench-gym-"))
    for inst in plans:
        shutil.copy(folder / f"{inst}.pddl", problems / f"{inst}.pddl")
    domain = problems.parent / f"{problems.name}-domain.pddl"
    domain.write_text(one_type_per_variable((folder / "domain.pddl").read_text()))
    try:
        env = PDDLEnv(str(domain), str(problems), operators_as_actions=True, dynamic_action_space=True)
    except Exception as exc:  # noqa: BLE001 - pddlgym's parser refuses what it does not read
        return f"refused ({type(exc).__name__})"
    index = {Path(p.problem_fname).stem: i for i, p in enumerate(env.problems)}
    steps, elapsed = 0, 0.0
    while elapsed < seconds:
        for inst, plan in plans.items():
            env.fix_problem_index(index[inst])
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
            assert done and reward == 1.0, inst
    return steps / elapsed


def default_folders() -> list[Path]:
    from fixtures.pddl_domains import hand_folder

    root = Path(tempfile.mkdtemp(prefix="bench-byo-"))
    return [
        hand_folder(root, name, sizes=(2, 4, 6, 8), seed=1)
        for name in ("logistics", "elevator", "ferry", "hanoi", "switches")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--plan-cache", default=str(Path(tempfile.gettempdir()) / "learnact-oracle-plans"))
    args = parser.parse_args()
    random.seed(0)
    print(
        f"{'domain':<10} {'problems':>8} {'steps':>6} | load ms: {'ours':>6} {'ours+all':>8} {'pyperplan':>9} | "
        f"steps/s: {'cold':>6} {'warm':>6} {'pddlgym':>9} {'cold/gym':>8}"
    )
    for folder in args.folders or default_folders():
        name = f"pddl:{folder.resolve()}"
        instances = list_instances(name)
        plans = {
            i: plan_file(folder / "domain.pddl", (folder / f"{i}.pddl").read_text(), cache_dir=args.plan_cache)
            for i in instances
        }
        ours = mean_ms([load_ours(name, i, full=False) for i in instances])
        full = mean_ms([load_ours(name, i, full=True) for i in instances])
        pyperplan = mean_ms([load_pyperplan(folder, i) for i in instances])
        cold, warm = bench_ours(name, plans, args.seconds, True), bench_ours(name, plans, args.seconds, False)
        gym = steps_pddlgym(folder, plans, args.seconds)
        gym_text, ratio = (
            (f"{gym:9.0f}", f"{cold / gym:7.1f}x") if isinstance(gym, float) else (f"{gym:>9}", "     n/a")
        )
        print(
            f"{folder.name:<10} {len(plans):>8} {sum(map(len, plans.values())):>6} | {'':9}{ours:>6.2f} {full:>8.2f} {pyperplan:>9.2f} | "
            f"{'':9}{cold:>6.0f} {warm:>6.0f} {gym_text} {ratio}",
            flush=True,
        )


if __name__ == "__main__":
    main()
