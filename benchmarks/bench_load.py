#!/usr/bin/env python
"""Load: one evaluation of many small gripper episodes with ``--concurrency 16`` against the scripted
OpenAI-compatible server (``benchmarks.stub_server`` with ``benchmarks/scripted_model.py``: each reply is the
next step of a greedy plan read from the prompt's state, a share of them refused calls).

While it runs, the resident memory of the run's process (and of its process tree) is read from /proc
every ``--every`` seconds, with the number of episodes recorded so far. Afterwards every record is
checked against its own instance: the record's instance and id agree, its goal and first observation
are those of a fresh environment of that instance, and replaying its trajectory's actions there gives
the same observations, outcome and success. A trajectory crossed with another episode's cannot pass.

    python benchmarks/bench_load.py [--episodes 500] [--concurrency 16] [--keep DIR]

Prints the figures (wall time, episodes/s, model requests, RSS at 10%, 50% and 100% of the episodes,
peak, growth over the second half) and ``load: N episodes, N consistent, 0 crossed, ...``.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scripted_model import ScriptedModel  # noqa: E402
from benchmarks.stub_server import StubOpenAI  # noqa: E402


def instances(n: int) -> list[str]:
    """``n`` small generated gripper problems: 1 to 3 balls, 2 or 3 rooms, distinct seeds."""
    return [f"gen:seed={i + 1},balls={1 + i % 3},rooms={2 + i % 2}" for i in range(n)]


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
    return out


@dataclass
class Sample:
    t: float
    episodes: int
    rss_kb: int
    tree_rss_kb: int


@dataclass
class Load:
    wall_s: float
    code: int
    samples: list[Sample] = field(default_factory=list)
    requests: int = 0


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return 0


def run_load(run_dir: Path, n: int, concurrency: int, every_s: float, max_steps: int, noise: float, log: Path) -> Load:
    with StubOpenAI(respond=ScriptedModel(noise=noise), record=False) as stub:
        cmd = [sys.executable, str(ROOT / "run.py"), "--graph", "evaluate", "--methods", "act", "--env", "pddl/gripper",
               "--instance", ",".join(instances(n)), "--runs", "1", "--max-steps", str(max_steps), "--concurrency", str(concurrency),
               "--base-url", stub.url, "--model", "scripted", "--assist", "small", "--timeout", "60", "--run-dir", str(run_dir)]  # fmt: skip
        env = {**os.environ, "OPENAI_API_KEY": "sk-load", "LEARNACT_PLAIN_PROGRESS": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}  # fmt: skip
        t0 = time.monotonic()
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            samples = []
            try:
                while proc.poll() is None:
                    pids = tree(proc.pid)
                    samples.append(Sample(time.monotonic() - t0, count_lines(run_dir / "episodes.jsonl"), rss_kb(proc.pid), sum(rss_kb(p) for p in pids)))
                    try:
                        proc.wait(every_s)
                    except subprocess.TimeoutExpired:
                        pass
            except BaseException:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
        return Load(time.monotonic() - t0, proc.returncode, [s for s in samples if s.rss_kb], stub.chat_count)


@dataclass
class Check:
    records: int = 0
    consistent: int = 0
    crossed: list[str] = field(default_factory=list)
    duplicated: int = 0
    missing: int = 0


def check_records(run_dir: Path, n: int) -> Check:
    """Every record belongs to its instance: ids, goal, first observation and a replay of its trajectory."""
    from environments import make_env
    from nodes.evaluate import episode_id

    lines = (run_dir / "episodes.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    out = Check(records=len(records))
    ids = [r["episode_id"] for r in records]
    out.duplicated = len(ids) - len(set(ids))
    wanted = {episode_id("act", "pddl/gripper", inst, 0): inst for inst in instances(n)}
    out.missing = len(wanted.keys() - set(ids))
    for r in records:
        inst = r["instance"]
        problems = []
        if wanted.get(r["episode_id"]) != inst:
            problems.append("id and instance disagree")
        env = make_env("pddl/gripper", inst)
        obs, info = env.reset()
        if r["goal"] != info["goal"] or r["first_observation"] != obs:
            problems.append("goal or first observation of another instance")
        success = False
        for i, step in enumerate(s for s in r["trajectory"] if not s.get("thought")):
            obs, _, _, _, info = env.step(step["action"])
            success = success or info["success"]
            if obs != step["observation"] or bool(info["valid"]) != bool(step.get("ok")):
                problems.append(f"step {i} ({step['action']}) replays differently")
                break
        env.close()
        if success != r["success"]:
            problems.append("the replay's success differs")
        if problems:
            out.crossed.append(f"{r['episode_id']}: {'; '.join(problems)}")
        else:
            out.consistent += 1
    return out


def rss_at(samples: list[Sample], share: float, n: int) -> Sample:
    """The first sample taken once ``share`` of the ``n`` episodes were recorded (the last one otherwise)."""
    return next((s for s in samples if s.episodes >= share * n), samples[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--max-steps", type=int, default=12)
    p.add_argument("--noise", type=float, default=0.1, help="share of the scripted agent's replies that are refused calls")
    p.add_argument("--every", type=float, default=0.5, help="seconds between two RSS readings")
    p.add_argument("--keep", type=Path, help="keep the run folder here (default: a temporary folder)")
    args = p.parse_args(argv)
    tmp = None if args.keep else tempfile.TemporaryDirectory(prefix="load-")
    work = args.keep or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    run_dir = work / "run"
    load = run_load(run_dir, args.episodes, args.concurrency, args.every, args.max_steps, args.noise, work / "run.log")
    if load.code != 0:
        tail = (work / "run.log").read_text(errors="replace").strip().splitlines()[-3:]
        print(f"load: the evaluation failed (exit {load.code}): {' | '.join(tail)}")
        return 1
    check = check_records(run_dir, args.episodes)
    samples = load.samples
    mb = lambda kb: kb / 1024  # noqa: E731
    s10, s50, s100 = (rss_at(samples, f, args.episodes) for f in (0.1, 0.5, 1.0))
    peak = max(samples, key=lambda s: s.rss_kb)
    running = [s for s in samples if s.episodes < args.episodes] or samples
    peak_running = max(running, key=lambda s: s.rss_kb)
    growth = (s100.rss_kb - s50.rss_kb) / max(s50.rss_kb, 1)
    steps = sum(json.loads(line)["steps"] for line in (run_dir / "episodes.jsonl").read_text().splitlines() if line.strip())
    print(f"episodes: {check.records} in {load.wall_s:.0f} s ({check.records / load.wall_s:.1f}/s), {steps} agent steps, "
          f"{load.requests} model requests, concurrency {args.concurrency}")  # fmt: skip
    print(f"RSS of the run process: {mb(s10.rss_kb):.0f} MB at 10% of the episodes, {mb(s50.rss_kb):.0f} MB at 50%, "
          f"{mb(s100.rss_kb):.0f} MB at 100%; peak {mb(peak_running.rss_kb):.0f} MB while episodes ran, "
          f"{mb(peak.rss_kb):.0f} MB overall (summary and report included); "
          f"{growth:+.1%} over the second half; {len(samples)} readings")  # fmt: skip
    print(f"RSS of its process tree: peak {mb(max(s.tree_rss_kb for s in samples)):.0f} MB")
    for line in check.crossed[:10]:
        print(f"  {line}")
    print(f"load: {check.records} episodes, {check.consistent} consistent, {len(check.crossed)} crossed, "
          f"{check.duplicated} duplicated, {check.missing} missing; peak RSS {mb(peak.rss_kb):.0f} MB, second half {growth:+.1%}")  # fmt: skip
    if tmp is not None:
        tmp.cleanup()
    ok = check.consistent == args.episodes and not check.crossed and not check.duplicated and not check.missing
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
