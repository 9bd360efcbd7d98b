"""``run.py --graph act --env pddl:PATH --instance NAME`` end to end, through ChatOpenAI and the scripted stub
server replaying a plan: on the 14 domains of our own (tests/fixtures/pddl_domains), the 4 built-in domain
files as folders, and a domain with action costs and equality that only the simulator's search solves."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest_helpers import ROOT, plan_agent
from fixtures.pddl_domains import HAND_DOMAINS, RANDOM_SEEDS, all_folders, random_folder
from test_e2e_cli import by_prompt, cli, cli_env, read_jsonl

from environments import list_instances, make_env
from environments.pddl.env import OWN_DOMAINS
from environments.pddl.generators import generate
from environments.pddl.search import find_plan

pytest.importorskip("pyperplan", reason="pyperplan plans the replayed episodes (pip install -e .[dev])")

BUILT_IN = ("gripper", "blockworld", "barman", "tyreworld")
DOMAINS = list(HAND_DOMAINS) + [f"rand{s}" for s in RANDOM_SEEDS] + list(BUILT_IN) + ["costs"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("byo")
    out = all_folders(root)
    for name in BUILT_IN:
        folder = root / name
        folder.mkdir()
        shutil.copy(OWN_DOMAINS / f"{name}.pddl", folder / "domain.pddl")
        for seed in range(4):
            (folder / f"g{seed}.pddl").write_text(generate(name, f"gen:seed={seed}"))
        out[name] = folder
    out["costs"] = random_folder(root / "extended", 12, extended=True)
    return out


@pytest.mark.parametrize("name", DOMAINS)
def test_act_replays_a_plan_to_success(stub_server, folders, name, tmp_path, monkeypatch):
    from environments.pddl.oracle import plan_file

    monkeypatch.setenv("LEARNACT_CACHE", str(tmp_path / "cache"))
    folder = folders[name]
    instance = list_instances(f"pddl:{folder}", "test")[0]
    if name == "costs":  # pyperplan does not read it
        plan = find_plan(make_env(f"pddl:{folder}", instance).ground)
    else:
        plan = plan_file(folder / "domain.pddl", (folder / f"{instance}.pddl").read_text())
    stub = stub_server(respond=by_prompt(plan_agent(plan)))
    run_dir = tmp_path / "run"
    out = subprocess.run(
        cli(
            "--graph",
            "act",
            "--env",
            f"pddl:{folder}",
            "--instance",
            instance,
            "--base-url",
            stub.url,
            "--model",
            "stub-model",
            "--assist",
            "small",
            "--max-steps",
            str(len(plan) + 2),
            "--run-dir",
            str(run_dir),
        ),
        capture_output=True,
        text=True,
        env={**cli_env(), "LEARNACT_CACHE": str(tmp_path / "cache")},
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    [record] = read_jsonl(run_dir / "episodes.jsonl")
    assert record["success"] and record["steps"] == len(plan) and record["env"] == f"pddl:{folder}"
    assert [s["action"] for s in record["trajectory"]] == plan
    config = json.loads((run_dir / "config.json").read_text())
    assert config["env"] == f"pddl:{folder}" and config["domain_folder"]["split"]["test"][0] == instance
    assert record["action_cost"] == (replayed_cost(folder, instance, plan) if name == "costs" else len(plan))
    system_prompts = "\n".join(
        m["content"] for r in stub.chat_requests for m in r.body["messages"] if m["role"] == "system"
    )
    if name != "gripper":
        assert "Robby" not in system_prompts  # nothing falls back to gripper's text


def replayed_cost(folder, instance: str, plan: list[str]) -> float:
    env = make_env(f"pddl:{folder}", instance)
    env.reset()
    for call in plan:
        _, _, _, _, info = env.step(call)
    assert info["cost"] != len(plan)  # the domain's costs (1 to 5 per action), not the plan's length
    return info["cost"]
