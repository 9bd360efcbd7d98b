"""``run.py --graph learn --env pddl:PATH`` then ``--graph act --actions RUN`` on a domain of our own (keys), with
the scripted stub server: the learner writes an action over the domain's primitives, creation checks it on the
example episode derived from the domain, rollouts use it on the training problems, and acting with the learned
library solves a test problem in one agent step per door."""

from __future__ import annotations

import json
import subprocess

from conftest_helpers import ROOT, actions_taken
from fakes import answer, by_node, node_of_prompt
from fixtures.pddl_domains import hand_folder
from test_e2e_cli import cli, cli_env, read_jsonl

from benchmarks.stub_server import Reply

PASS_DOOR = '''def pass_door(key, here, there):
    """Take the key lying here, unlock the next room with it, walk in and put the key down."""
    pick(key, here)
    unlock(key, here, there)
    move(here, there)
    return drop(key, there)'''
DEMO = "Goal: at-robot(r2)\nObservation: ...\nAction: pass_door('k0', 'r0', 'r1')\nObservation: ...\nAction: pass_door('k1', 'r1', 'r2')"


def agent(system: str, user: str) -> str:
    """Through door n on step n: with the learned action one call, without it the primitives of the first door."""
    n = actions_taken(user)
    if "pass_door(" in system:
        return f"pass_door('k{n}', 'r{n}', 'r{n + 1}')"
    return ["pick('k0', 'r0')", "unlock('k0', 'r0', 'r1')", "move('r0', 'r1')"][min(n, 2)]


REPLIES = {
    "learn.create": f"```python\n{PASS_DOOR}\n```",
    "learn.fix": f"```python\n{PASS_DOOR}\n```",
    "learn.demonstrate": DEMO,
    "learn.revise": "Failed reason: none\nImprove: Plan: pass_door\nContent: Use it once per door.\nTest case: pass_door('k0', 'r0', 'r1')",
    "act.decide": agent,
}


def stub_reply(body: dict) -> Reply:
    system = "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")
    user = "\n".join(m["content"] for m in body["messages"] if m["role"] != "system")
    return Reply(text=answer(by_node(REPLIES), system, user, node_of_prompt(system)))


def test_learn_then_act_on_a_domain_folder(stub_server, tmp_path):
    folder = hand_folder(tmp_path, "keys")
    stub = stub_server(respond=stub_reply)
    env = {**cli_env(), "LEARNACT_CACHE": str(tmp_path / "cache")}
    common = ("--env", f"pddl:{folder}", "--base-url", stub.url, "--model", "stub-model")
    learn = subprocess.run(
        cli(
            "--graph", "learn", *common, "--candidates", "1", "--max-rounds", "1", "--run-dir", str(tmp_path / "learn")
        ),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert learn.returncode == 0, learn.stderr
    config = json.loads((tmp_path / "learn" / "config.json").read_text())
    assert (
        config["train_instances"] == ["p01", "p02", "p03"]
        and config["domain_folder"]["split"]["source"] == "3 smallest"
    )
    rollouts = [r["record"] for r in read_jsonl(tmp_path / "learn" / "rollouts.jsonl")]
    assert {r["instance"] for r in rollouts} == {"p01", "p02", "p03"} and all(r["success"] for r in rollouts)
    summary = json.loads((tmp_path / "learn" / "learn_summary.json").read_text())
    assert (
        summary["stop_reason"] == "nothing_failed"
        and summary["best_scores"]["T"] == summary["best_scores"]["S"] == 2 + 3 + 4
    )
    assert (tmp_path / "learn" / "library" / "pass_door" / "v1.py").is_file()
    prompts = "\n".join(m["content"] for r in stub.chat_requests for m in r.body["messages"])
    assert "planning domain 'keys'" in prompts and "unlock(k, from, to)" in prompts and "Robby" not in prompts
    act = subprocess.run(
        cli("--graph", "act", *common, "--actions", str(tmp_path / "learn"), "--run-dir", str(tmp_path / "act")),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert act.returncode == 0, act.stderr
    [record] = read_jsonl(tmp_path / "act" / "episodes.jsonl")
    assert record["instance"] == "p04" and record["success"] and record["learned_calls"] == record["steps"] == 5
    assert record["primitive_steps"] == 20 and record["action_cost"] == 20


def test_evaluate_act_against_learnact_on_a_domain_folder(stub_server, tmp_path):
    """The evaluation learns on the folder's training split and tests both methods on its test split: Act (the
    scripted agent without the learned action never gets past the first door) against LearnAct."""
    folder = hand_folder(tmp_path, "keys")
    stub = stub_server(respond=stub_reply)
    out = subprocess.run(
        cli(
            "--graph",
            "evaluate",
            "--env",
            f"pddl:{folder}",
            "--methods",
            "act,learnact",
            "--candidates",
            "1",
            "--max-rounds",
            "1",
            "--base-url",
            stub.url,
            "--model",
            "stub-model",
            "--run-dir",
            str(tmp_path / "eval"),
        ),
        capture_output=True,
        text=True,
        env={**cli_env(), "LEARNACT_CACHE": str(tmp_path / "cache")},
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    records = {r["method"]: r for r in read_jsonl(tmp_path / "eval" / "episodes.jsonl")}
    assert (
        records["learnact"]["success"]
        and records["learnact"]["steps"] == 5
        and records["learnact"]["instance"] == "p04"
    )
    assert not records["act"]["success"] and records["act"]["progress"] == 0.0
    assert (
        f"| learnact | pddl:{folder} | 1 | 1.000 ± 0.000 | 1.000 | 5.0 |"
        in (tmp_path / "eval" / "summary.md").read_text()
    )
