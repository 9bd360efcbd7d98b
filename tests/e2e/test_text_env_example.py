"""Any gymnasium text environment through ``--env MODULE:NAME`` (environments/registry.py): the example game
``examples.courier:COURIER`` keeps the contract, and ``learn`` then ``act`` run on it with the scripted stub
server: the learned ``deliver`` (which reads the state with ``find``) carries each parcel in one agent step."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest_helpers import ROOT
from fakes import answer, by_node, node_of_prompt
from test_e2e_cli import cli, cli_env, read_jsonl

from benchmarks.stub_server import Reply
from environments import EnvNameError, canonical_env_name, list_instances, make_env
from environments.registry import check_contract

ENV = "examples.courier:COURIER"
DELIVER = '''def deliver(parcel, src, dst):
    """Bring a parcel from room src to room dst, walking to src first when you are elsewhere."""
    if find('at', 'you') != src:
        go(src)
    take(parcel)
    go(dst)
    return drop(parcel)'''
TODO = re.compile(r"the (\w+) must go to the (\w+) \(now in the (\w+)\)")


def agent(system: str, user: str) -> str:
    """The first parcel still to deliver, as the state view of the last turn says."""
    todo = TODO.findall(user)
    parcel, dst, src = todo[-1] if todo else ("box", "hall", "hall")
    if "deliver(" in system:
        return f"deliver('{parcel}', '{src}', '{dst}')"
    return f"go('{src}')"


REPLIES = {
    "learn.create": f"```python\n{DELIVER}\n```",
    "learn.fix": f"```python\n{DELIVER}\n```",
    "learn.demonstrate": "Goal: Bring the box to the hall.\nObservation: ...\nAction: deliver('box', 'attic', 'hall')",
    "learn.revise": "Failed reason: none\nImprove: Plan: deliver\nContent: One call per parcel.\nTest case: deliver('box', 'attic', 'hall')",
    "act.decide": agent,
}


def stub_reply(body: dict) -> Reply:
    system = "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")
    user = "\n".join(m["content"] for m in body["messages"] if m["role"] != "system")
    return Reply(text=answer(by_node(REPLIES), system, user, node_of_prompt(system)))


def test_the_example_keeps_the_contract():
    assert list_instances(ENV, "train") == ["g1", "g2", "g3"]
    env = make_env(ENV, "g2")
    assert check_contract(env) == [] and env.name == ENV
    _, _, _, _, info = env.step("take('piano')")
    assert not info["valid"] and "no piano" in info["reason"]


@pytest.mark.parametrize(
    "name,message",
    [
        ("examples.courier:NOPE", "is nothing, not an environments.TextEnvSpec"),
        ("examples.nowhere:X", "cannot import it"),
        ("nowhere/game.py:X", "no such file"),
    ],
)
def test_bad_registrations_are_clear(name, message):
    with pytest.raises(EnvNameError, match=message):
        canonical_env_name(name)


def test_an_installed_package_registers_a_name(monkeypatch):
    from importlib import metadata

    from environments.registry import ENTRY_POINTS

    point = metadata.EntryPoint(name="courier", value=ENV, group=ENTRY_POINTS)
    monkeypatch.setattr(metadata, "entry_points", lambda group=None: [point] if group == ENTRY_POINTS else [])
    assert canonical_env_name("courier") == ENV
    with pytest.raises(EnvNameError, match="unknown environment 'chess'"):
        canonical_env_name("chess")


def test_learn_then_act_on_the_example_game(stub_server, tmp_path):
    stub = stub_server(respond=stub_reply)
    common = (
        "--env",
        ENV,
        "--base-url",
        stub.url,
        "--model",
        "stub-model",
        "--assist",
        "small",
    )  # replies for the compact prompt
    learn = subprocess.run(
        cli(
            "--graph", "learn", *common, "--candidates", "1", "--max-rounds", "1", "--run-dir", str(tmp_path / "learn")
        ),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=600,
    )
    assert learn.returncode == 0, learn.stderr
    rollouts = [r["record"] for r in read_jsonl(tmp_path / "learn" / "rollouts.jsonl")]
    assert {r["instance"] for r in rollouts} == {"g1", "g2", "g3"} and all(r["success"] for r in rollouts)
    summary = json.loads((tmp_path / "learn" / "learn_summary.json").read_text())
    assert (
        summary["stop_reason"] == "nothing_failed"
        and summary["best_scores"]["S"] == summary["best_scores"]["T"] == 2 + 3 + 1
    )
    act = subprocess.run(
        cli("--graph", "act", *common, "--actions", str(tmp_path / "learn"), "--run-dir", str(tmp_path / "act")),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=600,
    )
    assert act.returncode == 0, act.stderr
    records = sorted(
        read_jsonl(tmp_path / "act" / "episodes.jsonl"), key=lambda r: int(r["instance"][1:])
    )  # finished in any order
    assert [r["instance"] for r in records] == ["g11", "g12", "g13", "g14"] and all(r["success"] for r in records)
    assert [r["steps"] for r in records] == [3, 1, 2, 3] and all(r["learned_calls"] == r["steps"] for r in records)
    assert json.loads((tmp_path / "act" / "config.json").read_text())["env"] == ENV
