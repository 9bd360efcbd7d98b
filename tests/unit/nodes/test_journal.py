"""The rollout journal: a finished rollout survives a kill that lands before its checkpoint."""

from __future__ import annotations

import dataclasses

from learnact.actions import ActionLibrary
from nodes.context import Context
from nodes.learning.journal import RolloutJournal, rollout_key

CAND = {"id": "r0s0", "library": ActionLibrary.from_code("def carry():\n    pass\n"), "demonstration": "demo"}


def test_records_survive_a_new_process_and_a_torn_last_line(tmp_path):
    RolloutJournal(tmp_path).put("a", {"success": True, "steps": [1, 2]})
    with open(tmp_path / "rollouts.jsonl", "a") as out:
        out.write('{"key": "b", "rec')  # a kill in the middle of a write
    reopened = RolloutJournal(tmp_path)
    assert reopened.get("a") == {"success": True, "steps": [1, 2]} and reopened.get("b") is None
    reopened.put("c", {"success": False, "steps": []})
    again = RolloutJournal(tmp_path)  # the torn line did not swallow the next record
    assert again.get("a")["success"] and again.get("c") == {"success": False, "steps": []}


def test_keys_follow_the_code_the_instance_and_the_step_cap():
    base = rollout_key(CAND, "p1", 10)
    assert base == rollout_key(dict(CAND), "p1", 10)
    resampled = {**CAND, "library": ActionLibrary.from_code("def carry():\n    return 1\n")}
    assert len({base, rollout_key(resampled, "p1", 10), rollout_key(CAND, "p2", 10), rollout_key(CAND, "p1", 5)}) == 4


def test_the_run_context_holds_one_journal_per_run_folder(tmp_path):
    assert Context(agent_model="A").journal is None  # no run folder, nothing written
    ctx = Context(agent_model="A", run_dir=str(tmp_path), per_env={"pddl/gripper": {"max_steps": 5}})
    assert ctx.journal.belongs_to(tmp_path / ".." / tmp_path.name)
    assert ctx.for_env("pddl/gripper").journal is ctx.journal  # the same run: the rollout tasks share one journal
    sub = dataclasses.replace(ctx, run_dir=str(tmp_path / "learning" / "sub"))  # an evaluation's learning sub-run
    assert sub.journal is not ctx.journal and sub.journal.belongs_to(tmp_path / "learning" / "sub")


def test_append_line_starts_a_fresh_line_after_a_torn_tail(tmp_path):
    from nodes.jsonl import append_line

    path = tmp_path / "records.jsonl"
    append_line(path, {"n": 1})
    with open(path, "a") as f:
        f.write('{"n": 2, "cut by a ki')  # what a kill -9 mid-write leaves
    append_line(path, {"n": 3})
    lines = path.read_text().splitlines()
    assert lines[0] == '{"n": 1}' and lines[-1] == '{"n": 3}'
    assert len(lines) == 3  # the fragment stays alone on its line; the new record is intact
