"""The state and goal rendered per object, for agents that read better than a list of facts.

``describe_state`` (the observation) lists every true fact as a sentence, in predicate order: the
paper's format, and what the environment returns. A small model reading it has to join "Ball1 is at
roomb" with "Ball1 is at rooma" three sentences further in the goal line by itself; in our probes of the
embedded 1.5B model it mostly did not. The view below puts, for each object, where it is and
where it must go on one line, and marks what is already done. Gripper and blockworld get their own
view; the other domains get the facts plus the goal split into "still to do" and "already true".
"""

from __future__ import annotations

from collections.abc import Iterable

from .parser import Atom
from .text import sentence

State = frozenset


def _of(state: Iterable[Atom], pred: str) -> list[Atom]:
    return sorted(a for a in state if a[0] == pred)


def gripper_view(state: State, goal_pos: Iterable[Atom]) -> str:
    """Robby and the grippers, then the balls already where they must be, then those still to move:
    what is left to do comes last, next to where the agent writes its reply."""
    robby = next((a[1] for a in _of(state, "at-robby")), "?")
    place = {a[1]: a[2] for a in _of(state, "at")}
    held = {a[1]: a[2] for a in _of(state, "carry")}
    target = {a[1]: a[2] for a in goal_pos if a[0] == "at"}
    lines = [f"Robby is in {robby}."]
    for g in ("left", "right"):
        ball = next((b for b, gr in held.items() if gr == g), None)
        lines.append(f"The {g} gripper " + (f"holds {ball}." if ball else "is free."))
    done, todo = [], []
    for ball in sorted(set(place) | set(held) | set(target), key=_natural):
        where = f"in the {held[ball]} gripper" if ball in held else f"in {place.get(ball, '?')}"
        goal = target.get(ball)
        if goal is None:
            lines.append(f"{ball} is {where}.")
        elif place.get(ball) == goal:
            done.append(f"Done: {ball} is in {goal}.")
        else:
            todo.append(f"To do: {ball} is {where}; it must go to {goal}.")
    return "\n".join(lines + done + (todo or ["Nothing left to do."]))


def blockworld_view(state: State, goal_pos: Iterable[Atom]) -> str:
    below = {a[1]: a[2] for a in _of(state, "on")}
    held = next((a[1] for a in _of(state, "holding")), None)
    blocks = {a[1] for a in state if a[0] in ("on", "on-table", "clear", "holding")} | set(below.values())
    above = {v: k for k, v in below.items()}
    towers = []
    for base in sorted((b for b in blocks if b not in below and b != held), key=_natural):
        tower, top = [base], base
        while top in above:
            top = above[top]
            tower.append(top)
        towers.append(" ".join(tower))
    lines = ["The arm holds " + (f"{held}." if held else "nothing (it is empty).")]
    lines.append("Towers, bottom to top: " + (" | ".join(towers) if towers else "none") + ".")
    done, todo = [], []
    for atom in goal_pos:
        if atom in state:
            done.append(f"Done: {sentence('blockworld', atom).rstrip('.')}.")
        elif atom[0] == "on":
            now = (
                f"{atom[1]} is held"
                if atom[1] == held
                else (f"{atom[1]} is on {below[atom[1]]}" if atom[1] in below else f"{atom[1]} is on the table")
            )
            todo.append(f"To do: {atom[1]} must be on {atom[2]} (now {now.split(' is ', 1)[1]}).")
        else:
            todo.append(f"To do: {sentence('blockworld', atom).rstrip('.')}.")
    return "\n".join(lines + done + (todo or ["Nothing left to do."]))


def facts_view(domain: str, state: State, goal_pos: Iterable[Atom], goal_neg: Iterable[Atom] = ()) -> str:
    facts = " ".join(sentence(domain, a) for a in sorted(state))
    todo = [sentence(domain, a) for a in goal_pos if a not in state]
    todo += [f"Not: {sentence(domain, a)}" for a in goal_neg if a in state]
    done = [sentence(domain, a) for a in goal_pos if a in state]
    lines = [f"Facts: {facts}", "Still to do: " + (" ".join(todo) if todo else "nothing, the goal is reached.")]
    if done:
        lines.append("Already done: " + " ".join(done))
    return "\n".join(lines)


def state_view(domain: str, state: State, goal_pos: Iterable[Atom], goal_neg: Iterable[Atom] = ()) -> str:
    if domain == "gripper":
        return gripper_view(state, goal_pos)
    if domain == "blockworld":
        return blockworld_view(state, goal_pos)
    return facts_view(domain, state, goal_pos, goal_neg)


def _natural(name: str):
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def fact_text(atom: Atom) -> str:
    """``("at", "ball1", "rooma")`` -> ``at(ball1, rooma)``: a fact as the generic view writes it."""
    return f"{atom[0]}({', '.join(atom[1:])})"


def object_view(
    domain: str, state: State, goal_pos: Iterable[Atom], goal_neg: Iterable[Atom] = (), changing: Iterable[str] = ()
) -> str:
    """Any domain: the goal facts still to reach first, then per object the facts about it (those it is the
    first argument of; facts that never change after them), then the facts about no object."""
    changing = set(changing)
    todo = [fact_text(a) for a in goal_pos if a not in state] + [f"not {fact_text(a)}" for a in goal_neg if a in state]
    done = [fact_text(a) for a in goal_pos if a in state] + [f"not {fact_text(a)}" for a in goal_neg if a not in state]
    per_object: dict[str, list[Atom]] = {}
    general: list[Atom] = []
    for atom in sorted(state, key=lambda a: (a[0] not in changing, a)):
        (per_object.setdefault(atom[1], []) if len(atom) > 1 else general).append(atom)
    lines = ["Still to reach: " + ("; ".join(todo) if todo else "nothing, the goal is reached.")]
    if done:
        lines.append("Already true: " + "; ".join(done))
    lines += [
        f"{obj}: " + "; ".join(map(fact_text, facts))
        for obj, facts in sorted(per_object.items(), key=lambda kv: _natural(kv[0]))
    ]
    if general:
        lines.append("Also true: " + "; ".join(map(fact_text, general)))
    return "\n".join(lines)
