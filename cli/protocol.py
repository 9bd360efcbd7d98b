"""``--protocol default|paper`` and the ablation flags ``--revision`` and ``--no-demonstration``.

:data:`PAPER_PROTOCOL` holds every setting where the paper and its reference code differ from this
project's default (:data:`DEFAULT_PROTOCOL`). The README's protocol table shows both, and a test
checks that ``run.py ... --protocol paper`` records exactly these values in config.json. A flag given
explicitly beats the protocol; with ``--protocol paper`` config.json lists such flags under
``protocol_departures``, so a reader sees at once where a "paper" run is not the paper's.
"""
from __future__ import annotations

import argparse
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
    "probe_unused": True,  # revise actions the agent never called from calls the framework tries (nodes/probes.py)
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
# The argparse destination of the flag that sets each protocol setting explicitly.
FLAG_OF = {name: name for name in DEFAULT_PROTOCOL}
REVISION_CHOICES = ("both", "update", "plan")


def add_protocol_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("protocol and ablations")
    g.add_argument(
        "--protocol", choices=PROTOCOLS, default="default",
        help="paper: every setting the paper and its reference code use where this project differs (README, "
        "'Protocol: this project vs the paper'); flags given explicitly still win and are listed in config.json",
    )  # fmt: skip
    g.add_argument(
        "--feedback", choices=["named", "generic"],
        help="a refused PDDL action: named (default: which precondition failed) or generic (the paper's 'not valid' sentence)",
    )
    g.add_argument(
        "--learned-call-invalid", choices=["stop", "continue"],
        help="an invalid primitive inside a learned call: stop (default: the call ends there, failed) or continue "
        "(the paper: it runs on and succeeds iff its last primitive step was valid)",
    )  # fmt: skip
    g.add_argument(
        "--no-probe", dest="probe_unused", action="store_const", const=False,
        help="learning: when the agent made no learned call in a round, stop (the paper) instead of revising from "
        "calls the framework tries itself",
    )
    g.add_argument(
        "--no-state-queries", dest="state_queries", action="store_const", const=False,
        help="learning: do not tell the learner that an action may read the state with find(fact, *known) (the paper)",
    )
    g.add_argument(
        "--no-creation-trials", dest="creation_trials", action="store_const", const=False,
        help="learning: keep a new action even when none of its calls works in any situation of the domain's example "
        "episode (the paper) instead of dropping it and telling the learner why",
    )
    g.add_argument(
        "--revision", choices=REVISION_CHOICES, default="both",
        help="ablation: the revision kinds the learner may answer (Update = new code, Plan = a usage note; default both)",
    )
    g.add_argument(
        "--no-demonstration", action="store_true",
        help="ablation: the learner writes no usage demonstration; rollouts and test show the domain example only",
    )


def protocol_value(protocol: str, name: str, env: str, small_run: bool = False) -> Any:
    """The protocol's value of setting ``name`` for task type ``env`` (e.g. pddl/gripper)."""
    if protocol != "paper" and small_run and name in SMALL_RUN:
        return SMALL_RUN[name]
    value = (PAPER_PROTOCOL if protocol == "paper" else DEFAULT_PROTOCOL)[name]
    return value[env.split("/", 1)[0]] if isinstance(value, dict) else value


def resolved(args: argparse.Namespace, name: str, env: str, small_run: bool = False, flag: str | None = None) -> Any:
    """Setting ``name``: its flag's value when given (``flag`` names a flag other than the usual one),
    else the protocol's value."""
    given = getattr(args, flag or FLAG_OF[name], None)
    return given if given is not None else protocol_value(_protocol(args), name, env, small_run)


def protocol_settings(args: argparse.Namespace, env: str, *, learning: bool) -> dict[str, Any]:
    """What every run records about its protocol: the protocol, the feedback, how a learned call that hits an
    invalid primitive is judged, the agent's prompt shape and, for graphs that learn, the ablations."""
    s: dict[str, Any] = {
        "protocol": _protocol(args),
        "feedback": resolved(args, "feedback", env),
        "learned_call_invalid": resolved(args, "learned_call_invalid", env),
        "agent_prompt": resolved(args, "agent_prompt", env),
        "probe_unused": resolved(args, "probe_unused", env),
        "creation_trials": resolved(args, "creation_trials", env),
        "state_queries": resolved(args, "state_queries", env),
    }
    if learning:
        s.update(revision=getattr(args, "revision", None) or "both", demonstration=not getattr(args, "no_demonstration", False))
    if s["protocol"] == "paper":
        given = {name: getattr(args, FLAG_OF[name], None) for name in PAPER_PROTOCOL}
        s["protocol_departures"] = {name: value for name, value in given.items() if value is not None}
    return s


def _protocol(args: argparse.Namespace) -> str:
    return getattr(args, "protocol", None) or "default"


def render_value(value: Any) -> str:
    """A protocol value as the README's protocol table writes it: ``10 PDDL / 25 ALFWorld``, ``0.7``, ``stop``."""
    if isinstance(value, dict):
        return f"{value['pddl']} PDDL / {value['alfworld']} ALFWorld"
    return str(value)
