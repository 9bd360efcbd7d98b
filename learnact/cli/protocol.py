"""``--protocol default|paper``, ``--assist``, and each setting's value from the flags: the flag when given,
else the default the table of settings gives (learnact.settings.table) for the run's task family, protocol and
assist level.

The protocols' values are :data:`settings.protocol.DEFAULT_PROTOCOL` and :data:`~settings.protocol.PAPER_PROTOCOL`
(also exposed here). A flag given explicitly beats the protocol; with ``--protocol paper`` config.json lists
such flags under ``protocol_departures``, so a reader sees at once where a "paper" run is not the paper's.
"""

from __future__ import annotations

import argparse
from typing import Any

from learnact.settings.protocol import (
    DEFAULT_PROTOCOL,
    PAPER_PROTOCOL,
    PROTOCOLS,
    SMALL_RUN,
    protocol_value,
    render_value,
)
from learnact.settings.registry import default_assist, default_model
from learnact.settings.table import SETTINGS

__all__ = [
    "DEFAULT_PROTOCOL",
    "PAPER_PROTOCOL",
    "SMALL_RUN",
    "add_protocol_flags",
    "assist_level",
    "protocol_settings",
    "render_value",
    "resolved",
    "setting_values",
]

# Settings config.json does not record for a graph (learn: --max-steps sets learn_max_steps; runs are act's).
NOT_RECORDED = {"learn": ("max_steps", "runs")}


def add_protocol_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("protocol")
    g.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="default",
        help="paper: the paper's method where this project's differs (README, 'Protocol: this project vs the paper'), "
        "and --assist none; flags given explicitly still win and are listed in config.json",
    )


def agent_model(args: argparse.Namespace) -> str:
    """The agent's model name: --agent-model-name, --model, else the one model rule (learnact.settings.registry)."""
    return (
        getattr(args, "agent_model_name", None)
        or getattr(args, "model", None)
        or default_model(getattr(args, "base_url", None))
    )


def assist_level(args: argparse.Namespace) -> str:
    """--assist when given, else the agent's model's (local: small; any other, and --protocol paper: none)."""
    return getattr(args, "assist", None) or default_assist(agent_model(args), _protocol(args))


def resolved(args: argparse.Namespace, name: str, env: str, small_run: bool = False, flag: str | None = None) -> Any:
    """Setting ``name``: its flag's value when given (``flag`` names a flag other than the usual one),
    else the protocol's value (an aid's: the assist level's)."""
    given = getattr(args, flag or name, None)
    if given is not None:
        return given
    return protocol_value(_protocol(args), name, env, small_run, assist=assist_level(args))


def setting_values(args: argparse.Namespace, env: str, graph: str) -> dict[str, Any]:
    """Every setting of the table as config.json records it (the model's by the model rule, the assist level's)."""
    values = {name: resolved(args, name, env) for name in SETTINGS if name not in NOT_RECORDED.get(graph, ())}
    values.update(
        model=getattr(args, "model", None) or default_model(getattr(args, "base_url", None)), assist=assist_level(args)
    )
    return values


def protocol_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The protocol, and with --protocol paper the flags given that depart from it (``protocol_departures``)."""
    s: dict[str, Any] = {"protocol": _protocol(args)}
    if s["protocol"] == "paper":
        given = {name: getattr(args, name, None) for name in [*PAPER_PROTOCOL, "assist"]}
        s["protocol_departures"] = {name: value for name, value in given.items() if value is not None}
    return s


def _protocol(args: argparse.Namespace) -> str:
    return getattr(args, "protocol", None) or "default"
