"""How ALFWorld's game text maps to this project's primitive calls, and the primitives themselves.

Every game file embeds its own grammar. The benchmark games use the classic grammar
(``put X in/on Y``); newer ALFWorld releases say ``move X to Y``. The call-form primitives map
to whichever command text the game admits, so both work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..base import PrimitiveSpec, format_call


@dataclass(frozen=True)
class _CommandForm:
    """How one primitive is written as game text; several forms cover grammar variants."""

    primitive: str
    pattern: re.Pattern[str]  # parses an admissible command into the primitive's arguments
    template: str  # builds the command from the arguments


def _form(primitive: str, template: str) -> _CommandForm:
    # "take {0} from {1}" -> ^take (.+) from (.+)$ ; names never contain the keywords' spaces.
    regex = re.escape(template).replace(re.escape("{0}"), "(.+?)").replace(re.escape("{1}"), "(.+)")
    return _CommandForm(primitive, re.compile(f"^{regex}$"), template)


# Order matters for parsing admissible commands: the first matching form wins.
_COMMAND_FORMS: tuple[_CommandForm, ...] = (
    _form("goto", "go to {0}"),
    _form("take", "take {0} from {1}"),
    _form("put", "put {0} in/on {1}"),  # classic grammar (the benchmark games)
    _form("put", "move {0} to {1}"),  # newer ALFWorld grammar
    _form("put", "put {0} into {1}"),  # object into a receptacle object (e.g. into a bowl)
    _form("put", "put {0} in {1}"),
    _form("open", "open {0}"),
    _form("close", "close {0}"),
    _form("clean", "clean {0} with {1}"),
    _form("heat", "heat {0} with {1}"),
    _form("cool", "cool {0} with {1}"),
    _form("use", "use {0}"),
    _form("examine", "examine {0}"),
    _form("inventory", "inventory"),
    _form("look", "look"),
)
# toggle is the same game command as use ("use desklamp 1" switches it on or off).
_ALIASES = {"toggle": "use"}

PRIMITIVES: tuple[PrimitiveSpec, ...] = (
    PrimitiveSpec(
        "goto",
        ("recep",),
        "Go to a receptacle (e.g. 'cabinet 1') and look at it.",
        "recep is a receptacle in the room and you are not already there.",
        "You are at recep; the observation lists what is on/in it, or says it is closed.",
    ),
    PrimitiveSpec(
        "take",
        ("obj", "recep"),
        "Pick up an object from the receptacle you are at.",
        "You are at recep, obj is visible in/on it, and your hands are empty.",
        "You hold obj; it is no longer in/on recep.",
    ),
    PrimitiveSpec(
        "put",
        ("obj", "recep"),
        "Put the object you hold in/on the receptacle you are at.",
        "You hold obj, you are at recep, and recep is open if it can be opened.",
        "obj is in/on recep; your hands are empty.",
    ),
    PrimitiveSpec(
        "open",
        ("recep",),
        "Open a closed receptacle you are at (drawer, fridge, microwave...).",
        "You are at recep, it can be opened and it is closed.",
        "recep is open; the observation lists what is in it.",
    ),
    PrimitiveSpec(
        "close",
        ("recep",),
        "Close an open receptacle you are at.",
        "You are at recep and it is open.",
        "recep is closed.",
    ),
    PrimitiveSpec(
        "toggle",
        ("obj",),
        "Switch a light or appliance you are at on or off (same as use).",
        "You are at the place of obj and obj can be switched (e.g. 'desklamp 1').",
        "obj is switched on (or off).",
    ),
    PrimitiveSpec(
        "clean",
        ("obj", "recep"),
        "Clean the object you hold with a sink or basin you are at.",
        "You hold obj and you are at recep, a sinkbasin.",
        "obj is clean; you still hold it.",
    ),
    PrimitiveSpec(
        "heat",
        ("obj", "recep"),
        "Heat the object you hold with a microwave you are at.",
        "You hold obj and you are at recep, a microwave.",
        "obj is hot; you still hold it.",
    ),
    PrimitiveSpec(
        "cool",
        ("obj", "recep"),
        "Cool the object you hold with a fridge you are at.",
        "You hold obj and you are at recep, a fridge.",
        "obj is cool; you still hold it.",
    ),
    PrimitiveSpec(
        "use",
        ("obj",),
        "Use (switch on/off) an object you are at, e.g. a desklamp.",
        "You are at the place of obj and obj can be switched (e.g. 'desklamp 1').",
        "obj is switched on (or off); looking at a held object under a lit lamp examines it.",
    ),
    PrimitiveSpec(
        "examine",
        ("target",),
        "Look closely at an object or receptacle you are at or hold.",
        "target is the receptacle you are at, or an object there or in your hands.",
        "Nothing changes; the observation describes target.",
    ),
    PrimitiveSpec(
        "inventory",
        (),
        "List what you are carrying.",
        "None.",
        "Nothing changes.",
    ),
    PrimitiveSpec(
        "look",
        (),
        "Describe where you are and what you see.",
        "None.",
        "Nothing changes.",
    ),
)
_PRIMITIVES_BY_NAME = {p.name: p for p in PRIMITIVES}


def command_to_call(command: str) -> str | None:
    """Game text -> call form: ``"go to desk 1"`` -> ``"goto('desk 1')"``; None if unmapped."""
    command = command.strip()
    for form in _COMMAND_FORMS:
        match = form.pattern.match(command)
        if match:
            return format_call(form.primitive, match.groups())
    return None


def call_to_command_candidates(name: str, args: tuple[str, ...]) -> list[str]:
    """The game texts a primitive call may stand for, preferred (classic grammar) first."""
    name = _ALIASES.get(name, name)
    return [form.template.format(*args) for form in _COMMAND_FORMS if form.primitive == name]


def check_call(name: str, args: tuple[Any, ...]) -> str | None:
    """Why ``name(*args)`` is not a well-formed primitive call, or None when it is."""
    spec = _PRIMITIVES_BY_NAME.get(name)
    if spec is None:
        known = ", ".join(p.signature for p in PRIMITIVES)
        return f"unknown action {name!r}; the primitive actions are: {known}"
    if len(args) != len(spec.params):
        return f"{spec.signature} takes {len(spec.params)} argument(s), got {len(args)}: {format_call(name, args)}"
    for arg in args:
        if not isinstance(arg, str) or not arg.strip():
            return f"arguments of {name} must be non-empty names in quotes, e.g. 'desk 1'; got {arg!r}"
    return None
