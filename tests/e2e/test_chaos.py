"""Kill it anywhere: runs killed in their start-up resume, and a small ``benchmarks/chaos.py`` (SIGKILLs at
seeded moments, resumes, comparison with an uninterrupted run) loses, duplicates and changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_helpers import ROOT

sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package

from benchmarks.scripted_model import ScriptedModel, gripper_plan, parse_facts, parse_view  # noqa: E402
from benchmarks.stub_server import StubOpenAI  # noqa: E402
from environments.data import find_data_dir  # noqa: E402

# An evaluation of pddl/gripper trains on LearnAct's split (its 3 training problems) even when --instance names the
# test problems: without the benchmark data it cannot start.
needs_pddl_data = pytest.mark.skipif(
    find_data_dir(required="pddl") is None, reason="benchmark data (../shared/data/pddl or $LEARNACT_DATA) is absent"
)

ENV = {"LEARNACT_PLAIN_PROGRESS": "1", "OPENAI_API_KEY": "sk-test"}


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **ENV},
        timeout=timeout,
    )


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
    body = {
        "messages": [
            {"role": "system", "content": "You are an agent"},
            {
                "role": "user",
                "content": "Step 2.\n\nNow:\nRobby is in rooma.\nTo do: ball1 is in rooma; it must go to roomb.",
            },
        ]
    }
    replies = {model(body).text for _ in range(5)} | {ScriptedModel(noise=0.5)(json.loads(json.dumps(body))).text}
    assert len(replies) == 1


# ------------------------------------------------------------------ killed in the start-up


def _learn_settings(url: str) -> dict:
    from learnact.cli.flags import build_parser
    from learnact.cli.resolve import resolve_settings

    argv = [
        "--graph",
        "learn",
        "--env",
        "pddl/gripper",
        "--instance",
        "gen:seed=1,balls=1",
        "--candidates",
        "1",
        "--max-steps",
        "4",
        "--max-rounds",
        "1",
        "--model",
        "scripted",
        "--base-url",
        url,
    ]
    return resolve_settings(build_parser().parse_args(argv))


@pytest.mark.parametrize("database", ["none", "tables_without_rows"])
def test_learn_run_killed_in_its_start_up_resumes_from_the_beginning(scripted, tmp_path, database):
    """Found by benchmarks/chaos.py: a kill after config.json and before the first checkpoint left a
    folder that --resume refused ("no checkpoint to resume from; start it again without --resume") and a
    fresh start refused too ("already holds a run; continue it with --resume"): a dead end."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from learnact.cli.runs import RunDir

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


@needs_pddl_data
def test_evaluation_killed_in_its_start_up_resumes_from_the_beginning(scripted, tmp_path):
    from learnact.cli.flags import build_parser
    from learnact.cli.resolve import resolve_settings
    from learnact.cli.runs import RunDir

    argv = [
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
        "--base-url",
        scripted.url,
    ]
    run_dir = tmp_path / "run"
    RunDir(run_dir).create(resolve_settings(build_parser().parse_args(argv)))  # config.json only: killed right after it
    out = run_cli("--graph", "evaluate", "--resume", str(run_dir))
    assert out.returncode == 0, out.stderr
    assert sorted(r["episode_id"] for r in read_jsonl(run_dir / "episodes.jsonl")) == sorted(
        f"{m}|pddl/gripper|gen:seed={s},balls={b}#run0" for m in ("act", "code_as_policy") for s, b in ((1, 1), (2, 2))
    )


# ------------------------------------------------------------------ the chaos benchmark, small


@needs_pddl_data
def test_chaos_benchmark_small_loses_duplicates_and_changes_nothing(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "chaos.py"),
            "--kills",
            "3",
            "--seed",
            "5",
            "--jobs",
            "learn,pddl",
            "--small",
            "--keep",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
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
                out[rel] = [
                    {k: v for k, v in json.loads(line).items() if k != "created"}
                    for line in path.read_text().splitlines()
                ]
            else:
                out[rel] = path.read_text()
    return out


def test_a_kill_while_the_library_is_saved_loses_no_version(tmp_path, monkeypatch):
    """finalize() is re-run on resume when a kill cut it short. It used to return at once when
    history.jsonl was not empty: a kill after the first version kept the library without the later
    versions, the latest snapshot and demonstration.md."""
    from conftest_helpers import learn_on_tiny_gripper
    from test_learn_graph import BAD_CALL, UPDATE, agent, learner

    from learnact.actions import ActionStore
    from nodes.learning.files import save_lineage

    (tmp_path / "learned").mkdir()
    final, _ = learn_on_tiny_gripper(
        tmp_path / "learned", agent(BAD_CALL), learner(revise=UPDATE), candidates=2, learn_max_steps=4, max_rounds=3
    )
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

    from learnact.actions import ActionLibrary, ActionStore

    library = ActionLibrary.from_code(CARRY)
    (tmp_path / "lib" / "carry").mkdir(parents=True)
    (tmp_path / "lib" / "carry" / "v1.py").write_text("# half writ")
    ActionStore(tmp_path / "lib").save(library, iteration=0, reason="create")
    store = ActionStore(tmp_path / "lib")
    assert store.versions("carry") == [1] and "def carry" in (tmp_path / "lib" / "carry" / "v1.py").read_text()
    assert store.load().to_dict() == library.to_dict()


# ------------------------------------------------------------------ a kill between a step's last write and its checkpoint


def cut_after(db: Path, thread_id: str, wanted, keep_writes: bool = True) -> str:
    """Make ``db`` what a kill leaves after the tasks of a step finished (their writes saved) and before
    the step's own checkpoint: every checkpoint after the first one whose next tasks satisfy ``wanted``
    is deleted (with their writes); ``keep_writes=False`` drops that step's writes too (killed mid-step)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(db, check_same_thread=False)
    try:
        history = list(SqliteSaver(conn).list({"configurable": {"thread_id": thread_id}}))
        cut = next(c for c in reversed(history) if wanted([t[1] for t in c.pending_writes or []], c))
        cid = cut.config["configurable"]["checkpoint_id"]
        conn.execute("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id > ?", (thread_id, cid))
        conn.execute(
            f"DELETE FROM writes WHERE thread_id = ? AND checkpoint_id {'>' if keep_writes else '>='} ?",
            (thread_id, cid),
        )
        conn.commit()
    finally:
        conn.close()
    return cid


def test_learn_run_killed_after_a_step_s_last_task_resumes_instead_of_stopping(scripted, tmp_path):
    """Found by benchmarks/chaos.py (seed 0, 20 kills). LangGraph's state.next leaves out the tasks of the
    current step that already finished: killed after all rollouts of a round wrote their results and
    before the step's checkpoint, a run had next == () and was taken for finished ("this run already
    finished; nothing to do"): no scores, no library. It now resumes (state.tasks is not empty)."""
    run_dir = tmp_path / "run"
    args = [
        "--graph",
        "learn",
        "--env",
        "pddl/gripper",
        "--instance",
        "gen:seed=1,balls=1,gen:seed=2,balls=2",
        "--candidates",
        "2",
        "--max-steps",
        "6",
        "--max-rounds",
        "2",
        "--model",
        "scripted",
        "--base-url",
        scripted.url,
        "--run-dir",
        str(run_dir),
    ]
    assert run_cli(*args).returncode == 0
    whole = json.loads((run_dir / "learn_summary.json").read_text())
    library = _files(run_dir / "library")
    cut_after(run_dir / "checkpoints.sqlite", "learn", lambda writes, c: "rollouts" in writes)
    (run_dir / "learn_summary.json").unlink()
    shutil.rmtree(run_dir / "library")
    events = len(read_jsonl(run_dir / "events.jsonl"))
    out = run_cli("--graph", "learn", "--resume", str(run_dir))
    assert out.returncode == 0, out.stderr
    assert "already finished" not in out.stderr
    assert json.loads((run_dir / "learn_summary.json").read_text()) == whole and _files(run_dir / "library") == library
    redone = read_jsonl(run_dir / "events.jsonl")[events:]
    assert not [e for e in redone if e["event"] == "rollout_start" and e["candidate_id"].startswith("r0")], (
        "a finished rollout ran again"
    )


@needs_pddl_data
def test_evaluation_whose_learning_sub_run_was_killed_after_a_step_s_last_task_learns_to_the_end(scripted, tmp_path):
    """The same in an evaluation's learning sub-run (nodes.evaluate._run_learning): it returned the
    half-learned state as final, so learnact acted without a library (learning_run.json: library false)."""
    run_dir = tmp_path / "run"
    args = [
        "--graph",
        "evaluate",
        "--methods",
        "learnact",
        "--env",
        "pddl/gripper",
        "--instance",
        "gen:seed=1,balls=1",
        "--candidates",
        "2",
        "--max-rounds",
        "1",
        "--max-steps",
        "6",
        "--model",
        "scripted",
        "--base-url",
        scripted.url,
        "--run-dir",
        str(run_dir),
    ]
    assert run_cli(*args).returncode == 0
    sub = run_dir / "learning" / "learnact-pddl-gripper"
    whole = (
        json.loads((sub / "learning_run.json").read_text()),
        _files(sub / "library"),
        read_jsonl(run_dir / "episodes.jsonl"),
    )
    assert whole[0]["library"] is True
    cut_after(
        run_dir / "checkpoints.sqlite",
        "evaluate",
        lambda writes, c: c.checkpoint["channel_values"].get("learned") is None,
        keep_writes=False,
    )
    cut_after(sub / "checkpoints.sqlite", "learnact|pddl/gripper", lambda writes, c: "rollouts" in writes)
    for gone in (run_dir / "episodes.jsonl", sub / "learning_run.json", sub / "learning_cost.json"):
        gone.unlink()
    shutil.rmtree(sub / "library")
    out = run_cli("--graph", "evaluate", "--resume", str(run_dir))
    assert out.returncode == 0, out.stderr
    assert json.loads((sub / "learning_run.json").read_text()) == whole[0] and _files(sub / "library") == whole[1]
    strip = lambda rs: [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rs]  # noqa: E731
    assert strip(read_jsonl(run_dir / "episodes.jsonl")) == strip(whole[2])


def test_act_episode_killed_after_a_step_s_last_task_is_played_to_its_end(scripted, tmp_path):
    """In run.py --graph act an episode whose latest step had finished its task but not its checkpoint
    was recorded as over, from that half-played state (fewer steps, no success)."""
    run_dir = tmp_path / "run"
    args = [
        "--graph",
        "act",
        "--env",
        "pddl/gripper",
        "--instance",
        "gen:seed=2,balls=2",
        "--max-steps",
        "12",
        "--model",
        "scripted",
        "--base-url",
        scripted.url,
        "--run-dir",
        str(run_dir),
    ]
    assert run_cli(*args).returncode == 0
    (whole,) = read_jsonl(run_dir / "episodes.jsonl")
    assert whole["steps"] >= 3
    cut_after(
        run_dir / "checkpoints.sqlite", f"{whole['instance']}#run0", lambda writes, c: c.metadata.get("step") == 4
    )
    (run_dir / "episodes.jsonl").unlink()
    out = run_cli("--graph", "act", "--resume", str(run_dir))
    assert out.returncode == 0, out.stderr
    (again,) = read_jsonl(run_dir / "episodes.jsonl")
    assert (again["success"], again["steps"], again["trajectory"]) == (
        whole["success"],
        whole["steps"],
        whole["trajectory"],
    )
