"""The protocols: this project's settings (:data:`DEFAULT_PROTOCOL`) and the paper's (:data:`PAPER_PROTOCOL`).

Both are read off the one table of settings (:data:`learnact.settings.table.SETTINGS`): every setting with a
``paper`` value (where the paper's method differs) and every small-model aid (whose paper value is its value with
no assist). ``run.py --protocol paper`` takes the paper's values (learnact/cli/resolve.py) and its assist level
``none``; the README's protocol table shows both (:mod:`learnact.settings.render`).
"""

from __future__ import annotations

from typing import Any

from .registry import SAME, env_family, render_value
from .table import SETTINGS

__all__ = [
    "DEFAULT_PROTOCOL",
    "PAPER_PROTOCOL",
    "PROTOCOLS",
    "SMALL_RUN",
    "env_family",
    "protocol_value",
    "render_value",
]

PROTOCOLS = ("default", "paper")


def _protocol_settings() -> list:
    return [s for s in SETTINGS.values() if s.is_aid or (s.paper is not SAME and s.name != "assist")]


# setting -> value, or {"pddl": ..., "alfworld": ...} where the task families differ (aids: with assist small).
DEFAULT_PROTOCOL: dict[str, Any] = {s.name: s.assist["small"] if s.is_aid else s.default for s in _protocol_settings()}
PAPER_PROTOCOL: dict[str, Any] = {s.name: s.paper_value for s in _protocol_settings()}
# `run.py --graph learn|evaluate` without --env (generated gripper problems): small settings, unless
# --protocol paper asks for the paper's.
SMALL_RUN = {"candidates": 2, "max_rounds": 2, "learn_max_steps": 8}


def protocol_value(protocol: str, name: str, env: str, small_run: bool = False, assist: str | None = None) -> Any:
    """Setting ``name``'s value for task type ``env`` (e.g. pddl/gripper) under ``protocol``; an aid's at the assist
    level ``assist`` (default: none under the paper's protocol, else small)."""
    if protocol != "paper" and small_run and name in SMALL_RUN:
        return SMALL_RUN[name]
    level = assist or ("none" if protocol == "paper" else "small")
    return SETTINGS[name].value(env, protocol=protocol, assist=level)
