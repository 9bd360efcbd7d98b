"""Sandbox overheads: time added per learned call and per primitive round trip.

    python benchmarks/bench_executor.py [--env pddl/gripper] [--instance gen:seed=1] [--repeat 300]

Targets (issue 3): < 5 ms added per learned call of a few primitives, < 0.5 ms per primitive round trip.
"Added" means beyond the environment's own step time, which is measured on the same moves.
"""

from __future__ import annotations

import argparse
import statistics
import time

from learnact.actions import ActionLibrary, Executor

CODE = '''
def shuttle(n, a, b):
    """Move between two rooms n times (n primitive calls)."""
    for i in range(n):
        if i % 2 == 0:
            move(a, b)
        else:
            move(b, a)
    return 'done'
'''


def median_ms(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="pddl/gripper")
    parser.add_argument("--instance", default="gen:seed=1")
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()

    from environments import make_env

    env = make_env(args.env, args.instance)
    env.reset()
    robby_at = "rooma"  # the generated gripper instances start in rooma
    other = "roomb"

    def env_pair():
        env.step(f"move('{robby_at}', '{other}')")
        env.step(f"move('{other}', '{robby_at}')")

    env_step_ms = median_ms(env_pair, args.repeat) / 2
    lib = ActionLibrary.from_code(CODE)
    t = time.perf_counter()
    with Executor(env, lib) as ex:
        startup_ms = (time.perf_counter() - t) * 1000

        def prim_pair():
            ex.run(f"move('{robby_at}', '{other}')")
            ex.run(f"move('{other}', '{robby_at}')")

        direct_ms = median_ms(prim_pair, args.repeat) / 2
        per_n = {}
        for n in (0, 2, 4, 40):
            per_n[n] = median_ms(lambda n=n: ex.run(f"shuttle({n}, '{robby_at}', '{other}')"), args.repeat)
        assert ex.run(f"shuttle(4, '{robby_at}', '{other}')").ok
        workers = ex.workers_started

    round_trip_ms = (per_n[40] - per_n[0]) / 40 - env_step_ms
    added_4_ms = per_n[4] - 4 * env_step_ms
    print(f"env: {args.env} {args.instance}   repeat={args.repeat} (medians)   workers started: {workers}")
    print(f"worker start-up + library load:              {startup_ms:8.2f} ms (once per executor)")
    print(f"env.step alone:                              {env_step_ms:8.3f} ms")
    print(f"primitive line via ex.run (parent, direct):  {direct_ms:8.3f} ms  (+{direct_ms - env_step_ms:.3f} ms)")
    for n, ms in per_n.items():
        print(f"learned call with {n:2d} primitives:             {ms:8.3f} ms")
    print(f"ADDED per learned call of 4 primitives:      {added_4_ms:8.3f} ms   (target < 5 ms)")
    print(f"ADDED per learned call, 0 primitives:        {per_n[0]:8.3f} ms")
    print(f"ADDED per primitive round trip:              {round_trip_ms:8.3f} ms   (target < 0.5 ms)")


if __name__ == "__main__":
    main()
