"""The primitives of the four domains in English, for prompts: readable parameter names, a
one-line description, and pre/post-conditions in words.

Parameter names here are labels for the agent (``fill_shot(shot, ingredient, hand, other_hand,
dispenser)`` reads better than the PDDL ``?s ?i ?h1 ?h2 ?d``); the order is the operator's.
A domain whose operators are not listed here (a user's domain folder) gets specs written from the
operator itself: parameters with their types, preconditions and effects as facts.
"""

from __future__ import annotations

from ..base import PrimitiveSpec
from .parser import Operator, either_parts
from .simulator import call_name

# domain -> operator -> (params, description, preconditions, effects)
DOCS: dict[str, dict[str, tuple[tuple[str, ...], str, str, str]]] = {
    "gripper": {
        "move": (
            ("from", "to"),
            "Move Robby from one room to another.",
            "Robby is in room `from`; `from` and `to` are rooms.",
            "Robby is in room `to` and no longer in `from`.",
        ),
        "pick": (
            ("obj", "room", "gripper"),
            "Pick up a ball in the room Robby is in with a free gripper.",
            "`obj` is a ball at `room`; Robby is at `room`; `gripper` is free.",
            "`gripper` carries `obj`; `obj` is no longer at `room`; `gripper` is no longer free.",
        ),
        "drop": (
            ("obj", "room", "gripper"),
            "Drop a carried ball in the room Robby is in.",
            "`gripper` carries the ball `obj`; Robby is at `room`.",
            "`obj` is at `room`; `gripper` is free and carries nothing.",
        ),
    },
    "blockworld": {
        "pickup": (
            ("block",),
            "Pick up a clear block from the table.",
            "`block` is clear and on the table; the arm is empty.",
            "The arm holds `block`; `block` is no longer on the table or clear; the arm is not empty.",
        ),
        "putdown": (
            ("block",),
            "Put the held block down on the table.",
            "The arm holds `block`.",
            "`block` is on the table and clear; the arm is empty.",
        ),
        "stack": (
            ("block", "under_block"),
            "Stack the held block on top of a clear block.",
            "The arm holds `block`; `under_block` is clear.",
            "`block` is on `under_block` and clear; the arm is empty; `under_block` is no longer clear.",
        ),
        "unstack": (
            ("block", "under_block"),
            "Take a clear block off the block it is on.",
            "`block` is on `under_block`; `block` is clear; the arm is empty.",
            "The arm holds `block`; `under_block` is clear; `block` is no longer on `under_block`.",
        ),
    },
    "barman": {
        "grasp": (
            ("hand", "container"),
            "Grasp a container (a shot or the shaker) from the table.",
            "`container` is on the table; `hand` is empty.",
            "`hand` holds `container`; it is no longer on the table; `hand` is not empty.",
        ),
        "leave": (
            ("hand", "container"),
            "Put a held container back on the table.",
            "`hand` holds `container`.",
            "`container` is on the table; `hand` is empty.",
        ),
        "fill_shot": (
            ("shot", "ingredient", "hand", "other_hand", "dispenser"),
            "Fill a clean empty shot with an ingredient from its dispenser.",
            "`hand` holds `shot`; `other_hand` is empty; `dispenser` dispenses `ingredient`; `shot` is empty and clean.",
            "`shot` contains `ingredient` and has been used for it; `shot` is no longer empty or clean.",
        ),
        "refill_shot": (
            ("shot", "ingredient", "hand", "other_hand", "dispenser"),
            "Refill an empty shot with the ingredient it was already used for (no cleaning needed).",
            "`hand` holds `shot`; `other_hand` is empty; `dispenser` dispenses `ingredient`; `shot` is empty "
            "and has been used for `ingredient`.",
            "`shot` contains `ingredient`; it is no longer empty.",
        ),
        "empty_shot": (
            ("hand", "shot", "beverage"),
            "Pour out what a held shot contains.",
            "`hand` holds `shot`; `shot` contains `beverage`.",
            "`shot` is empty and no longer contains `beverage` (it is still used, not clean).",
        ),
        "clean_shot": (
            ("shot", "beverage", "hand", "other_hand"),
            "Clean an empty used shot.",
            "`hand` holds `shot`; `other_hand` is empty; `shot` is empty and has been used for `beverage`.",
            "`shot` is clean and no longer used for `beverage`.",
        ),
        "pour_shot_to_clean_shaker": (
            ("shot", "ingredient", "shaker", "hand", "level", "next_level"),
            "Pour the ingredient of a held shot into a clean empty shaker; the shaker level rises by one.",
            "`hand` holds `shot`; `shot` contains `ingredient`; `shaker` is empty and clean; `shaker` is at "
            "`level`; `next_level` is next after `level`.",
            "`shaker` contains `ingredient`, is unshaken and at `next_level`; `shot` is empty; `shaker` is no "
            "longer empty or clean.",
        ),
        "pour_shot_to_used_shaker": (
            ("shot", "ingredient", "shaker", "hand", "level", "next_level"),
            "Pour the ingredient of a held shot into a shaker that already holds an unshaken ingredient.",
            "`hand` holds `shot`; `shot` contains `ingredient`; `shaker` is unshaken and at `level`; "
            "`next_level` is next after `level`.",
            "`shaker` contains `ingredient` and is at `next_level`; `shot` is empty.",
        ),
        "empty_shaker": (
            ("hand", "shaker", "cocktail", "level", "empty_level"),
            "Pour out the shaken cocktail of a held shaker.",
            "`hand` holds `shaker`; `shaker` contains `cocktail` and is shaken; `shaker` is at `level`; the empty "
            "level of `shaker` is `empty_level`.",
            "`shaker` is empty and at `empty_level`; it no longer contains `cocktail` and is not shaken (and not clean).",
        ),
        "clean_shaker": (
            ("hand", "other_hand", "shaker"),
            "Clean an empty held shaker.",
            "`hand` holds `shaker`; `other_hand` is empty; `shaker` is empty.",
            "`shaker` is clean.",
        ),
        "shake": (
            ("cocktail", "ingredient1", "ingredient2", "shaker", "hand", "other_hand"),
            "Shake a held shaker holding a cocktail's two parts to make the cocktail.",
            "`hand` holds `shaker`; `other_hand` is empty; `shaker` contains `ingredient1` and `ingredient2`; "
            "the first part of `cocktail` is `ingredient1` and the second part is `ingredient2`; `shaker` is unshaken.",
            "`shaker` is shaken and contains `cocktail`; it no longer contains `ingredient1` or `ingredient2`.",
        ),
        "pour_shaker_to_shot": (
            ("beverage", "shot", "hand", "shaker", "level", "lower_level"),
            "Pour one shot of the shaken drink from a held shaker into a clean empty shot; the level drops by one.",
            "`hand` holds `shaker`; `shaker` is shaken and contains `beverage`; `shot` is empty and clean; "
            "`shaker` is at `level`; `level` is next after `lower_level`.",
            "`shot` contains `beverage`; `shaker` is at `lower_level`; `shot` is no longer clean or empty.",
        ),
    },
    "tyreworld": {
        "open": (
            ("container",),
            "Open a closed, unlocked container (the boot).",
            "`container` is unlocked and closed.",
            "`container` is open.",
        ),
        "close": (("container",), "Close an open container.", "`container` is open.", "`container` is closed."),
        "fetch": (
            ("obj", "container"),
            "Take an object (tool, wheel or nut) out of an open container.",
            "`obj` is in `container`; `container` is open.",
            "You have `obj`; it is no longer in `container`.",
        ),
        "put_away": (
            ("obj", "container"),
            "Put an object you have into an open container.",
            "You have `obj`; `container` is open.",
            "`obj` is in `container`; you no longer have it.",
        ),
        "loosen": (
            ("nut", "hub"),
            "Loosen a tight nut with the wrench while the hub is on the ground.",
            "You have the wrench; `nut` is tight on `hub`; `hub` is on the ground.",
            "`nut` is loose on `hub`.",
        ),
        "tighten": (
            ("nut", "hub"),
            "Tighten a loose nut with the wrench while the hub is on the ground.",
            "You have the wrench; `nut` is loose on `hub`; `hub` is on the ground.",
            "`nut` is tight on `hub`.",
        ),
        "jack_up": (
            ("hub",),
            "Jack up a hub with the jack.",
            "`hub` is on the ground; you have the jack.",
            "`hub` is jacked up (not on the ground); the jack stays under it, so you no longer have it.",
        ),
        "jack_down": (
            ("hub",),
            "Lower a jacked-up hub and take the jack back.",
            "`hub` is jacked up.",
            "`hub` is on the ground; you have the jack.",
        ),
        "undo": (
            ("nut", "hub"),
            "Remove a loose nut from a jacked-up hub with the wrench.",
            "`hub` is jacked up and fastened; you have the wrench; `nut` is loose on `hub`.",
            "You have `nut`; `hub` is unfastened; `nut` is no longer on `hub`.",
        ),
        "do_up": (
            ("nut", "hub"),
            "Put a nut back on a jacked-up, unfastened hub with the wrench (it ends up loose).",
            "You have the wrench and `nut`; `hub` is unfastened and jacked up.",
            "`nut` is loose on `hub`; `hub` is fastened; you no longer have `nut`.",
        ),
        "remove_wheel": (
            ("wheel", "hub"),
            "Take a wheel off a jacked-up, unfastened hub.",
            "`hub` is jacked up and unfastened; `wheel` is on `hub`.",
            "You have `wheel`; `hub` is free; `wheel` is no longer on `hub`.",
        ),
        "put_on_wheel": (
            ("wheel", "hub"),
            "Put a wheel you have on a free, unfastened, jacked-up hub.",
            "You have `wheel`; `hub` is free, unfastened and jacked up.",
            "`wheel` is on `hub`; `hub` is no longer free; you no longer have `wheel`.",
        ),
        "inflate": (
            ("wheel",),
            "Inflate an intact wheel with the pump.",
            "You have the pump; `wheel` is not inflated and is intact.",
            "`wheel` is inflated.",
        ),
    },
}


def primitive_spec(domain: str, op: Operator) -> PrimitiveSpec:
    """The agent-facing spec of ``op``: the hand-written one when it matches, else one from the PDDL."""
    name = call_name(op.name)
    doc = DOCS.get(domain, {}).get(name)
    if doc is not None and len(doc[0]) == len(op.params):
        params, description, pre, eff = doc
        return PrimitiveSpec(name, params, description, pre, eff)
    return _spec_from_pddl(domain, op)


def _spec_from_pddl(domain: str, op: Operator) -> PrimitiveSpec:
    """A spec written from the operator itself: typed parameters, preconditions and effects as facts."""
    params = tuple(p[1:].replace("-", "_") for p, _ in op.params)
    return PrimitiveSpec(
        call_name(op.name), params, describe_operator(op), operator_preconditions(op), operator_effects(op)
    )


def _term(t: str) -> str:
    return f"`{t[1:].replace('-', '_')}`" if t.startswith("?") else t


def _fact(atom) -> str:
    return f"{atom[0]}({', '.join(map(_term, atom[1:]))})"


def _type_words(t: str) -> str:
    return " or ".join(either_parts(t)) if t.startswith("(either ") else t


def describe_operator(op: Operator) -> str:
    """``Apply move-curb(from: curb, to: curb).`` with the parameters' PDDL types."""
    typed = ", ".join(f"{p[1:].replace('-', '_')}: {_type_words(t)}" for p, t in op.params)
    return f"Apply the action {op.name}({typed})."


def operator_preconditions(op: Operator) -> str:
    parts = [f"{_fact(a)} holds" for a in op.pre_pos] + [f"{_fact(a)} does not hold" for a in op.pre_neg]
    parts += [f"{_term(a)} is {_term(b)}" for a, b in op.pre_eq] + [
        f"{_term(a)} differs from {_term(b)}" for a, b in op.pre_neq
    ]
    return "; ".join(parts) + "." if parts else "nothing (always applicable)."


def operator_effects(op: Operator) -> str:
    parts = [f"{_fact(a)} becomes true" for a in op.add] + [
        f"{_fact(a)} becomes false" for a in op.delete if a not in op.add
    ]
    if op.cost is not None:
        amount = op.cost[0] if len(op.cost) == 1 else _fact(op.cost)
        parts.append(f"costs {amount}")
    return "; ".join(parts) + "." if parts else "nothing changes."
