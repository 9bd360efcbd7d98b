"""Behaviour unchanged: a learning run replayed from recorded replies yields the recorded library versions
and scores.

``tests/fixtures/replay/replies.json`` holds every request a scripted learning run (through run.py and the
real ChatOpenAI client: a broken creation repaired, failed learned calls, an Update revision checked in the
sandbox, a second round) sent, keyed by a hash of its whole body (messages, model, temperature, seed, ...),
with the reply it got, and ``outcome.json`` what the run learned. The replay answers only from that record:
any request it does not hold (a prompt, a seed or a call that changed) fails the test, and so does any
change in the library's versions or in the rounds' scores.

To record anew after a deliberate change of prompts or learning: ``LEARNACT_RECORD_REPLAY=1 pytest tests/e2e/test_replay.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from conftest_helpers import CARRY
from test_e2e_cli import ROOT, by_prompt, cli, cli_env, read_jsonl
from test_learn_graph import BAD_CALL, UPDATE, agent, learner

from benchmarks.stub_server import Reply, error_reply

FIXTURES = ROOT / "tests" / "fixtures" / "replay"
INSTANCE = "tests/fixtures/replay/tiny.pddl"  # relative to the project: the same text in every request
BROKEN = CARRY.replace("    move(src, dst)", "    move(src, dst, nowhere)")  # NameError: creation repairs it
ARGS = (
    "--graph",
    "learn",
    "--env",
    "pddl/gripper",
    "--instance",
    INSTANCE,
    "--agent-model",
    "stub-agent",
    "--learner-model",
    "stub-learner",
    "--candidates",
    "2",
    "--max-steps",
    "4",
    "--max-rounds",
    "2",
    "--concurrency",
    "1",
    "--assist",
    "small",  # the recorded requests are those of the small-model aids (today's defaults before --assist)
)


def request_key(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def scripted(body: dict) -> str:
    """The run's models: the learner writes BROKEN, repairs it to CARRY and answers an Update; the agent
    calls carry with the rooms swapped until the update's docstring shows."""
    role = learner(create=BROKEN, fix=CARRY, revise=UPDATE) if body.get("model") == "stub-learner" else agent(BAD_CALL)
    return by_prompt(role)(body).text


def outcome(run_dir: Path) -> dict:
    """What the run learned: every stored version (code and scores, not the time) and every round's scores."""
    history = [
        {k: v for k, v in r.items() if k != "created"} for r in read_jsonl(run_dir / "library" / "history.jsonl")
    ]
    summary = json.loads((run_dir / "learn_summary.json").read_text())
    return {"history": history, "learn_summary": summary}


def test_a_replayed_learning_run_learns_the_recorded_versions_and_scores(stub_server, tmp_path):
    record = os.environ.get("LEARNACT_RECORD_REPLAY") == "1"
    replies = {} if record else json.loads((FIXTURES / "replies.json").read_text())
    missed: list[dict] = []

    def respond(body: dict) -> Reply | str:
        key = request_key(body)
        if record:
            replies[key] = scripted(body)
        if key not in replies:
            missed.append(body)
            return error_reply(400, "this request is not in the recording")
        return replies[key]

    stub = stub_server(respond=respond)
    run_dir = tmp_path / "run"
    out = subprocess.run(
        cli(*ARGS, "--base-url", stub.url, "--run-dir", str(run_dir)),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=600,
    )
    assert not missed, f"{len(missed)} request(s) not in the recording; the first: {json.dumps(missed[0])[:2000]}"
    assert out.returncode == 0, out.stderr[-3000:]
    got = outcome(run_dir)
    if record:
        (FIXTURES / "replies.json").write_text(json.dumps(replies, indent=1, sort_keys=True) + "\n")
        (FIXTURES / "outcome.json").write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert got == json.loads((FIXTURES / "outcome.json").read_text())
    assert [r["round"] for r in got["learn_summary"]["rounds"]] == [0, 1]  # the recording holds a revision round
    assert {(r["name"], r["version"]) for r in got["history"]} >= {("carry", 1), ("carry", 2)}
