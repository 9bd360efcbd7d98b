"""Every default of a run: :data:`DEFAULTS`, typed.

The settings' defaults come from the one table of settings (:data:`learnact.settings.table.SETTINGS`: PDDL's
values where the task families differ, the aids' with assist ``small``); the constants here are the defaults
of what is not a setting of its own (the small default run's problems, the ladder's seeds, the concurrency rule).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .registry import values_of
from .table import SETTINGS

# The methods an evaluation compares (nodes/evaluate.py maps each to the graphs it learns and acts with).
METHODS = ("act", "react", "reflexion", "react_reflexion", "code_as_policy", "learnact")


def default_score(env_name: str) -> str:
    """The paper's choice: ALFWorld uses call_ratio_success, robotic planning the sum of all three."""
    return SETTINGS["score"].value(env_name)


CONSTANTS: dict[str, Any] = {
    # -- what to run: `run.py --graph learn` alone learns on small generated gripper problems
    "env": "pddl/gripper",
    "train_generated": ("gen:seed=1,balls=2", "gen:seed=2,balls=3"),
    "test_generated": ("gen:seed=11,balls=2", "gen:seed=12,balls=3", "gen:seed=13,balls=4"),
    "methods": "act,learnact",
    "ladder_train_seeds": (1, 999),
    "ladder_test_seeds": (1000, 9999),
    # ground actions a PDDL problem may have (every well-typed call, estimated before grounding): a bigger one is refused
    "ground_budget": 1_000_000,
    "agent_max_tokens": 64,  # one call per reply
    "learner_max_tokens": 768,  # a set of functions
    "local_concurrency": 1,  # the embedded server answers one request at a time, reusing the last prefix
    "remote_concurrency": 4,
    "worker_attempts": 3,  # attempts of one episode whose Ray worker died (killed, out of memory)
    "resample_temperature": 0.8,  # the temperature of resample_refused's samples
}


def _for_env(self, env_name: str) -> dict[str, Any]:
    """The defaults that differ by the task family of ``env_name`` (e.g. ``alfworld/put``)."""
    return {name: SETTINGS[name].value(env_name) for name in ("max_steps", "history_window", "score")}


Defaults = dataclasses.make_dataclass(
    "Defaults",
    [
        (name, Any, dataclasses.field(default=value))
        for name, value in {**values_of(SETTINGS.values()), **CONSTANTS}.items()
    ],
    namespace={"for_env": _for_env},
    frozen=True,
)
DEFAULTS: Any = Defaults()
