"""How an episode's history is shown to the agent.

The window is trimmed in chunks, not by one entry per step: a window that slides every step
changes the prompt prefix every step and makes a local server re-read the whole prompt
(a naive Act loop on the embedded model measured 9.4 s/step for that). Dropping half a window at a time keeps the prefix
stable for many consecutive steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .state import StepRecord

_ACTION = re.compile(r"^\s*Action\s*:\s*(.+?)\s*$", re.MULTILINE)


def action_lines(text: str) -> list[str]:
    """The calls on a transcript's ``Action:`` lines (an example episode, a learner's demonstration), in order."""
    return _ACTION.findall(text or "")


def window_start(n_entries: int, window: int, chunk: int | None = None) -> int:
    """Index of the first entry to show so that at most ``window`` entries are shown."""
    if window <= 0:
        return n_entries
    if n_entries <= window:
        return 0
    chunk = max(1, chunk or window // 2)
    return ((n_entries - window) // chunk + 1) * chunk


def history_lines(first_observation: str, steps: Sequence[StepRecord]) -> list[str]:
    """The episode as the reference's memory holds it: the first observation, then per step its Action (or
    Think) line and its Observation line."""
    lines = [f"Observation: {first_observation}"]
    for step in steps:
        lines.append(step["action"] if step.get("thought") else f"Action: {step['action']}")
        lines.append(f"Observation: {step.get('observation', '')}")
    return lines


def render_history(first_observation: str, steps: Sequence[StepRecord], window: int, trim: str = "chunks") -> str:
    """``Observation:``/``Action:`` lines; the first observation counts as one entry.

    ``trim="last"`` (the paper's): the last ``2 * window`` lines, one line more each step, with no note of what is hidden
    (the reference's ``memory[-memory_size:]``, whose window counts lines: 20 lines = 10 entries)."""
    if trim == "last":
        lines = history_lines(first_observation, steps)
        return "\n".join(lines[-2 * window :]) if window > 0 else ""
    entries = [f"Observation: {first_observation}"]
    for step in steps:
        if step.get("thought"):
            entries.append(f"{step['action']}\nObservation: {step.get('observation', '')}")
        else:
            entries.append(f"Action: {step['action']}\nObservation: {step.get('observation', '')}")
    start = window_start(len(entries), window)
    shown = entries[start:]
    if start:
        shown.insert(0, f"(the first {start} entries of the history are hidden)")
    return "\n".join(shown)


def render_trajectory(goal: str, first_observation: str, steps: Sequence[StepRecord]) -> str:
    """The whole episode as text (for reflection and error reports)."""
    return f"Goal: {goal}\n" + render_history(first_observation, steps, window=len(steps) + 1)
