"""run.py end to end through the real ChatOpenAI client against a scripted OpenAI-compatible
stub on 127.0.0.1: acting (with 429/500/garbage on the way), learning, and resuming a learning
run after a real ``kill -9``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest_helpers import ROOT, TINY_PLAN, complete_jsonl, kill_when, plan_agent, tiny_gripper
from fakes import answer, by_node, node_of_prompt
from test_learn_graph import BAD_CALL, PLAN, agent, learner

from benchmarks.stub_server import Reply, error_reply


def by_prompt(respond, delay_s: float = 0.0):
    """Adapt replies per node (``fakes.by_node``) or a function of (system, user[, node]) to the stub's request body.
    A request over HTTP carries no node tag: the node is told from the template its prompt was rendered from."""
    respond = by_node(respond) if isinstance(respond, dict) else respond

    def reply(body: dict) -> Reply:
        system = "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")
        user = "\n".join(m["content"] for m in body["messages"] if m["role"] != "system")
        last = next(
            (m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), ""
        )  # a conversation's last turn
        return Reply(text=answer(respond, system, user, node_of_prompt(system, last)), delay_s=delay_s)

    return reply


def cli(*args: str, env_extra: dict | None = None) -> list[str]:
    return [sys.executable, str(ROOT / "run.py"), *args]


def cli_env() -> dict:
    return {**os.environ, "OPENAI_API_KEY": "sk-test", "LEARNACT_PLAIN_PROGRESS": "1"}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_act_run_through_chatopenai_survives_429_500_and_garbage(stub_server, tmp_path):
    script = [
        error_reply(429, "slow down", **{"retry-after": "0"}),
        error_reply(500, "boom"),
        Reply(raw="not json at all"),
    ]
    stub = stub_server(script, respond=by_prompt(plan_agent(TINY_PLAN)))
    run_dir = tmp_path / "run"
    out = subprocess.run(
        cli(
            "--graph",
            "act",
            "--env",
            "pddl/gripper",
            "--instance",
            tiny_gripper(tmp_path),
            "--base-url",
            stub.url,
            "--model",
            "stub-model",
            "--run-dir",
            str(run_dir),
        ),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    records = read_jsonl(run_dir / "episodes.jsonl")
    assert len(records) == 1 and records[0]["success"] and records[0]["steps"] == 3
    assert len(stub.chat_requests) >= 6  # 3 failures retried + 3 steps
    assert stub.chat_requests[-1].body["model"] == "stub-model"
    usage = json.loads((run_dir / "usage.json").read_text())
    assert usage["totals"]["total_tokens"] > 0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["models"]["agent"]["model"] == "stub-model" and config["prompt_hashes"]["act"]["sha256"]
    assert (run_dir / "report.html").is_file()


def test_act_run_with_auth_error_is_one_line(stub_server, tmp_path):
    stub = stub_server([error_reply(401, "bad key")] * 5)
    out = subprocess.run(
        cli(
            "--graph",
            "act",
            "--env",
            "pddl/gripper",
            "--instance",
            tiny_gripper(tmp_path),
            "--base-url",
            stub.url,
            "--model",
            "stub-model",
            "--run-dir",
            str(tmp_path / "run"),
        ),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr and "error:" in out.stderr
    assert len(stub.chat_requests) == 1  # no retry on an auth error


def test_learning_resumes_after_kill_9_without_redoing_finished_rollouts(stub_server, tmp_path):
    # Slow replies give the kill a window in the middle of the rollouts.
    stub = stub_server(respond=by_prompt({**learner(revise=PLAN), "act.decide": agent(BAD_CALL)}, delay_s=0.15))
    instances = ",".join(tiny_gripper(tmp_path, f"t{i}.pddl") for i in range(3))
    run_dir = tmp_path / "run"
    args = [
        "--graph",
        "learn",
        "--env",
        "pddl/gripper",
        "--instance",
        instances,
        "--base-url",
        stub.url,
        "--model",
        "stub-model",
        "--candidates",
        "3",
        "--max-steps",
        "3",
        "--max-rounds",
        "2",
        "--concurrency",
        "1",
    ]
    proc = subprocess.Popen(
        cli(*args, "--run-dir", str(run_dir)),
        env=cli_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    events = run_dir / "events.jsonl"
    kill_when(
        proc,
        lambda: events.exists() and sum(e["event"] == "rollout_end" for e in complete_jsonl(events)) >= 2,
        poll_s=0.05,
    )
    before = complete_jsonl(events)
    finished_before = {(e["candidate_id"], e["instance"]) for e in before if e["event"] == "rollout_end"}
    assert finished_before, "the kill came before any rollout finished"
    assert not any(e["event"] == "learning_done" for e in before)

    out = subprocess.run(
        cli("--graph", "learn", "--resume", str(run_dir)),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    after = complete_jsonl(events)[len(before) :]
    restarted = {(e["candidate_id"], e["instance"]) for e in after if e["event"] == "rollout_start"}
    assert not restarted & finished_before, "a finished rollout was redone after the resume"
    assert not [e for e in after if e["event"] == "candidate_start" and e["round"] == 0], (
        "creation was redone after the resume"
    )
    assert any(e["event"] == "learning_done" for e in after)
    summary = json.loads((run_dir / "learn_summary.json").read_text())
    # Every (candidate, instance) of round 0 was rolled out exactly once across both processes.
    round0 = {c["id"] for r in summary["rounds"] if r["round"] == 0 for c in r["candidates"]}
    ends = [
        (e["candidate_id"], e["instance"])
        for e in before + after
        if e["event"] == "rollout_end" and e["candidate_id"] in round0
    ]
    assert len(ends) == len(set(ends)) == len(round0) * 3
    assert summary["stop_reason"] in {"nothing_failed", "plateau", "max_rounds"}


def test_ctrl_c_stops_a_run_at_once_and_it_resumes(stub_server, tmp_path):
    """SIGINT in the middle of an episode whose every reply takes 1 s: the run must not wait for the
    episode (20 steps) to end; it exits with 130 and the message, and --resume finishes it."""
    import signal
    import time

    stub = stub_server(respond=by_prompt(lambda s, u: "move('rooma', 'roomb')", delay_s=1.0))
    run_dir = tmp_path / "run"
    args = [
        "--graph",
        "act",
        "--env",
        "pddl/gripper",
        "--instance",
        tiny_gripper(tmp_path),
        "--base-url",
        stub.url,
        "--model",
        "stub-model",
        "--max-steps",
        "20",
        "--run-dir",
        str(run_dir),
    ]
    proc = subprocess.Popen(
        cli(*args), env=cli_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 120
    while len(stub.chat_requests) < 2:  # the episode is under way
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=15)  # the rest of the episode would take ~18 s more
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("Ctrl-C did not stop the run: it waited for the running episode") from None
    assert proc.returncode == 130 and "interrupted: finished work is saved" in err and "Traceback" not in err
    assert len(stub.chat_requests) < 20
    stub.respond = by_prompt(plan_agent(TINY_PLAN))
    out = subprocess.run(
        cli("--graph", "act", "--resume", str(run_dir)),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert len(read_jsonl(run_dir / "episodes.jsonl")) == 1
