"""The real path end to end: ``run.py`` with the embedded local model (llama-cpp-python serving
Qwen2.5-Coder-1.5B, reached through ChatOpenAI) on small generated gripper problems.

Success is not asserted (a 1.5B model may or may not solve the task); what is asserted is that the
runs complete and record what they did: a grammar-constrained agent that only ever emits one
well-formed call, episode records with the primitive traces, token accounting, and a learned
library that the Act graph can load.

``LEARNACT_SKIP_LOCAL_MODEL=1`` skips them on purpose, like the other local-model tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_helpers import ROOT

from environments.base import parse_call

pytestmark = pytest.mark.skipif(
    os.environ.get("LEARNACT_SKIP_LOCAL_MODEL") == "1",
    reason="LEARNACT_SKIP_LOCAL_MODEL=1: real local-model runs skipped",
)


def run_cli(*args: str, timeout: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}}
    env["LEARNACT_PLAIN_PROGRESS"] = "1"
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_act_with_the_local_model_on_a_generated_gripper_problem(local_llm, tmp_path):
    # local_llm: the model file is assembled and its server starts; the run starts its own server.
    run_dir = tmp_path / "act"
    out = run_cli(
        "--graph",
        "act",
        "--env",
        "pddl/gripper",
        "--instance",
        "gen:seed=1,balls=1",
        "--max-steps",
        "6",
        "--run-dir",
        str(run_dir),
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (record,) = read_jsonl(run_dir / "episodes.jsonl")
    assert record["instance"] == "gen:seed=1,balls=1"
    assert 1 <= record["steps"] <= 6 and isinstance(record["success"], bool) and 0.0 <= record["progress"] <= 1.0
    assert record["tokens"] > 0 and record["cost"] == 0.0  # local model: free
    for step in record["trajectory"]:
        name, _args = parse_call(step["action"])  # the grammar admits exactly one well-formed call
        assert name in {"pick", "move", "drop"}, step["action"]
        assert step["trace"], "every executed step records its primitive trace"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["models"]["agent"]["model"] == "local"
    assert (run_dir / "report.html").is_file()


def test_learn_then_act_with_the_local_model(local_llm, tmp_path):
    run_dir = tmp_path / "learn"
    out = run_cli(
        "--graph",
        "learn",
        "--env",
        "pddl/gripper",
        "--instance",
        "gen:seed=1,balls=1",
        "--candidates",
        "1",
        "--max-rounds",
        "1",
        "--max-steps",
        "4",
        "--run-dir",
        str(run_dir),
        timeout=1800,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((run_dir / "learn_summary.json").read_text())
    assert summary["stop_reason"] and summary["rounds"], summary
    events = {e["event"] for e in read_jsonl(run_dir / "events.jsonl")}
    assert {"candidate_start", "learning_done"} <= events, events
    if summary["best"]:
        assert {"candidate_ready", "rollout_end", "round_scored"} <= events, events
    usage = json.loads((run_dir / "usage.json").read_text())
    assert usage["per_node"], usage  # tokens accounted per node
    if summary["best"]:  # a library was learned: the Act graph uses it
        act_dir = tmp_path / "act"
        out = run_cli(
            "--graph",
            "act",
            "--env",
            "pddl/gripper",
            "--instance",
            "gen:seed=2,balls=1",
            "--actions",
            str(run_dir),
            "--max-steps",
            "4",
            "--run-dir",
            str(act_dir),
            timeout=900,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        assert len(read_jsonl(act_dir / "episodes.jsonl")) == 1
