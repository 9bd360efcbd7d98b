"""Each setting of a run declared once: :class:`Setting`, and the rules that give its default.

The table itself is :data:`learnact.settings.table.SETTINGS`. From it come ``run.py``'s flags and their ``--help``
(learnact/cli/flags.py), config.json's keys (learnact/cli/resolve.py), :class:`nodes.context.Context`'s plain
fields (so ``langgraph dev``'s context schema shows them), :data:`~learnact.settings.defaults.DEFAULTS`, the
protocols' values (:mod:`learnact.settings.protocol`) and the README's protocol table (:mod:`.render`). One name
per setting everywhere: the flag is ``--`` + the name with dashes, the config.json key and the Context field are
the name.

A default is a value, or ``{"pddl": ..., "alfworld": ...}`` where the task families differ. A small-model aid
(``assist``) has no default of its own: its value comes from the assist level, ``small`` or ``none``
(:func:`default_assist`: ``small`` for the embedded model, ``none`` for any other and under ``--protocol paper``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ASSIST_LEVELS = ("small", "none")
FAMILIES = ("pddl", "alfworld")


class _Same:
    def __repr__(self) -> str:
        return "SAME"


SAME: Any = _Same()  # Setting.paper: the paper's value is this project's default


@dataclass(frozen=True)
class Setting:
    """One setting: its name (flag ``--name-with-dashes``, config.json key and Context field), its type, default,
    help text, the paper's value, and how its flag is spelled."""

    name: str
    type: Any  # str, int, float, bool or dict
    default: Any  # a value, or {"pddl": ..., "alfworld": ...}; None for an aid (see assist)
    help: str
    group: str = "acting"  # the --help group
    paper: Any = SAME  # --protocol paper's value where the paper's method differs
    assist: Mapping[str, Any] | None = None  # an aid: its value per assist level {"small": ..., "none": ...}
    choices: tuple[Any, ...] | None = None
    aliases: tuple[str, ...] = ()  # older spellings of the flag, same meaning
    negations: tuple[str, ...] = ()  # a bool's older spellings that turn it off
    nullable: bool = False  # None is a value (e.g. "unbounded", "the rule decides")
    flag: bool = True  # run.py has a flag for it
    context: bool = True  # a Context field
    default_text: str | None = None  # what --help and the table say for a default computed at run time
    metavar: str | None = None
    why: str = ""  # the README table's reason for this project's choice

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_aid(self) -> bool:
        return self.assist is not None

    def value(self, env: str = "pddl/", *, protocol: str = "default", assist: str = "small") -> Any:
        """The default for task type ``env``, protocol and assist level."""
        if self.is_aid:
            return self.assist[assist]
        value = self.paper if protocol == "paper" and self.paper is not SAME else self.default
        return value[env_family(env)] if isinstance(value, dict) and set(value) == set(FAMILIES) else value

    @property
    def paper_value(self) -> Any:
        """The value ``--protocol paper`` gives (an aid's: its value with no assist)."""
        if self.is_aid:
            return self.assist["none"]
        return self.default if self.paper is SAME else self.paper


def env_family(env: str) -> str:
    """The task family whose values apply: ``alfworld`` for ``alfworld/put``, ``pddl`` for ``pddl/gripper``
    and a user's domain folder ``pddl:PATH`` (and for any other text environment: PDDL's step caps)."""
    return "alfworld" if env.startswith("alfworld/") else "pddl"


def render_value(value: Any) -> str:
    """A value as ``--help`` and the README's protocol table write it: ``10 PDDL / 25 ALFWorld``, ``0.7``, ``stop``."""
    if isinstance(value, dict) and set(value) == set(FAMILIES):
        return f"{value['pddl']} PDDL / {value['alfworld']} ALFWorld"
    return str(value)


# ---------------------------------------------------------------- the rules every entry point uses


def default_model(base_url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The model of a run that names none, the same for run.py, ``langgraph dev`` and a ``Context()``:
    ``$LEARNACT_MODEL``; else ``gpt-4o-mini`` when an OpenAI key or a server's base URL is given; else ``local``
    (the embedded model)."""
    environ = os.environ if environ is None else environ
    if environ.get("LEARNACT_MODEL"):
        return environ["LEARNACT_MODEL"]
    return "gpt-4o-mini" if environ.get("OPENAI_API_KEY") or base_url else "local"


def default_assist(model: str, protocol: str = "default") -> str:
    """The assist level a run gets unless it names one: ``small`` for the embedded model, ``none`` for any other
    model and under ``--protocol paper`` (the paper's method has no aids)."""
    return "small" if model == "local" and protocol != "paper" else "none"


def check_assist(level: str) -> str:
    if level not in ASSIST_LEVELS:
        raise ValueError(f"assist {level!r}: expected one of {', '.join(ASSIST_LEVELS)}")
    return level


# ---------------------------------------------------------------- generated forms


def _annotation(s: Setting) -> Any:
    base = Literal[s.choices] if s.choices else s.type  # type: ignore[valid-type]
    return base | None if s.nullable or s.is_aid else base


def context_default(s: Setting) -> Any:
    """A Context field's default: the PDDL value (Context.for_env and per_env give the others); None for an aid
    (filled from the assist level) and for a setting whose default a rule computes."""
    return None if s.is_aid else s.value("pddl/")


def context_description(s: Setting) -> str:
    if s.is_aid:
        on, off = s.assist["small"], s.assist["none"]
        return f"{s.help}. Small-model aid (None: from `assist`: {on} with small, {off} with none)."
    if s.default_text:
        return f"{s.help} (None: {s.default_text})."
    if isinstance(s.default, dict):
        return f"{s.help} (default {render_value(s.default)}; PDDL's here, per_env for others)."
    return s.help


def settings_dataclass(name: str, settings: Iterable[Setting]) -> type:
    """A dataclass with one field per setting (type, default, and the description Studio's context panel shows)."""
    fields = []
    for s in settings:
        default = context_default(s)
        meta = {"description": context_description(s)}
        if isinstance(default, dict):
            spec = field(default_factory=lambda d=default: dict(d), metadata=meta)
        else:
            spec = field(default=default, metadata=meta)
        fields.append((s.name, _annotation(s), spec))
    return dataclasses.make_dataclass(name, fields)


def values_of(settings: Iterable[Setting], **at: Any) -> dict[str, Any]:
    """name -> default, for ``env``, ``protocol`` and ``assist`` as :meth:`Setting.value` takes them."""
    return {s.name: s.value(**at) for s in settings}
