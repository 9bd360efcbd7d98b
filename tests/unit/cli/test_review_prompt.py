"""The terminal side of a review (learnact/cli/review_prompt.py): the questions per function and the answers they
make, the editor, and the refusal without a terminal."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from learnact.cli.errors import UserError
from learnact.cli.review_prompt import NO_TERMINAL, TerminalReview, open_editor, require_terminal

CODE = "def carry(obj, src, dst, gripper):\n    pick(obj, src, gripper)\n"
REQUEST = {
    "kind": "review",
    "round": 1,
    "problems": ["r1s0:carry: the edited code does not pass the checks: NameError"],
    "functions": [
        {
            "candidate_id": "r1s0",
            "name": "carry",
            "status": "changed",
            "version": 2,
            "code": CODE,
            "description": "Carry a ball.",
            "diff": "--- carry v1\n+++ carry v2\n-    move(src, dst)\n+    pick(obj, src, gripper)\n",
            "judged_by": ["the failed call:\nAction: carry(x)"],
        },
        {
            "candidate_id": "r1s1",
            "name": "carry",
            "status": "changed",
            "version": 2,
            "code": CODE,
            "description": "",
            "diff": "",
            "judged_by": [],
        },
        {
            "candidate_id": "r1s1",
            "name": "_helper",
            "status": "new",
            "version": 1,
            "code": "def _helper():\n    pass\n",
            "description": "",
            "diff": "+def _helper():\n",
            "judged_by": [],
        },
    ],
}


def review(lines, edited="def carry(obj, dst, src, gripper):\n    pass\n", colour=False):
    out = io.StringIO()
    typed, asked = iter(lines), []

    def ask(prompt):
        asked.append(prompt)
        return next(typed)

    answers = TerminalReview(Console(file=out, force_terminal=colour, width=100), ask=ask, edit=lambda code: edited)(
        REQUEST
    )
    return answers, out.getvalue(), asked


def test_each_function_is_shown_with_its_diff_and_answered():
    answers, shown, asked = review(["?", "a", "r", "too slow", "e", "added a helper"])
    assert answers == [
        {"candidate_id": "r1s0", "name": "carry", "decision": "approve"},
        {"candidate_id": "r1s1", "name": "carry", "decision": "reject", "reason": "too slow"},
        {
            "candidate_id": "r1s1",
            "name": "_helper",
            "decision": "edit",
            "code": "def carry(obj, dst, src, gripper):\n    pass\n",
            "reason": "added a helper",
        },
    ]
    assert "review of round 1: 3 new or changed function(s)" in shown and "not taken: r1s0:carry" in shown
    assert (
        "r1s0 · carry (changed, v2)" in shown
        and "+    pick(obj, src, gripper)" in shown
        and "Action: carry(x)" in shown
    )
    assert "answer a, r or e" in shown  # "?" was asked again
    assert asked[0] == "carry? [a]pprove  [r]eject  [e]dit: " and asked[3] == "reason (the learner is told): "


def test_an_unchanged_edit_is_asked_again():
    answers, shown, _ = review(["a", "a", "e", "a"], edited="def _helper():\n    pass\n")
    assert answers[2]["decision"] == "approve" and "the code is unchanged; answer again" in shown


def test_the_diff_is_coloured_on_a_colour_terminal():
    _, shown, _ = review(["a", "a", "a"], colour=True)
    assert "\x1b[" in shown


def test_the_editor_edits_the_code(tmp_path, monkeypatch):
    script = tmp_path / "ed.py"
    script.write_text("import sys\np = sys.argv[1]\nopen(p, 'a').write('# seen by the editor\\n')\n")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    assert open_editor(CODE) == CODE + "# seen by the editor\n"
    monkeypatch.setenv("EDITOR", f"{sys.executable} -c 'raise SystemExit(3)'")
    assert open_editor(CODE) == CODE  # a failed editor leaves the code as it was
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
    with pytest.raises(UserError, match="could not start"):
        open_editor(CODE)


def test_without_a_terminal_review_is_refused():
    with pytest.raises(UserError) as refused:
        require_terminal({"review": True}, stdin=io.StringIO())
    assert str(refused.value) == NO_TERMINAL and "\n" not in NO_TERMINAL
    require_terminal({"review": False}, stdin=io.StringIO())  # no review: nothing to refuse
