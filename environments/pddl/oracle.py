"""Oracle plans from pyperplan (a dev/bench dependency), in call form, cached on disk.

Greedy best-first search with the FF heuristic, the landmark heuristic for barman (hFF gets
lost there). pyperplan's search order depends on Python's string hashing, so one search can
take 0.1 s or a minute from run to run; the planner therefore runs in a child process with a
fixed ``PYTHONHASHSEED`` (same plans, same times every run), all requested problems in one
child, and plans are cached in ``cache_dir`` keyed by the domain and problem texts.
Used by the tests, the speed benchmark and the recording of prompt examples.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .env import OWN_DOMAINS, resolve_problem


class OracleError(RuntimeError):
    """pyperplan is missing, failed, or found no plan."""


def heuristic_for(task: str) -> str:
    return "landmark" if task == "barman" else "hff"


def _key(domain_text: str, problem_text: str, heuristic: str) -> str:
    digest = hashlib.sha256(f"{heuristic}\0{domain_text}\0{problem_text}".encode()).hexdigest()
    return digest[:24]


def oracle_plans(
    items: list[tuple[str, str]], data_dir=None, cache_dir: str | Path | None = None, timeout: float = 900
) -> dict[tuple[str, str], list[str]]:
    """Plans for ``[(task, instance), ...]`` as lists of calls such as ``pick('ball1', 'rooma', 'left')``."""
    jobs: dict[tuple[str, str], dict] = {}
    plans: dict[tuple[str, str], list[str]] = {}
    cache = Path(cache_dir) if cache_dir else None
    for task, instance in items:
        _, problem_text, bench_domain = resolve_problem(task, instance, data_dir)
        domain_path = bench_domain or OWN_DOMAINS / f"{task}.pddl"
        heuristic = heuristic_for(task)
        key = _key(domain_path.read_text(encoding="utf-8"), problem_text, heuristic)
        cached = cache / f"{key}.json" if cache else None
        if cached is not None and cached.is_file():
            plans[(task, instance)] = json.loads(cached.read_text(encoding="utf-8"))
            continue
        jobs[(task, instance)] = {
            "domain": str(domain_path),
            "problem": problem_text,
            "heuristic": heuristic,
            "key": key,
        }
    if jobs:
        found = _run_pyperplan(list(jobs.values()), timeout)
        for item, job in jobs.items():
            plan = found.get(job["key"])
            if plan is None:
                raise OracleError(f"pyperplan found no plan for pddl/{item[0]} {item[1]}")
            plans[item] = plan
            if cache is not None:
                cache.mkdir(parents=True, exist_ok=True)
                (cache / f"{job['key']}.json").write_text(json.dumps(plan), encoding="utf-8")
    return plans


def oracle_plan(task: str, instance: str, data_dir=None, cache_dir=None) -> list[str]:
    return oracle_plans([(task, instance)], data_dir=data_dir, cache_dir=cache_dir)[(task, instance)]


def plan_file(
    domain_path: str | Path, problem_text: str, cache_dir: str | Path | None = None, timeout: float = 120
) -> list[str]:
    """pyperplan's plan (GBFS, hFF) for one problem on any domain file, cached like :func:`oracle_plans`; an
    :class:`OracleError` where pyperplan is missing, cannot read the domain (it reads positive typed STRIPS) or
    finds no plan."""
    domain_text = Path(domain_path).read_text(encoding="utf-8")
    key = _key(domain_text, problem_text, "hff")
    cached = Path(cache_dir) / f"{key}.json" if cache_dir else None
    if cached is not None and cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    plan = _run_pyperplan(
        [{"domain": str(domain_path), "problem": problem_text, "heuristic": "hff", "key": key}], timeout
    ).get(key)
    if plan is None:
        raise OracleError(f"pyperplan found no plan for {domain_path}")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(plan), encoding="utf-8")
    return plan


def _run_pyperplan(jobs: list[dict], timeout: float) -> dict[str, list[str] | None]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OracleError(f"pyperplan did not finish {len(jobs)} problem(s) within {timeout:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise OracleError(f"pyperplan failed: {last[-300:]}")
    return json.loads(done.stdout)


def _child() -> None:
    """Child process: read jobs as JSON on stdin, print {key: plan or null} on stdout."""
    import logging

    try:
        from pyperplan.planner import HEURISTICS, SEARCHES, search_plan
    except ImportError:
        sys.exit("pyperplan is not installed: pip install pyperplan==2.1 (the project's dev extra)")
    logging.disable(logging.CRITICAL)
    out: dict[str, list[str] | None] = {}
    for job in json.load(sys.stdin):
        with tempfile.TemporaryDirectory() as tmp:
            problem = Path(tmp) / "problem.pddl"
            problem.write_text(job["problem"], encoding="utf-8")
            plan = search_plan(job["domain"], str(problem), SEARCHES["gbf"], HEURISTICS[job["heuristic"]])
        out[job["key"]] = None if plan is None else [_call(op.name) for op in plan]
    json.dump(out, sys.stdout)


def _call(pyperplan_name: str) -> str:
    """``(pick ball1 rooma left)`` -> ``pick('ball1', 'rooma', 'left')``."""
    name, *args = pyperplan_name.strip("()").split()
    return f"{name.replace('-', '_')}({', '.join(repr(a) for a in args)})"


if __name__ == "__main__":
    _child()
