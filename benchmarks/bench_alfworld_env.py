"""ALFWorld env speed: creation, reset and steps per second, with and without the TextWorld caches
(memoised template parsing and PDDL-to-SAS translation, environments/alfworld/textworld_patch.py).

    python benchmarks/bench_alfworld_env.py [--games-per-type 2] [--data-dir DIR]

Each mode runs in a fresh process (the cache is process-wide). For every game we replay the
planner's solution (computed once, outside the timing) through ``env.step`` in call form, with
``info["valid_actions"]`` built at every step, and check that it wins. The two modes must give
identical observations and admissible commands; the script says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_mode(cache: bool, games_per_type: int, data_dir: str | None) -> dict:
    sys.path.insert(0, str(ROOT))
    from environments import list_instances, make_env
    from environments.alfworld import TASK_TYPES
    from environments.alfworld.textworld_patch import clear_translation_cache

    create_s = reset_s = step_s = 0.0
    steps = episodes = wins = 0
    transcript = hashlib.sha256()
    for task in TASK_TYPES:
        for instance in list_instances(f"alfworld/{task}", data_dir=data_dir)[:games_per_type]:
            planner = make_env(f"alfworld/{task}", instance, data_dir=data_dir, walkthrough=True, textgen_cache=cache)
            plan = planner.reset()[1]["walkthrough"]
            planner.close()
            clear_translation_cache()  # time the game's first load, not one the planner's left memoised
            start = time.perf_counter()
            env = make_env(f"alfworld/{task}", instance, data_dir=data_dir, textgen_cache=cache)
            create_s += time.perf_counter() - start
            start = time.perf_counter()
            env.reset()  # the first reset also finishes loading the game
            create_s += time.perf_counter() - start
            start = time.perf_counter()
            obs, info = env.reset()
            reset_s += time.perf_counter() - start
            transcript.update(obs.encode())
            start = time.perf_counter()
            for action in plan:
                obs, _, _, _, info = env.step(action)
                transcript.update((obs + "|".join(info["admissible_commands"])).encode())
            step_s += time.perf_counter() - start
            steps += len(plan)
            episodes += 1
            wins += bool(info["success"])
            env.close()
    return {
        "cache": cache,
        "episodes": episodes,
        "wins": wins,
        "steps": steps,
        "create_s": create_s / episodes,
        "reset_s": reset_s / episodes,
        "steps_per_s": steps / step_s,
        "transcript": transcript.hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games-per-type", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--mode", choices=["cache", "nocache"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode == "cache", args.games_per_type, args.data_dir)))
        return
    results = []
    for mode in ("nocache", "cache"):
        cmd = [sys.executable, __file__, "--mode", mode, "--games-per-type", str(args.games_per_type)]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"{'caches':<14} {'episodes':>8} {'won':>4} {'steps':>6} {'make+1st reset s':>16} {'reset s':>8} {'steps/s':>8}"
    )
    for r in results:
        print(
            f"{'on' if r['cache'] else 'off':<14} {r['episodes']:>8} {r['wins']:>4} {r['steps']:>6} "
            f"{r['create_s']:>16.3f} {r['reset_s']:>8.3f} {r['steps_per_s']:>8.1f}"
        )
    same = results[0]["transcript"] == results[1]["transcript"]
    print(f"identical observations and admissible commands in both modes: {same}")
    print(f"speed-up of steps/s from the caches: {results[1]['steps_per_s'] / results[0]['steps_per_s']:.2f}x")
    print(
        f"speed-up of a game's load (make + first reset) and of a reset: {results[0]['create_s'] / results[1]['create_s']:.2f}x, {results[0]['reset_s'] / results[1]['reset_s']:.2f}x"
    )


if __name__ == "__main__":
    main()
