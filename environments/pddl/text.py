"""Facts as short English sentences, per domain, with a generic fallback."""

from __future__ import annotations

from functools import lru_cache

from .parser import Atom

TEMPLATES: dict[str, dict[str, str]] = {
    "gripper": {
        "room": "{0} is a room.",
        "ball": "{0} is a ball.",
        "gripper": "{0} is a gripper.",
        "at-robby": "Robby is at {0}.",
        "at": "{0} is at {1}.",
        "free": "The {0} gripper is free.",
        "carry": "Robby is carrying {0} in the {1} gripper.",
    },
    "blockworld": {
        "clear": "{0} is clear.",
        "on-table": "{0} is on the table.",
        "arm-empty": "The robot arm is empty.",
        "holding": "The robot arm is holding {0}.",
        "on": "{0} is on {1}.",
    },
    "barman": {
        "ontable": "{0} is on the table.",
        "holding": "The {0} hand is holding {1}.",
        "handempty": "The {0} hand is empty.",
        "empty": "{0} is empty.",
        "contains": "{0} contains {1}.",
        "clean": "{0} is clean.",
        "used": "{0} has been used for {1}.",
        "dispenses": "{0} dispenses {1}.",
        "shaker-empty-level": "The empty level of {0} is {1}.",
        "shaker-level": "{0} is at level {1}.",
        "next": "Level {1} is next after level {0}.",
        "unshaked": "{0} is not shaken.",
        "shaked": "{0} is shaken.",
        "cocktail-part1": "The first part of {0} is {1}.",
        "cocktail-part2": "The second part of {0} is {1}.",
    },
    "tyreworld": {
        "isopen": "{0} is open.",
        "closed": "{0} is closed.",
        "have": "You have {0}.",
        "in": "{0} is in {1}.",  # (in jack boot): the problems put the object first
        "loose": "The nut {0} on {1} is loose.",
        "tight": "The nut {0} on {1} is tight.",
        "unlocked": "{0} is unlocked.",
        "on-ground": "{0} is on the ground.",
        "not-on-ground": "{0} is jacked up (not on the ground).",
        "inflated": "{0} is inflated.",
        "not-inflated": "{0} is not inflated.",
        "fastened": "{0} is fastened.",
        "unfastened": "{0} is unfastened.",
        "free": "{0} is free (no wheel on it).",
        "on": "{0} is on {1}.",
        "intact": "{0} is intact.",
    },
}


@lru_cache(maxsize=65_536)
def sentence(domain: str, atom: Atom) -> str:
    """One fact as an English sentence; unknown predicates read ``pred(a, b) is true.``"""
    template = TEMPLATES.get(domain, {}).get(atom[0])
    if template is None or template.count("{") != len(atom) - 1:
        return f"{atom[0]}({', '.join(atom[1:])}) is true."
    text = template.format(*atom[1:])
    return text[0].upper() + text[1:]


def describe_state(domain: str, state) -> str:
    order = list(TEMPLATES.get(domain, {}))
    rank = {p: i for i, p in enumerate(order)}
    facts = sorted(state, key=lambda a: (rank.get(a[0], len(order)), a))
    return " ".join(sentence(domain, a) for a in facts)


def describe_goal(domain: str, goal_pos, goal_neg=()) -> str:
    parts = [sentence(domain, a) for a in goal_pos]
    parts += [f"It is not the case that {sentence(domain, a)[0].lower()}{sentence(domain, a)[1:]}" for a in goal_neg]
    return "The goal is to satisfy the following conditions: " + " ".join(parts)
