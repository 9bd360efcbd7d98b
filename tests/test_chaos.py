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


# ------------------------------------------------------------------ a kill while the library is written


def _files(folder: Path) -> dict[str, object]:
    """The library folder's content, timestamps left out."""
    out: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            rel = path.relative_to(folder).as_posix()
            if path.suffix == ".jsonl":
                out[rel] = [{k: v for k, v in json.loads(line).items() if k != "created"} for line in path.read_text().splitlines()]
            else:
                out[rel] = path.read_text()
    return out


def test_a_kill_while_the_library_is_saved_loses_no_version(tmp_path, monkeypatch):
    """finalize() is re-run on resume when a kill cut it short. It used to return at once when
    history.jsonl was not empty: a kill after the first version kept the library without the later
    versions, the latest snapshot and demonstration.md."""
    from conftest_helpers import learn_on_tiny_gripper
    from test_learn_graph import BAD_CALL, UPDATE, agent, learner

    from actions import ActionStore
    from nodes.learn import save_lineage

    (tmp_path / "learned").mkdir()
    final, _ = learn_on_tiny_gripper(tmp_path / "learned", agent(BAD_CALL), learner(revise=UPDATE), candidates=2, learn_max_steps=4, max_rounds=3)
    assert final["best"]["parent"], "the test needs a lineage of at least two versions"
    save_lineage(tmp_path / "whole", final["best"], final)

    real_save, saved = ActionStore.save, []

    def save_then_die(self, *args, **kwargs):
        if saved:
            raise KeyboardInterrupt("killed")  # the process dies after the first snapshot
        saved.append(real_save(self, *args, **kwargs))
        return saved[-1]

    monkeypatch.setattr(ActionStore, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        save_lineage(tmp_path / "killed", final["best"], final)
    monkeypatch.setattr(ActionStore, "save", real_save)
    save_lineage(tmp_path / "killed", final["best"], final)  # the resumed finalize
    save_lineage(tmp_path / "killed", final["best"], final)  # and once more: nothing is written twice
    assert _files(tmp_path / "killed") == _files(tmp_path / "whole")
    assert ActionStore(tmp_path / "killed").load().to_dict() == ActionStore(tmp_path / "whole").load().to_dict()


def test_a_version_file_left_by_a_kill_before_its_history_line_is_rewritten(tmp_path):
    """A kill between writing carry/v1.py and its history.jsonl line: the next save found the file and
    failed with FileExistsError (open mode "x"), so the resumed run crashed in finalize."""
    from conftest_helpers import CARRY

    from actions import ActionLibrary, ActionStore

    library = ActionLibrary.from_code(CARRY)
    (tmp_path / "lib" / "carry").mkdir(parents=True)
    (tmp_path / "lib" / "carry" / "v1.py").write_text("# half writ")
    ActionStore(tmp_path / "lib").save(library, iteration=0, reason="create")
    store = ActionStore(tmp_path / "lib")
    assert store.versions("carry") == [1] and "def carry" in (tmp_path / "lib" / "carry" / "v1.py").read_text()
    assert store.load().to_dict() == library.to_dict()
