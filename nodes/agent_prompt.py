"""The agent's compact prompt: the state per object, a few recent steps, few-shot as chat turns.

The paper's prompt (``agent_prompt="paper"``, templates ``act``/``react``) is one system blob with
the example episode as text, then the goal and a long Observation/Action transcript. The embedded
1.5B model copies that example's first actions and repeats its own last line
(shared/notes/embedded-model-probes.md). The compact shape (templates ``act_compact``/
``react_compact``) instead shows:

- a system message: the domain instruction and the actions, learned ones first;
- worked steps as real chat turns: user = the state view, assistant = one call. When the agent has
  learned actions, the turns use them (a *verified* demonstration: calls replayed on the example
  instance in the sandbox, see :mod:`nodes.demonstrations`), so the model sees them being chosen;
- the current turn: the last few steps with their outcome and the current state view.

The system message and the worked turns do not change during an episode, so a local server reuses
their evaluation from one step to the next.
"""
from __future__ import annotations

from collections.abc import Sequence

from .state import StepRecord

OK_MARK = "done"


def outcome(step: StepRecord) -> str:
    """One line on what a step did, as the agent sees it among its recent steps."""
    if step.get("thought"):
        return step["action"]
    if step.get("ok"):
        return f"{step['action']} -> " + ("valid, but nothing changed" if step.get("no_change") else OK_MARK)
    why = " ".join((step.get("observation") or "").split())
    return f"{step['action']} -> NOT POSSIBLE, nothing changed. {why}"


def turn_text(view: str, recent: Sequence[StepRecord], n_recent: int, banned: Sequence[str] = ()) -> str:
    """The user turn of one step: its number, recent steps, the state (and goal) view, what not to repeat."""
    parts = [f"Step {len(recent) + 1}."]
    shown = list(recent)[-n_recent:] if n_recent > 0 else []
    if shown:
        parts.append("Your last steps:\n" + "\n".join(outcome(s) for s in shown))
    parts.append("Now:\n" + view.strip())
    if banned:
        parts.append("Tried here without effect (do not repeat): " + ", ".join(banned))
    return "\n\n".join(parts)


def refused_since_change(steps: Sequence[StepRecord]) -> list[str]:
    """Calls refused, or valid but without effect, since the state last changed: repeating one of
    them cannot help.

    A step changed the state when one of its primitive steps was valid and it was not marked
    ``no_change`` (a learned call that failed half-way did change it). A thought changes nothing and
    does not reset the list.
    """
    refused: list[str] = []
    for step in steps:
        if step.get("thought"):
            continue
        if step.get("no_change") or not any(p.get("valid") for p in step.get("trace", [])):
            if step["action"] not in refused:
                refused.append(step["action"])
        else:
            refused = []
    return refused


def compact_messages(
    system: str, few_shot: Sequence[tuple[str, str]], current: str
) -> list[tuple[str, str]]:
    """System message, the worked turns (user/assistant pairs), then the current user turn."""
    messages: list[tuple[str, str]] = [("system", system)]
    for user, assistant in few_shot:
        messages += [("user", user), ("assistant", assistant)]
    messages.append(("user", current))
    return messages
