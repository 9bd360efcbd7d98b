"""Error identification and the learner's revision answers (LearnAct's steps 4-5: identify errors, revise)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..history import history_lines, render_history


class RevisionParseError(ValueError):
    """The learner's answer is not in the Failed reason / Improve / Content / Test case format."""


@dataclass(frozen=True)
class Revision:
    reason: str
    kind: str  # "update" or "plan"
    target: str | None  # the function a Plan note is for
    content: str  # code for an update, the usage note for a plan
    test_case: str | None


_FIELD = re.compile(
    r"^\s*[*_#]*\s*(failed reason|improve|content|test case)\s*[*_]*\s*:[*_]*", re.IGNORECASE | re.MULTILINE
)
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def _fields(text: str) -> dict[str, str]:
    marks = list(_FIELD.finditer(text))
    out: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        key = m.group(1).lower()
        out.setdefault(key, text[m.end() : end].strip())
    return out


def parse_revision(text: str, default_target: str | None = None) -> Revision:
    """The learner's answer; a Plan that names no function goes to ``default_target`` when given (the paper's
    rule: the note belongs to the failing function)."""
    fields = _fields(text or "")
    improve = fields.get("improve", "")
    match = re.match(r"(update|plan)\b\s*:?\s*[\[\s'\"`]*([A-Za-z_][A-Za-z0-9_]*)?", improve, re.IGNORECASE)
    if not match:
        raise RevisionParseError("missing 'Improve: Update' or 'Improve: Plan: <function>'")
    kind = match.group(1).lower()
    content = fields.get("content", "").strip()
    if kind == "update":
        fenced = _FENCE.search(content) or _FENCE.search(text)
        content = fenced.group(1).strip() if fenced else content
    if not content:
        raise RevisionParseError("missing 'Content:'")
    target = (match.group(2) or default_target) if kind == "plan" else None
    if kind == "plan" and not target:
        raise RevisionParseError("'Improve: Plan' must name a function: 'Improve: Plan: <function>'")
    test_field = fields.get("test case", "")
    fenced_test = _FENCE.search(test_field)  # the paper's format writes the test case as a code block
    test = (fenced_test.group(1) if fenced_test else test_field).strip().strip("`").strip() or None
    return Revision(fields.get("failed reason", "").strip(), kind, target, content, test)


# --revision: which kinds of revision the learner may answer (an ablation of the paper's Update/Plan).
REVISION_CHOICES = ("both", "update", "plan")
_UPDATE_FORMAT = """Failed reason: <one or two sentences>
Improve: Update
Content:
```python
<the complete new code of every function you change or add>
```
Test case: <one call that should now work, e.g. name('arg1', 'arg2')>"""
_PLAN_FORMAT = """Failed reason: <one or two sentences>
Improve: Plan: <function name>
Content: <a short usage note for that function>
Test case: <one call that shows correct usage>"""


# The paper prompt set's answer formats (the reference's get_tool_improve_prompt_format_description, in this
# project's words): one improvement, its target in brackets, a test case for an Update.
_PAPER_FORMAT = {
    "both": (
        "one improvement, Update or Plan",
        "<Update or Plan: [the function]>",
        "<a call> (for an Update only, not for a Plan)",
    ),
    "update": ("an improvement of the kind Update", "<Update: [the function]>", "<a call>"),
    "plan": ("an improvement of the kind Plan", "<Plan: [the function]>", None),
}


def paper_revision_format(allowed: str) -> str:
    what, improve, test = _PAPER_FORMAT[allowed]
    lines = [
        f"Find out why it failed and give {what}.",
        "Answer in this format:",
        "Failed reason: <>",
        f"Improve: {improve}",
        "Content: <>",
    ]
    return "\n".join(lines + ([f"Test case: {test}"] if test else []))


def revision_format(allowed: str, prompt_set: str = "default") -> str:
    """The answer format of the revise prompt, offering only the ``allowed`` revision kinds."""
    if prompt_set == "paper":
        return paper_revision_format(allowed)
    if allowed == "update":
        return "Fix it by changing the code. Answer in exactly this format:\n" + _UPDATE_FORMAT
    if allowed == "plan":
        return (
            "The code stays as it is: fix how the agent calls it with a usage note. Answer in exactly this format:\n"
            + _PLAN_FORMAT
        )
    return (
        "Answer in exactly this format:\n"
        + _UPDATE_FORMAT
        + "\n\nor, when the code is right but the agent called it wrongly:\n"
        + _PLAN_FORMAT
    )


def check_allowed(revision: Revision, allowed: str) -> None:
    """A revision of a kind the run does not allow is refused (the candidate is dropped, never converted:
    a usage note is no code and code is no note)."""
    if allowed != "both" and revision.kind != allowed:
        raise RevisionParseError(
            f"the answer is a {revision.kind.title()}, but this run allows only {allowed.title()} (--revision {allowed})"
        )


NO_EFFECT = "no_effect"


def failure_kind(step: dict[str, Any]) -> str | None:
    """Why a step counts as a failed learned call, or None.

    A learned call fails when the executor says so (its structured ``error_kind``), and also when it
    returned normally without taking a single primitive action (``no_effect``): the agent called
    it to act, the environment did not move, and whatever text it returned (the local model's
    actions like to return "cannot do that" strings) is the function's own excuse, not an
    observation. This is the analogue of ALFWorld's "Nothing happens." for a learned action, and it
    is read from the trace, never from the text.
    """
    if not step.get("is_learned"):
        return None
    if not step.get("ok"):
        return step.get("error_kind") or "unknown"
    return None if step.get("trace") else NO_EFFECT


def collect_failures(rollouts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every failed learned call (see :func:`failure_kind`), with its goal, the trajectory before it
    and its primitive trace."""
    failures = []
    for rollout in rollouts:
        steps = rollout.get("steps", [])
        for i, step in enumerate(steps):
            kind = failure_kind(step)
            if kind:
                failures.append(
                    {
                        **failure_context(rollout, i),
                        "name": step.get("name"),
                        "call": step.get("action"),
                        "instance": rollout.get("instance"),
                        "goal": rollout.get("goal", ""),
                        "before": render_history(rollout.get("first_observation", ""), steps[:i], window=10),
                        "trace": step.get("trace", []),
                        "observation": step.get("observation", ""),
                        "error_kind": kind,
                    }
                )
    return failures


def failure_context(rollout: dict[str, Any], index: int) -> dict[str, Any]:
    """The observation right before the call at ``index`` and the episode's lines before it (what the paper's
    revision prompt shows: PDDL the first, ALFWorld the second)."""
    steps = rollout.get("steps", [])
    seen = [rollout.get("first_observation", "")] + [s.get("observation", "") for s in steps[:index]]
    # The reference walks back over observations that only say an action was not valid (they end "... valid actions.")
    # to the last one that shows the state.
    before = next((o for o in reversed(seen) if not o.rstrip().endswith("valid actions.")), seen[0])
    return {"last_observation": before, "lines": history_lines(rollout.get("first_observation", ""), steps[:index])}


def first_failure(failures: list[dict[str, Any]], instances: list[str]) -> list[dict[str, Any]]:
    """The first failed learned call of the first training instance (in the run's order) that has one."""
    order = {inst: i for i, inst in enumerate(instances)}
    ranked = sorted(enumerate(failures), key=lambda p: (order.get(p[1].get("instance"), len(order)), p[0]))
    return [ranked[0][1]] if ranked else []


def choose_target(failures: list[dict[str, Any]]) -> str | None:
    """Revise the learned action that failed most often: fixing it helps the most episodes.

    Ties go to the action whose first failure came earliest, a stable and explainable choice.
    """
    if not failures:
        return None
    counts = Counter(f["name"] for f in failures)
    first_seen = {}
    for i, f in enumerate(failures):
        first_seen.setdefault(f["name"], i)
    return max(counts, key=lambda name: (counts[name], -first_seen[name]))


_KIND_NOTES = {
    NO_EFFECT: " (the function returned without taking any primitive action, so nothing happened)",
    "no_progress": " (it ran, but no goal condition became true)",
}


def render_failure(failure: dict[str, Any]) -> str:
    trace = (
        "\n".join(
            f"  {'ok  ' if t.get('valid') else 'FAIL'} {t['action']} -> {t['observation']}" for t in failure["trace"]
        )
        or "  (no primitive action was run)"
    )
    note = f"({failure['note']})\n" if failure.get("note") else ""
    return note + (
        f"Goal: {failure['goal']}\n"
        f"Steps before the call:\n{failure['before']}\n"
        f"Failed call: {failure['call']}\n"
        f"Error kind: {failure['error_kind']}{_KIND_NOTES.get(failure['error_kind'], '')}\n"
        f"Primitive steps inside the call:\n{trace}\n"
        f"Observation returned to the agent: {failure['observation']}"
    )
