"""Scores of a candidate action set over its training rollouts (LearnAct's step 3: score and select).

T = agent steps, C = steps that called one learned action, S = those calls that succeeded
(the structured ``ok`` flag of the executor, never a substring of an observation, and at least one
primitive action taken: see :func:`nodes.learning.revision.failure_kind`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .revision import failure_kind


def count_calls(rollouts: Iterable[dict[str, Any]]) -> dict[str, float]:
    rollouts = list(rollouts)
    steps = [s for r in rollouts for s in r.get("steps", []) if not s.get("thought")]
    learned = [s for s in steps if s.get("is_learned")]
    succeeded = [s for s in learned if failure_kind(s) is None]
    n = len(rollouts)
    return {
        "T": len(steps),
        "C": len(learned),
        "S": len(succeeded),
        "episodes": n,
        "success_rate": (sum(1 for r in rollouts if r.get("success")) / n) if n else 0.0,
        "progress": (sum(float(r.get("progress", 0.0)) for r in rollouts) / n) if n else 0.0,
    }


def score_rollouts(rollouts: Iterable[dict[str, Any]]) -> dict[str, float]:
    """All three score types plus their ingredients."""
    c = count_calls(rollouts)
    step_correction = c["S"] / c["C"] if c["C"] else 0.0
    call_ratio = c["S"] / c["T"] if c["T"] else 0.0
    return {
        **c,
        "step_correction": step_correction,
        "call_ratio_success": call_ratio + c["success_rate"],
        "step_correction_call_ratio_success": step_correction + call_ratio + c["success_rate"],
    }


def select_best(
    candidates: list[dict[str, Any]], score: str, tie_break: str = "success_then_first"
) -> dict[str, Any] | None:
    """Highest score; ties go to the higher training success, then to the earlier candidate
    (the previous best comes first, so a revision must be strictly better to replace it). ``tie_break="first"``:
    the reference's ``np.argmax``, the earliest of the highest scores."""
    scored = [c for c in candidates if c.get("scores")]
    if not scored:
        return None
    order = {id(c): i for i, c in enumerate(scored)}
    if tie_break == "first":
        return max(scored, key=lambda c: (c["scores"][score], -order[id(c)]))
    return max(scored, key=lambda c: (c["scores"][score], c["scores"]["success_rate"], -order[id(c)]))
