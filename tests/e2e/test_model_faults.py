"""Model faults: every kind the scripted server injects (429 with Retry-After, 500, connection resets,
timeouts, slow, empty and garbage replies) is retried and counted per kind, in usage.json and the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest_helpers import ROOT

from benchmarks.stub_server import FAULT_KINDS, Faults, StubOpenAI
from learnact.llm import errors
from learnact.llm.config import ModelSpec
from learnact.llm.local import LocalServer
from learnact.llm.models import invoke_text, make_chat_model
from learnact.llm.retries import RetryCounter
from learnact.llm.usage import UsageTracker

sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package

from benchmarks.scripted_model import ScriptedModel  # noqa: E402

# What the run counts for each kind the server injects (a slow reply is late, not failed: not counted).
COUNTED_AS = {
    "rate_limit": "rate_limit",
    "server_error": "server_error",
    "reset": "connection",
    "timeout": "timeout",
    "empty": "empty",
    "garbage": "garbage",
}
RAISED = {
    "rate_limit": errors.RateLimitError,
    "server_error": errors.ServerError,
    "reset": errors.ServerError,
    "timeout": errors.ServerError,
    "empty": errors.GarbledReplyError,
    "garbage": errors.GarbledReplyError,
}


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


@pytest.mark.parametrize("kind", [k for k in FAULT_KINDS if k != "slow"])
def test_each_fault_kind_is_retried_and_counted(kind):
    """Every request faulty: the call fails after 1 + max_retries attempts, each counted under its kind."""
    with StubOpenAI(default="hello", faults=Faults(rate=1.0, kinds=(kind,), retry_after_s=0, timeout_s=1.5)) as stub:
        usage = UsageTracker()
        model = make_chat_model(
            ModelSpec(model="stub", base_url=stub.url, max_retries=2, timeout_s=0.5), retries=usage.retries
        )
        with pytest.raises(RAISED[kind]):
            invoke_text(model, "hi", usage=usage)
        assert stub.chat_count == 3 and stub.injected == {kind: 3}
        assert usage.summary()["retries"] == {COUNTED_AS[kind]: 3}


def test_a_slow_reply_is_waited_for_and_not_retried():
    with StubOpenAI(default="hello", faults=Faults(rate=1.0, kinds=("slow",), slow_s=0.3)) as stub:
        counter = RetryCounter()
        model = make_chat_model(ModelSpec(model="stub", base_url=stub.url, timeout_s=5), retries=counter)
        assert invoke_text(model, "hi") == "hello"
        assert stub.chat_count == 1 and counter.counts() == {}


def test_faulty_requests_do_not_consume_the_script():
    """A faulty request gets no scripted reply: the retry gets the one the request was due."""
    with StubOpenAI(["first", "second"], faults=Faults(rate=0.5, seed=3, kinds=("server_error",))) as stub:
        usage = UsageTracker()
        model = make_chat_model(ModelSpec(model="stub", base_url=stub.url, max_retries=8), retries=usage.retries)
        assert [invoke_text(model, "hi", usage=usage) for _ in range(2)] == ["first", "second"]
        assert stub.injected["server_error"] == usage.retries.counts().get("server_error", 0) > 0


def test_faults_reject_an_unknown_kind_or_rate():
    with pytest.raises(ValueError):
        Faults(rate=0.2, kinds=("meteor",))
    with pytest.raises(ValueError):
        Faults(rate=1.5)


def run_cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEARNACT_PLAIN_PROGRESS": "1", "OPENAI_API_KEY": "sk-test"}
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


def test_an_evaluation_completes_through_30_percent_faults_and_counts_them_per_kind(tmp_path):
    """Through every kind of fault at a 30% rate, the run finishes with the same records as a run
    without faults (the scripted replies depend on the prompt only), and usage.json, the closing
    lines and the report count the retries per kind, exactly as the server injected them."""
    args = [
        "--graph",
        "evaluate",
        "--methods",
        "act,code_as_policy",
        "--env",
        "pddl/gripper",
        "--instance",
        "gen:seed=1,balls=1,gen:seed=2,balls=2",
        "--max-steps",
        "6",
        "--model",
        "scripted",
        "--timeout",
        "1",
        "--concurrency",
        "4",
    ]
    records = {}
    for name, faults in (
        ("clean", Faults()),
        ("faulty", Faults(rate=0.3, seed=7, timeout_s=1.6, slow_s=0.3, retry_after_s=0)),
    ):
        with StubOpenAI(respond=ScriptedModel(noise=0.2), faults=faults, record=False) as stub:
            run_dir = tmp_path / name
            out = run_cli(*args, "--base-url", stub.url, "--run-dir", str(run_dir))
            assert out.returncode == 0, out.stderr
            records[name] = {
                r["episode_id"]: (r["success"], r["steps"], [s["action"] for s in r["trajectory"]])
                for r in map(json.loads, (run_dir / "episodes.jsonl").read_text().splitlines())
            }
            if name == "faulty":
                injected = dict(stub.injected)
    assert len(records["clean"]) == 4 and records["faulty"] == records["clean"]
    expected = {}
    for kind, n in injected.items():
        if kind in COUNTED_AS:
            expected[COUNTED_AS[kind]] = expected.get(COUNTED_AS[kind], 0) + n
    assert sum(expected.values()) >= 3, f"too few faults to mean anything: {injected}"
    retries = json.loads((tmp_path / "faulty" / "usage.json").read_text())["retries"]
    assert retries == expected
    assert f"model requests retried: {sum(expected.values())}" in out.stderr
    report = (tmp_path / "faulty" / "report.html").read_text()
    assert "Model requests retried" in report and all(f"<td>{k}</td>" in report for k in expected)
    config = json.loads((tmp_path / "faulty" / "config.json").read_text())
    assert config["models"]["agent"]["timeout_s"] == 1.0 and config["models"]["agent"]["max_retries"] == 4


@pytest.mark.parametrize(
    "flag, value, message",
    [("--timeout", "0", "--timeout must be positive"), ("--max-retries", "-1", "--max-retries must be 0 or more")],
)
def test_bad_timeout_and_retries_flags_are_one_line(flag, value, message, tmp_path):
    out = run_cli(
        "--graph",
        "act",
        "--env",
        "pddl/gripper",
        "--instance",
        "gen:seed=1,balls=1",
        "--model",
        "scripted",
        "--base-url",
        "http://127.0.0.1:9/v1",
        flag,
        value,
        "--run-dir",
        str(tmp_path / "run"),
        timeout=120,
    )
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ the model server dies mid-run

REPLY = "move('rooma', 'roomb')"


class StubLocalServer(LocalServer):
    """``LocalServer`` with the scripted stub in place of llama.cpp: a model server process of its own
    (own process group, dies with its parent) that a test can kill without loading a model."""

    def resolve_model_path(self) -> Path:
        return Path(__file__)

    def command(self, model_file: Path, port: int) -> list[str]:
        return [sys.executable, str(ROOT / "benchmarks" / "stub_server.py"), "--port", str(port), "--reply", REPLY]


def test_a_killed_local_model_server_is_restarted_and_the_call_goes_through(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", sys.modules.get("llama_cpp") or types.ModuleType("llama_cpp"))
    server = StubLocalServer(startup_timeout_s=60).start()
    try:
        usage = UsageTracker()
        model = make_chat_model(
            ModelSpec(model="local", max_retries=1, timeout_s=10), server=server, retries=usage.retries
        )
        assert invoke_text(model, "hi", usage=usage) == REPLY
        first = server.pid
        os.killpg(first, signal.SIGKILL)
        server.proc.wait(10)
        assert invoke_text(model, "hi", usage=usage) == REPLY
        assert server.running and server.pid != first and server.base_url == model.openai_api_base
        assert usage.retries.counts().get("connection", 0) >= 1
        server.stop()  # stopped on purpose: not revived
        with pytest.raises(errors.ServerError, match="cannot connect"):
            invoke_text(model, "hi", usage=usage)
    finally:
        server.stop()


def test_a_run_whose_model_server_keeps_failing_stops_with_the_resume_command(tmp_path):
    with StubOpenAI(default=REPLY, faults=Faults(rate=1.0, kinds=("server_error",))) as stub:
        run_dir = tmp_path / "run"
        out = run_cli(
            "--graph",
            "act",
            "--env",
            "pddl/gripper",
            "--instance",
            "gen:seed=1,balls=1",
            "--model",
            "scripted",
            "--base-url",
            stub.url,
            "--max-retries",
            "1",
            "--run-dir",
            str(run_dir),
            timeout=120,
        )
    lines = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert out.returncode == 2 and "Traceback" not in out.stderr and len(lines) == 1, out.stderr
    assert "server error (HTTP 500) after 1 retries" in lines[0]
    assert lines[0].endswith(f"continue with python run.py --graph act --resume {run_dir}")
    assert json.loads((run_dir / "usage.json").read_text())["retries"] == {"server_error": 2}
