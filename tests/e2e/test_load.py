"""Load, small: 40 episodes at --concurrency 16 against the scripted server (benchmarks/bench_load.py
runs 500): every record belongs to its own instance, none is missing or written twice, and the run's
memory does not grow with the episodes."""

from __future__ import annotations

import json
import sys

from conftest_helpers import ROOT

sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package

from benchmarks.bench_load import check_records, instances, rss_at, run_load  # noqa: E402


def test_40_episodes_at_concurrency_16_keep_to_their_instances(tmp_path):
    n = 40
    load = run_load(tmp_path / "run", n, concurrency=16, every_s=0.2, max_steps=12, noise=0.1, log=tmp_path / "run.log")
    assert load.code == 0, (tmp_path / "run.log").read_text()[-2000:]
    check = check_records(tmp_path / "run", n)
    assert (check.records, check.consistent, check.crossed, check.duplicated, check.missing) == (n, n, [], 0, 0)
    assert load.samples, "no memory reading was taken"
    first, last = rss_at(load.samples, 0.1, n), rss_at(load.samples, 1.0, n)
    # Generous: a leak of even 1 MB per episode would show; 40 episodes are too few to measure flatness finely.
    assert last.rss_kb - first.rss_kb < 40 * 1024, (first, last)


def test_a_crossed_trajectory_is_caught(tmp_path):
    """The check itself: swap two records' trajectories and both are reported."""
    n = 4
    load = run_load(tmp_path / "run", n, concurrency=4, every_s=0.5, max_steps=12, noise=0.0, log=tmp_path / "run.log")
    assert load.code == 0
    path = tmp_path / "run" / "episodes.jsonl"
    records = {r["instance"]: r for r in map(json.loads, path.read_text().splitlines())}
    a, b = instances(n)[1], instances(n)[2]  # 2 and 3 balls: different trajectories
    records[a]["trajectory"], records[b]["trajectory"] = records[b]["trajectory"], records[a]["trajectory"]
    path.write_text("".join(json.dumps(r) + "\n" for r in records.values()))
    check = check_records(tmp_path / "run", n)
    assert check.consistent == n - 2 and len(check.crossed) == 2
