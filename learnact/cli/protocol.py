"""``--protocol default|paper`` and the ablation flags ``--revision`` and ``--no-demonstration``.

The protocols' values are :data:`settings.protocol.DEFAULT_PROTOCOL` and :data:`~settings.protocol.PAPER_PROTOCOL`
(also exposed here). A flag given explicitly beats the protocol; with ``--protocol paper`` config.json lists
such flags under ``protocol_departures``, so a reader sees at once where a "paper" run is not the paper's.
"""
from __future__ import annotations

import argparse
from typing import Any

from learnact.settings.protocol import DEFAULT_PROTOCOL, PAPER_PROTOCOL, PROTOCOLS, SMALL_RUN, protocol_value, render_value

__all__ = ["DEFAULT_PROTOCOL", "PAPER_PROTOCOL", "SMALL_RUN", "add_protocol_flags", "protocol_settings", "render_value", "resolved"]

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
    _add_method_flags(g)
    g.add_argument(
        "--revision", choices=REVISION_CHOICES, default="both",
        help="ablation: the revision kinds the learner may answer (Update = new code, Plan = a usage note; default both)",
    )
    g.add_argument(
        "--no-demonstration", action="store_true",
        help="ablation: the learner writes no usage demonstration; rollouts and test show the domain example only",
    )


def _add_method_flags(g) -> None:
    """The flags of the settings where the paper's prompts and mechanics differ from this project's."""
    g.add_argument(
        "--prompt-set", choices=["default", "paper"],
        help="the templates: default (prompts/templates) or paper (prompts/paper: the reference's prompts' parts, in order, "
        "with each task's own worked material)",
    )
    _switch(g, "describe-actions", "a separate learner request describes each new or updated function (the paper)")
    _switch(g, "redemonstrate", "an Update gets a new usage demonstration (the paper); else the parent's is kept")
    _switch(g, "reroll-best", "roll the previous best out again with each round's new candidates (the paper)")
    g.add_argument(
        "--revise-target", choices=["most_failed", "first_failure"],
        help="the failures revised: most_failed (default: the action that failed most, cycling over its failures) or "
        "first_failure (the paper: the first failed learned call, the same for all K samples)",
    )  # fmt: skip
    g.add_argument(
        "--plan-note", choices=["named_kept", "failing_cleared"],
        help="a Plan note goes to: named_kept (default: the function the learner names, kept across Updates) or "
        "failing_cleared (the paper: the failing function; an Update of it clears its notes)",
    )  # fmt: skip
    g.add_argument("--tie-break", choices=["success_then_first", "first"], help="equal scores: success_then_first (default) or first (the paper's argmax)")
    g.add_argument(
        "--reflexion", choices=["per_failure", "first_failure"],
        help="Reflexion: per_failure (default: a lesson per failed episode every round) or first_failure (the paper: one "
        "reflection per round from the first failed task, none after the last)",
    )  # fmt: skip
    g.add_argument(
        "--program-cap", choices=["step_cap", "none"],
        help="Code-as-Policies: step_cap (default: the program runs at most the step cap's primitives) or none (the paper)",
    )


def _switch(g, name: str, what: str) -> None:
    g.add_argument(f"--{name}", dest=name.replace("-", "_"), action=argparse.BooleanOptionalAction, default=None, help=what)


# Settings every run records with its protocol (the decoding ones are recorded by learnact/cli/resolve.py's grammar_settings).
RECORDED = (
    "feedback", "learned_call_invalid", "agent_prompt", "probe_unused", "creation_trials", "state_queries", "history_trim",
    "learned_observation", "prompt_set", "describe_actions", "redemonstrate", "revise_target", "plan_note", "reroll_best",
    "tie_break", "reflexion", "program_cap", "test_set",
)  # fmt: skip


def resolved(args: argparse.Namespace, name: str, env: str, small_run: bool = False, flag: str | None = None) -> Any:
    """Setting ``name``: its flag's value when given (``flag`` names a flag other than the usual one),
    else the protocol's value."""
    given = getattr(args, flag or FLAG_OF[name], None)
    return given if given is not None else protocol_value(_protocol(args), name, env, small_run)


def protocol_settings(args: argparse.Namespace, env: str, *, learning: bool) -> dict[str, Any]:
    """What every run records about its protocol: the protocol, the feedback, how a learned call that hits an
    invalid primitive is judged, the agent's prompt shape and, for graphs that learn, the ablations."""
    s: dict[str, Any] = {"protocol": _protocol(args), **{name: resolved(args, name, env) for name in RECORDED}}
    if learning:
        s.update(revision=getattr(args, "revision", None) or "both", demonstration=not getattr(args, "no_demonstration", False))
    if s["protocol"] == "paper":
        given = {name: getattr(args, FLAG_OF[name], None) for name in PAPER_PROTOCOL}
        s["protocol_departures"] = {name: value for name, value in given.items() if value is not None}
    return s


def _protocol(args: argparse.Namespace) -> str:
    return getattr(args, "protocol", None) or "default"
