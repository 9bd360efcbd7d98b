"""Kill it anywhere: runs killed in their start-up resume, and a small ``benchmarks/chaos.py`` (SIGKILLs at
seeded moments, resumes, comparison with an uninterrupted run) loses, duplicates and changes nothing."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package

from benchmarks.scripted_model import ScriptedModel, gripper_plan, parse_facts, parse_view  # noqa: E402
from llm.stub_server import StubOpenAI  # noqa: E402

ENV = {"LEARNACT_PLAIN_PROGRESS": "1", "OPENAI_API_KEY": "sk-test"}


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **ENV}, timeout=timeout)  # fmt: skip


@pytest.fixture
def scripted():
    server = StubOpenAI(respond=ScriptedModel(noise=0.2)).start()
    yield server
    server.stop()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ------------------------------------------------------------------ the scripted model


def test_scripted_model_solves_gripper_from_the_view_and_from_the_facts():
    from environments import make_env

    env = make_env("pddl/gripper", "gen:seed=3,balls=3,rooms=3")
    obs, info = env.reset()
    plan = gripper_plan(*parse_facts(f"Goal: {info['goal']}\nInitial observation:\n{obs}"))
    assert plan == gripper_plan(*parse_view(env.state_view()))
    for action in plan:
        obs, _, done, _, info = env.step(action)
        assert info["valid"], (action, obs)
    assert info["success"]
    env.close()


def test_scripted_model_replies_depend_on_the_prompt_only():
    model = ScriptedModel(noise=0.5)
    body = {"messages": [{"role": "system", "content": "You are an agent"}, {"role": "user", "content": "Step 2.\n\nNow:\nRobby is in rooma.\nTo do: ball1 is in rooma; it must go to roomb."}]}
    replies = {model(body).text for _ in range(5)} | {ScriptedModel(noise=0.5)(json.loads(json.dumps(body))).text}
    assert len(replies) == 1


# ------------------------------------------------------------------ killed in the start-up


def _learn_settings(url: str) -> dict:
    from cli.commands import resolve_settings
    from cli.main import build_parser

    argv = ["--graph", "learn", "--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1", "--candidates", "1", "--max-steps", "4",
            "--max-rounds", "1", "--model", "scripted", "--base-url", url]  # fmt: skip
    return resolve_settings(build_parser().parse_args(argv))


@pytest.mark.parametrize("database", ["none", "tables_without_rows"])
def test_learn_run_killed_in_its_start_up_resumes_from_the_beginning(scripted, tmp_path, database):
    """Found by benchmarks/chaos.py: a kill after config.json and before the first checkpoint left a
    folder that --resume refused ("no checkpoint to resume from; start it again without --resume") and a
    fresh start refused too ("already holds a run; continue it with --resume"): a dead end."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from cli.runs import RunDir

    run_dir = tmp_path / "run"
    RunDir(run_dir).create(_learn_settings(scripted.url))
    if database == "tables_without_rows":
        conn = sqlite3.connect(run_dir / "checkpoints.sqlite")
        SqliteSaver(conn).setup()
        conn.close()
    out = run_cli("--graph", "learn", "--resume", str(run_dir))
    assert out.returncode == 0, out.stderr
    assert "starting from the beginning" in out.stderr
    summary = json.loads((run_dir / "learn_summary.json").read_text())
    assert summary["rounds"] and summary["stop_reason"]
    assert sum(e["event"] == "candidate_start" and e["round"] == 0 for e in read_jsonl(run_dir / "events.jsonl")) == 1


def test_evaluation_killed_in_its_start_up_resumes_from_the_beginning(scripted, tmp_path):
    from cli.commands import resolve_settings
    from cli.main import build_parser
    from cli.runs import RunDir

    argv = ["--graph", "evaluate", "--methods", "act,code_as_policy", "--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1,gen:seed=2,balls=2",
            "--max-steps", "6", "--model", "scripted", "--base-url", scripted.url]  # fmt: skip
    run_dir = tmp_path / "run"
    RunDir(run_dir).create(resolve_settings(build_parser().parse_args(argv)))  # config.json only: killed right after it
    out = run_cli("--graph", "evaluate", "--resume", str(run_dir))
    assert out.returncode == 0, out.stderr
    assert sorted(r["episode_id"] for r in read_jsonl(run_dir / "episodes.jsonl")) == sorted(
        f"{m}|pddl/gripper|gen:seed={s},balls={b}#run0" for m in ("act", "code_as_policy") for s, b in ((1, 1), (2, 2))
    )


# ------------------------------------------------------------------ the chaos benchmark, small


def test_chaos_benchmark_small_loses_duplicates_and_changes_nothing(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "chaos.py"), "--kills", "3", "--seed", "5", "--jobs", "learn,pddl", "--small", "--keep", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600,
    )  # fmt: skip
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    assert out.returncode == 0, out.stdout + out.stderr
    assert last.startswith("chaos: ") and last.endswith("lost 0, duplicated 0, mismatched 0"), out.stdout
    kills = int(last.split()[1])
    assert kills >= 1, out.stdout
    assert "NOT FINISHED" not in out.stdout and "a resume failed" not in out.stdout
