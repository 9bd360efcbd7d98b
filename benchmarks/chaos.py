#!/usr/bin/env python
"""Kill a run anywhere, resume it, and check that nothing was lost, duplicated or changed.

Against a deterministic scripted OpenAI-compatible server on 127.0.0.1 (``benchmarks.stub_server`` with
``benchmarks/scripted_model.py``: each reply depends on the prompt only), it runs these jobs:

- ``learn``: ``run.py --graph learn`` on generated gripper instances (creation, rollouts, revision rounds);
- ``pddl``: ``run.py --graph evaluate`` with act, react, reflexion, code_as_policy and learnact on generated
  gripper instances, 2 runs (each learning method learns anew per run, in its own sub-run);
- ``alfworld``: ``run.py --graph evaluate`` with act, react and reflexion on ALFWorld ``put`` games, when
  the ALFWorld data is in the data folder (else it is skipped, and says why).

Each job runs once uninterrupted (the reference), then again from scratch while ``--kills`` SIGKILLs
land on the run's process group at seeded random moments (``--seed``): a kill waits for a random number
of lines in the run's events.jsonl (or, for some, a random moment of the start-up), plus a random
delay. After each kill the run goes on with ``--resume``; after the last one it is resumed until it
finishes. Then the two run folders are compared as sets of records: training rollouts
(rollouts.jsonl), episode records (episodes.jsonl), library versions (library/history.jsonl,
snapshots.jsonl, every v<N>.py), candidates, learning outcomes and the summary tables, in the run
and in every learning sub-run. A record of the reference missing from the killed run is *lost*, one
written twice is *duplicated*, one that differs (or exists only in the killed run) is *mismatched*.

``--fault-rate F`` also makes the server misbehave for the killed run (429 with Retry-After, 500,
connection resets, timeouts, slow, empty and garbage replies; see ``benchmarks.stub_server.Faults``); the
retries per kind the run counted (usage.json) are printed. ``--kills 0 --fault-rate 0.2`` is the
model-fault run alone.

    python benchmarks/chaos.py --kills 20 [--seed 0] [--jobs learn,pddl,alfworld] [--fault-rate 0.2] [--keep DIR]

The last line is ``chaos: K kills, R resumes, lost L, duplicated D, mismatched M``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.chaos_compare import Diff, compare  # noqa: E402
from benchmarks.scripted_model import ScriptedModel  # noqa: E402
from benchmarks.stub_server import FAULT_KINDS, Faults, StubOpenAI  # noqa: E402

RUN_TIMEOUT_S = 900  # one process of one job, at most
REQUEST_TIMEOUT_S = 3  # the client's request timeout; the server's "timeout" fault stays silent longer


# ------------------------------------------------------------------------------------------ jobs
def default_data_dir() -> Path:
    return Path(os.environ.get("LEARNACT_DATA") or ROOT.parent / "shared" / "data")


def alfworld_games(data_dir: Path) -> tuple[list[str], str | None]:
    """Two ALFWorld put games for the test, or the reason there are none."""
    try:
        from environments import list_instances

        games = list_instances("alfworld/put", split="test", data_dir=str(data_dir))
    except Exception as exc:  # noqa: BLE001 - any reason is printed, the job is skipped
        return [], f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return (games[:2], None) if len(games) >= 2 else ([], f"fewer than 2 ALFWorld put games under {data_dir}")


def jobs_for(seed: int, names: list[str], data_dir: Path, small: bool = False) -> dict[str, list[str]]:
    """run.py arguments of each job; the seed also picks the generated problems. ``small``: fewer
    candidates, instances, methods and runs (the test suite's version)."""
    gen = lambda s, balls: f"gen:seed={s},balls={balls}"  # noqa: E731
    base = 100 + 10 * seed
    jobs: dict[str, list[str]] = {}
    if "learn" in names:
        train = [gen(base + 1, 1), gen(base + 2, 2)] if small else [gen(base + 1, 1), gen(base + 2, 2), gen(base + 3, 2)]
        jobs["learn"] = ["--graph", "learn", "--env", "pddl/gripper", "--instance", ",".join(train), "--candidates", "2" if small else "3",
                         "--max-steps", "6", "--max-rounds", "2" if small else "3", "--patience", "2", "--concurrency", "2"]  # fmt: skip
    if "pddl" in names:
        test = [gen(base + 5, 1), gen(base + 6, 2)] if small else [gen(base + 5, 1), gen(base + 6, 2), gen(base + 7, 2), gen(base + 8, 3)]
        methods = "act,code_as_policy,learnact" if small else "act,react,reflexion,code_as_policy,learnact"
        jobs["pddl"] = ["--graph", "evaluate", "--methods", methods, "--env", "pddl/gripper", "--instance", ",".join(test),
                        "--runs", "1" if small else "2", "--candidates", "2", "--max-rounds", "1" if small else "2",
                        "--max-steps", "8", "--concurrency", "4"]  # fmt: skip
    if "alfworld" in names:
        games, why = alfworld_games(data_dir)
        if why:
            print(f"alfworld: skipped ({why})", flush=True)
        else:
            jobs["alfworld"] = ["--graph", "evaluate", "--methods", "act,react,reflexion", "--env", "alfworld/put",
                                "--data-dir", str(data_dir), "--train", "2", "--instance", ",".join(games[:1] if small else games),
                                "--runs", "1", "--max-rounds", "1", "--max-steps", "4", "--concurrency", "2"]  # fmt: skip
    return jobs


# ------------------------------------------------------------------------------------ processes
def run_env() -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": "sk-chaos", "LEARNACT_PLAIN_PROGRESS": "1",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}  # fmt: skip


def launch(args: list[str], run_dir: Path, url: str, log: Path) -> subprocess.Popen:
    """A fresh run, or ``--resume`` when the folder already holds one (config.json written)."""
    if (run_dir / "config.json").is_file():
        cmd = ["--graph", args[args.index("--graph") + 1], "--resume", str(run_dir)]
    else:
        cmd = [*args, "--base-url", url, "--model", "scripted", "--timeout", str(REQUEST_TIMEOUT_S), "--run-dir", str(run_dir)]
    out = log.open("ab")
    out.write(f"\n$ run.py {' '.join(cmd)}\n".encode())
    out.flush()
    # Own process group: the kill takes the run and every child it started, as a crash would.
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), *cmd], cwd=ROOT, env=run_env(), stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip


class LineCounter:
    """Lines of a growing file, read incrementally."""

    def __init__(self, path: Path):
        self.path, self.offset, self.lines, self.last = path, 0, 0, b""

    def count(self) -> int:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return self.lines
        self.offset += len(data)
        self.lines += data.count(b"\n")
        if b"\n" in data:
            self.last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        return self.lines

    def last_event(self) -> str:
        try:
            return str(json.loads(self.last).get("event", "?"))
        except ValueError:
            return "?"


def wait(proc: subprocess.Popen, timeout_s: float = RUN_TIMEOUT_S) -> int:
    try:
        return proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return -9


@dataclass
class Outcome:
    kills: int = 0
    resumes: int = 0
    restarts: int = 0  # killed before config.json existed: started anew, as a user would
    failed_resumes: list[str] = field(default_factory=list)
    killed_during: Counter = field(default_factory=Counter)
    finished: bool = False
    seconds: float = 0.0


def run_with_kills(args: list[str], run_dir: Path, url: str, schedule: list[tuple[float, float]], log: Path) -> Outcome:
    """Run ``args`` in ``run_dir``, SIGKILL it at each ``(events, extra delay)`` moment, then resume to the end.

    ``events < 0``: a kill in the start-up, ``extra delay`` seconds after the process started."""
    out, t0, proc = Outcome(), time.monotonic(), None

    def start() -> subprocess.Popen:
        resumed = (run_dir / "config.json").is_file()
        if proc is not None:  # not the first process of this job
            if resumed:
                out.resumes += 1
            else:
                out.restarts += 1
        return launch(args, run_dir, url, log)

    for events, delay in schedule:
        proc = start()
        counter = LineCounter(run_dir / "events.jsonl")
        if events >= 0:
            counter.count()
            while proc.poll() is None and counter.count() < events:
                time.sleep(0.02)
        if proc.poll() is None:
            time.sleep(delay)
        if proc.poll() is None:
            counter.count()
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            out.kills += 1
            out.killed_during["start-up" if events < 0 or counter.lines == 0 else counter.last_event()] += 1
            continue
        if proc.returncode == 0:  # finished before this kill's moment: no more kills for this job
            out.finished = True
            break
        out.failed_resumes.append(f"exit {proc.returncode}: {tail(log)}")
    for _ in range(5):
        if out.finished:
            break
        proc = start()
        code = wait(proc)
        if code == 0:
            out.finished = True
        else:
            out.failed_resumes.append(f"exit {code}: {tail(log)}")
    out.seconds = time.monotonic() - t0
    return out


def tail(log: Path) -> str:
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    return " | ".join(lines[-2:])[:400]


def kill_schedule(rng: random.Random, kills: int, events: int, seconds: float) -> list[tuple[float, float]]:
    """Sorted moments (events.jsonl lines reached, extra delay in s); about 1 in 8 lands in the start-up.
    The extra delay spans up to 1.5 mean gaps between two events, so kills also land between events."""
    gap = seconds / max(events, 1)
    moments = []
    for _ in range(kills):
        if rng.random() < 0.125:
            moments.append((-1.0, rng.uniform(0.05, 4.0)))
        else:
            moments.append((rng.uniform(0, max(events, 1)), rng.uniform(0.0, 1.5 * gap)))
    startup = [m for m in moments if m[0] < 0]
    return startup + sorted(m for m in moments if m[0] >= 0)


def share_kills(kills: int, weights: dict[str, float]) -> dict[str, int]:
    """``kills`` spread over the jobs in proportion to ``weights`` (their uninterrupted wall times), by largest remainders."""
    total = sum(weights.values()) or 1
    exact = {k: kills * w / total for k, w in weights.items()}
    share = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - share[k], reverse=True)[: kills - sum(share.values())]:
        share[k] += 1
    return share


# ------------------------------------------------------------------------------------------ main
def retries_of(run_dir: Path) -> dict[str, int]:
    try:
        return json.loads((run_dir / "usage.json").read_text()).get("retries", {})
    except (OSError, ValueError):
        return {}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=10, help="SIGKILLs over all jobs (default 10)")
    p.add_argument("--seed", type=int, default=0, help="picks the kill moments and the generated problems")
    p.add_argument("--jobs", default="learn,pddl,alfworld", help="comma-separated: learn, pddl, alfworld")
    p.add_argument("--fault-rate", type=float, default=0.0, help="share of the killed runs' model requests that fail (0.2 = 20%%)")
    p.add_argument("--noise", type=float, default=0.2, help="share of the scripted agent's replies that are refused calls")
    p.add_argument("--delay", type=float, default=0.02, help="seconds the server takes per reply (a window for kills)")
    p.add_argument("--data-dir", type=Path, default=default_data_dir())
    p.add_argument("--small", action="store_true", help="smaller jobs (the test suite's version)")
    p.add_argument("--keep", type=Path, help="keep the run folders and logs here (default: a temporary folder, removed)")
    args = p.parse_args(argv)
    args.names = [n for n in args.jobs.split(",") if n]
    if unknown := set(args.names) - {"learn", "pddl", "alfworld"}:
        p.error(f"--jobs: unknown {', '.join(sorted(unknown))}")
    return args


def run_references(jobs: dict[str, list[str]], work: Path, clean: StubOpenAI) -> dict[str, tuple[float, int]] | None:
    """Each job once, uninterrupted: its seconds and events; None when one fails."""
    reference: dict[str, tuple[float, int]] = {}
    for name, job in jobs.items():
        t0 = time.monotonic()
        code = wait(launch(job, work / "reference" / name, clean.url, work / f"{name}-reference.log"))
        if code != 0:
            print(f"{name}: the uninterrupted run failed (exit {code}): {tail(work / f'{name}-reference.log')}", flush=True)
            return None
        events = LineCounter(work / "reference" / name / "events.jsonl").count()
        reference[name] = (time.monotonic() - t0, events)
        print(f"{name}: uninterrupted run {reference[name][0]:.0f} s, {events} events, {clean.chat_count} model requests so far", flush=True)
    return reference


def run_killed(name: str, job: list[str], work: Path, url: str, schedule: list[tuple[float, float]], totals: Diff, faults: bool) -> Outcome:
    """One job again under the kill ``schedule``, compared with its reference; adds its differences to ``totals``."""
    killed_dir = work / "killed" / name
    out = run_with_kills(job, killed_dir, url, schedule, work / f"{name}-killed.log")
    diffs = compare(work / "reference" / name, killed_dir)
    lost, dup, mis = (sum(getattr(d, a) for d in diffs.values()) for a in ("lost", "duplicated", "mismatched"))
    totals.lost, totals.duplicated, totals.mismatched = totals.lost + lost, totals.duplicated + dup, totals.mismatched + mis
    where = ", ".join(f"{k} {v}" for k, v in out.killed_during.most_common())
    print(f"{name}: {out.kills} kills ({where or 'none landed'}), {out.resumes} resumes, {out.restarts} restarts, "
          f"{'finished' if out.finished else 'NOT FINISHED'} in {out.seconds:.0f} s", flush=True)  # fmt: skip
    print("  records compared: " + ", ".join(f"{k} {d.records}" for k, d in diffs.items()), flush=True)
    print(f"  lost {lost}, duplicated {dup}, mismatched {mis}", flush=True)
    for line in [e for d in diffs.values() for e in d.examples][:10]:
        print(f"    {line}", flush=True)
    for failure in out.failed_resumes:
        print(f"  a resume failed: {failure}", flush=True)
    if not out.finished:
        totals.mismatched += 1
    if faults:
        retried = retries_of(killed_dir)
        print(f"  retries counted by the run's last process (usage.json): {json.dumps(retried, sort_keys=True)}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    rng = random.Random(args.seed)
    tmp = None
    if args.keep:
        work = args.keep
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="chaos-")
        work = Path(tmp.name)
    model = ScriptedModel(noise=args.noise, delay_s=args.delay)
    faults = Faults(rate=args.fault_rate, seed=args.seed, timeout_s=REQUEST_TIMEOUT_S + 1.5, slow_s=1.0)
    jobs = jobs_for(args.seed, args.names, args.data_dir, small=args.small)
    totals, outcomes = Diff(), {}
    with StubOpenAI(respond=model, record=False) as clean, StubOpenAI(respond=model, record=False, faults=faults) as faulty:
        reference = run_references(jobs, work, clean)
        if reference is None:
            return 1
        shares = share_kills(args.kills, {n: seconds for n, (seconds, _) in reference.items()})
        for name, job in jobs.items():
            schedule = kill_schedule(rng, shares[name], reference[name][1], reference[name][0])
            outcomes[name] = run_killed(name, job, work, faulty.url, schedule, totals, args.fault_rate > 0)
        if args.fault_rate > 0:
            injected = ", ".join(f"{k} {faulty.injected.get(k, 0)}" for k in FAULT_KINDS)
            print(f"faults injected: {sum(faulty.injected.values())} of {faulty.chat_count} requests ({injected})", flush=True)
    kills = sum(o.kills for o in outcomes.values())
    resumes = sum(o.resumes for o in outcomes.values())
    if args.keep:
        print(f"run folders and logs: {work}", flush=True)
    elif tmp is not None:
        tmp.cleanup()
    print(f"chaos: {kills} kills, {resumes} resumes, lost {totals.lost}, duplicated {totals.duplicated}, mismatched {totals.mismatched}", flush=True)
    return 0 if totals.lost == totals.duplicated == totals.mismatched == 0 else 1

if __name__ == "__main__":
    sys.exit(main())
