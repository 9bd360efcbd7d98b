"""``run.py``'s flags: what to run and where to write it (here), and one flag per setting, generated from the table
of settings (learnact.settings.table), whose defaults ``--help`` states, so that ``--help``, config.json and the
Context say the same."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from graphs.registry import COMMANDS, GRAPHS
from learnact.settings.defaults import DEFAULTS as D
from learnact.settings.defaults import METHODS
from learnact.settings.registry import SAME, Setting, render_value
from learnact.settings.table import GROUPS, SETTINGS

from .errors import OneLineParser
from .ladder_flags import add_ladder_flags
from .protocol import add_protocol_flags


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="run.py",
        description="LearnAct as LangGraph workflows: learn actions as Python functions, then act with them.",
        epilog="Subcommands: `run.py prompts` lists templates, `run.py prompts show NODE` prints one, "
        "`run.py report RUN_DIR` writes the HTML report of a run, `run.py check PATH` checks a PDDL domain folder.",
    )
    _what_to_run(p.add_argument_group("what to run"))
    _inputs(p.add_argument_group("inputs"))
    add_protocol_flags(p)
    add_setting_flags(p)
    add_ladder_flags(p)
    _outputs(p.add_argument_group("outputs"))
    return p


def _what_to_run(g) -> None:
    g.add_argument(
        "--graph",
        choices=COMMANDS,
        default="learn",
        help="; ".join(f"{name}: {GRAPHS[name].what}" for name in COMMANDS) + " (default learn)",
    )
    g.add_argument(
        "--env",
        help=f"environment, e.g. pddl/gripper, alfworld/put, or pddl:PATH (a folder with domain.pddl and problem files); "
        f"evaluate also takes lists and pddl/*, alfworld/* "
        f"(default {D.env} on generated problems)",
    )
    g.add_argument("--methods", default=D.methods, help=f"evaluate: comma-separated, from {','.join(METHODS)}")
    g.add_argument(
        "--instance",
        action="append",
        help="instance name or file (repeatable, or comma-separated); act default: the test split",
    )
    g.add_argument("--split", choices=["train", "test"], help="act on LearnAct's split (default test)")
    g.add_argument("--draw", choices=["mermaid", "png"], help="draw the graph instead of running it")


def add_setting_flags(p: argparse.ArgumentParser, settings: Mapping[str, Setting] | None = None) -> None:
    """One flag per setting of the table (learnact.settings.table), in its --help group."""
    settings = SETTINGS if settings is None else settings
    groups = {key: p.add_argument_group(title) for key, title in GROUPS.items()}
    for s in settings.values():
        if s.flag:
            _add_setting(groups.get(s.group) or p.add_argument_group(s.group), s)


def _add_setting(g, s: Setting) -> None:
    if s.type is bool:
        g.add_argument(
            s.option, *s.aliases, dest=s.name, action=argparse.BooleanOptionalAction, default=None, help=setting_help(s)
        )
        for spelling in s.negations:
            g.add_argument(
                spelling, dest=s.name, action="store_const", const=False, help=f"the same as --no-{s.option[2:]}"
            )
        return
    g.add_argument(
        s.option,
        *s.aliases,
        dest=s.name,
        type=s.type,
        choices=s.choices,
        default=None,
        metavar=s.metavar,
        help=setting_help(s),
    )


def setting_help(s: Setting) -> str:
    """The setting's help with its default (and the paper's value where it differs)."""
    if s.is_aid:
        default = f"--assist small: {s.assist['small']}; none: {s.assist['none']}"
    elif s.default_text:
        default = f"default: {s.default_text}"
    elif s.default is None:
        default = "default: none"
    else:
        default = f"default {render_value(s.default)}"
    if not s.is_aid and s.paper is not SAME:
        default += f"; --protocol paper: {render_value(s.paper)}"
    text = s.help if s.help[1:2].isupper() else s.help[0].lower() + s.help[1:]
    return f"{text} ({default})"


def _inputs(g) -> None:
    g.add_argument("--actions", help="learned actions: a .py file or a run folder of `--graph learn`")
    g.add_argument("--train", type=int, help="number of training instances (default: the LearnAct split's 3)")


def _outputs(r) -> None:
    r.add_argument("--run-dir", help="run folder (default runs/<run-id>)")
    r.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    r.add_argument("--prompts", help="folder whose <node>.md files replace the built-in templates")
    r.add_argument("--prompt", action="append", default=[], metavar="NODE=FILE", help="replace one node's template")
    r.add_argument("-v", "--verbose", action="store_true", help="print every agent step")
