"""The protocol: this project's settings (:data:`DEFAULT_PROTOCOL`) and the paper's (:data:`PAPER_PROTOCOL`).

:data:`PAPER_PROTOCOL` holds every setting where the paper and its reference code differ from this
project's default. These two tables are the one source of those values: :data:`settings.defaults.DEFAULTS`
takes this project's from here, ``run.py --protocol paper`` the paper's (cli/protocol.py, which also
exposes both tables), and the README's protocol table shows both (tests/unit/cli/test_protocol.py checks it,
and that a ``--protocol paper`` run records exactly these values in config.json).
"""
from __future__ import annotations

from typing import Any

PROTOCOLS = ("default", "paper")

# setting -> value, or {"pddl": ..., "alfworld": ...} where the task families differ.
DEFAULT_PROTOCOL: dict[str, Any] = {
    "feedback": "named",  # a refused PDDL action names the precondition that failed
    "history_window": {"pddl": 20, "alfworld": 50},  # entries: one Action with its Observation
    "max_steps": {"pddl": 30, "alfworld": 20},  # agent steps per test episode
    "learn_max_steps": 10,  # agent steps per training rollout (LearnAct and Reflexion)
    "learner_temperature": 0.7,  # K samples that differ
    "candidates": 4,
    "max_rounds": 3,
    "patience": 1,  # stop after a round without improvement of the best score
    "agent_prompt": "compact",
    "learned_call_invalid": "stop",
    "state_queries": True,  # the learner may read the state in an action: find(fact, *known)
    "creation_trials": True,  # creation drops an action that works in no situation of the example episode
    "probe_unused": True,  # revise actions the agent never called from calls the framework tries (nodes/learning/probes.py)
}
PAPER_PROTOCOL: dict[str, Any] = {
    "feedback": "generic",  # "The action is not valid and therefore takes no effect. ..."
    "history_window": {"pddl": 10, "alfworld": 25},  # the reference's 20 / 50 lines, 2 lines per entry
    "max_steps": {"pddl": 30, "alfworld": 20},
    "learn_max_steps": 10,
    "learner_temperature": 0.0,  # the reference samples everything at temperature 0
    "candidates": 4,
    "max_rounds": 2,
    "patience": 0,  # off: a fixed number of revision rounds
    "agent_prompt": "paper",
    "learned_call_invalid": "continue",  # run on; the call succeeded iff its last primitive step was valid
    "state_queries": False,  # actions see only what their primitives return
    "creation_trials": False,  # creation checks that the code runs, not what it does
    "probe_unused": False,  # learning stops when no learned call failed
}
# `run.py --graph learn|evaluate` without --env (generated gripper problems): small settings, unless
# --protocol paper asks for the paper's.
SMALL_RUN = {"candidates": 2, "max_rounds": 2, "learn_max_steps": 8}


def protocol_value(protocol: str, name: str, env: str, small_run: bool = False) -> Any:
    """The protocol's value of setting ``name`` for task type ``env`` (e.g. pddl/gripper)."""
    if protocol != "paper" and small_run and name in SMALL_RUN:
        return SMALL_RUN[name]
    value = (PAPER_PROTOCOL if protocol == "paper" else DEFAULT_PROTOCOL)[name]
    return value[env_family(env)] if isinstance(value, dict) else value


def env_family(env: str) -> str:
    """The task family whose protocol values apply: ``alfworld`` for ``alfworld/put``, ``pddl`` for ``pddl/gripper``
    and a user's domain folder ``pddl:PATH`` (and for any other text environment: PDDL's step caps)."""
    return "alfworld" if env.startswith("alfworld/") else "pddl"


def render_value(value: Any) -> str:
    """A protocol value as the README's protocol table writes it: ``10 PDDL / 25 ALFWorld``, ``0.7``, ``stop``."""
    if isinstance(value, dict):
        return f"{value['pddl']} PDDL / {value['alfworld']} ALFWorld"
    return str(value)
