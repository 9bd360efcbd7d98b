"""Pure pieces of the learning loop: history window, scores, selection, failures, revision format."""

from __future__ import annotations

import pytest

from learnact.settings.defaults import default_score
from nodes.history import render_history, window_start
from nodes.learning.revision import RevisionParseError, choose_target, collect_failures, parse_revision, render_failure
from nodes.learning.scoring import score_rollouts, select_best


def test_window_trims_in_chunks_so_the_prompt_prefix_stays_stable():
    starts = [window_start(n, 10) for n in range(1, 30)]
    assert starts[:10] == [0] * 10
    assert max(n - window_start(n, 10) for n in range(1, 30)) == 10  # never more than the window
    assert min(n - window_start(n, 10) for n in range(11, 30)) >= 5  # never less than half of it
    changes = sum(1 for a, b in zip(starts, starts[1:]) if a != b)
    assert changes <= 4  # 29 steps, the prefix moved only every 5 steps


def test_render_history_marks_hidden_entries():
    steps = [{"action": f"a{i}()", "observation": f"o{i}"} for i in range(30)]
    text = render_history("start", steps, window=10)
    assert "hidden" in text and "Action: a29()" in text and "start" not in text


def _rollout(success, steps):
    return {"success": success, "progress": 1.0 if success else 0.5, "steps": steps, "instance": "p", "goal": "g"}


def test_scores_follow_the_paper():
    step = {"action": "pick('a')", "observation": "ok", "valid": True}
    learned_ok = {"is_learned": True, "ok": True, "action": "carry('a')", "name": "carry", "trace": [step]}
    learned_bad = {
        "is_learned": True,
        "ok": False,
        "action": "carry('b')",
        "name": "carry",
        "trace": [],
        "error_kind": "invalid_primitive",
    }
    prim = {"is_learned": False, "ok": True, "action": "move('a')", "trace": []}
    s = score_rollouts([_rollout(True, [learned_ok, prim]), _rollout(False, [learned_bad, learned_ok, prim, prim])])
    assert (s["T"], s["C"], s["S"]) == (6, 3, 2)
    assert s["success_rate"] == 0.5
    assert s["step_correction"] == pytest.approx(2 / 3)
    assert s["call_ratio_success"] == pytest.approx(2 / 6 + 0.5)
    assert s["step_correction_call_ratio_success"] == pytest.approx(2 / 3 + 2 / 6 + 0.5)
    no_effect = {**learned_ok, "trace": []}  # returned without acting: not a success (failure_kind)
    assert score_rollouts([_rollout(False, [no_effect, learned_ok])])["S"] == 1


def test_scores_with_no_learned_calls_are_zero_not_a_crash():
    s = score_rollouts([_rollout(False, [])])
    assert s["step_correction"] == 0 and s["call_ratio_success"] == 0


def test_default_score_per_family():
    assert default_score("alfworld/put") == "call_ratio_success"
    assert default_score("pddl/gripper") == "step_correction_call_ratio_success"


def test_ties_keep_the_earlier_candidate():
    scores = {"x": 1.0, "success_rate": 0.0}
    cands = [{"id": "old", "scores": scores}, {"id": "new", "scores": dict(scores)}]
    assert select_best(cands, "x")["id"] == "old"
    cands[1]["scores"] = {"x": 1.0, "success_rate": 1.0}
    assert select_best(cands, "x")["id"] == "new"
    assert select_best([{"id": "a"}], "x") is None


def test_failures_and_target_choice():
    bad = lambda name: {
        "is_learned": True,
        "ok": False,
        "action": f"{name}()",
        "name": name,
        "trace": [{"action": "p()", "observation": "no", "valid": False}],
    }
    rollouts = [
        _rollout(False, [bad("b"), bad("a")]),
        _rollout(False, [bad("a"), {"is_learned": False, "ok": False, "action": "x()"}]),
    ]
    failures = collect_failures(rollouts)
    assert [f["name"] for f in failures] == ["b", "a", "a"]
    assert failures[1]["before"].count("Action:") == 1  # the trajectory up to the call
    assert choose_target(failures) == "a"
    assert choose_target(failures[:2]) == "b"  # a tie goes to the earliest failure
    assert choose_target([]) is None


def test_a_learned_call_that_took_no_primitive_action_is_a_failure():
    # Seen with the local model: move_to_next_room returned "Unknown action: no free gripper" without
    # stepping the environment; counting it as fine made learning stop with nothing to revise.
    excuse = {"is_learned": True, "ok": True, "action": "go()", "name": "go", "trace": [], "observation": "cannot"}
    acted = {
        "is_learned": True,
        "ok": True,
        "action": "carry()",
        "name": "carry",
        "trace": [{"action": "p()", "observation": "ok", "valid": True}],
    }
    primitive = {"is_learned": False, "ok": True, "action": "p()", "name": "p", "trace": []}
    failures = collect_failures([_rollout(False, [acted, primitive, excuse])])
    assert [(f["name"], f["error_kind"]) for f in failures] == [("go", "no_effect")]
    assert "returned without taking any primitive action" in render_failure(failures[0])


def test_dropped_candidate_errors_keep_the_exception_line():
    from nodes.learning.reply import brief_error

    error = "Calling go('roomb') failed (exception):\nTraceback (most recent call last):\n  File x, line 3\nNameError: name 'r' is not defined"
    assert brief_error(error) == "Calling go('roomb') failed (exception): ... NameError: name 'r' is not defined"
    assert brief_error("one line") == "one line" and brief_error("") == ""
    assert len(brief_error("x" * 1000)) == 240


def test_parse_update_and_plan():
    upd = parse_revision(
        "Failed reason: forgot to move.\nImprove: Update\nContent:\n```python\ndef carry(a):\n    return move(a)\n```\nTest case: carry('x')"
    )
    assert (upd.kind, upd.target, upd.test_case) == ("update", None, "carry('x')")
    assert upd.content.startswith("def carry")
    plan = parse_revision(
        "**Failed reason:** wrong room\n**Improve:** Plan: carry\n**Content:** call it from the ball's room\n"
    )
    assert (plan.kind, plan.target, plan.content) == ("plan", "carry", "call it from the ball's room")


@pytest.mark.parametrize(
    "reply",
    ["I think the code is fine.", "Improve: Plan\nContent: note", "Improve: Update\nContent:\n"],
)
def test_unparseable_revisions_are_errors(reply):
    with pytest.raises(RevisionParseError):
        parse_revision(reply)


def test_functions_only_drops_module_level_statements():
    from nodes.learning.reply import functions_only

    reply = "import os\nrooms = {'a': 1}\n\ndef carry(b):\n    '''Carry.'''\n    return move(b)\n\nprint(carry('x'))\n\ndef _helper():\n    pass\n"
    kept = functions_only(reply)
    assert "import" not in kept and "rooms" not in kept and "print(carry" not in kept
    assert "def carry(b):" in kept and "def _helper():" in kept
    assert functions_only("def broken(:\n") == "def broken(:\n"  # the parse error must reach the repair prompt
