"""A small text game of our own, registered for LearnAct without touching the framework:

    python run.py --graph learn --env examples.courier:COURIER
    python run.py --graph act --env examples.courier:COURIER --actions runs/<the learn run>

A courier in a house carries parcels between rooms, one at a time: ``go(room)``, ``take(parcel)``,
``drop(parcel)``. Instance ``gN`` is the game of seed N (``g1``-``g3`` train, ``g11``-``g14`` test). The
environment keeps the contract of environments/registry.py, its optional parts included (valid actions, a
state view, facts, and state/restore/objects_for for the creation trials and probes).
"""

from __future__ import annotations

import random
from typing import Any

from environments import PrimitiveSpec, TextEnv, TextEnvSpec, parse_call
from environments.base import ActionParseError

ROOMS = ("hall", "kitchen", "garage", "attic", "cellar")
PARCELS = ("box", "crate", "letter", "vase")
PRIMITIVES = (
    PrimitiveSpec(
        "go",
        ("room",),
        "Walk to another room.",
        "`room` is a room other than the one you are in.",
        "You are in `room`.",
    ),
    PrimitiveSpec(
        "take",
        ("parcel",),
        "Pick up a parcel.",
        "`parcel` is in your room; your hands are empty.",
        "You carry `parcel`.",
    ),
    PrimitiveSpec(
        "drop",
        ("parcel",),
        "Put the parcel you carry down.",
        "You carry `parcel`.",
        "`parcel` is in your room; your hands are empty.",
    ),
)


def game(instance: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """(start room, parcel -> room, parcel -> target room) of instance ``gN``."""
    if not (instance.startswith("g") and instance[1:].isdigit()):
        raise ValueError(f"courier has no instance {instance!r}; instances are g1, g2, ... (the game's seed)")
    rng = random.Random(int(instance[1:]))
    parcels = rng.sample(PARCELS, 1 + int(instance[1:]) % 3)
    where = {p: rng.choice(ROOMS) for p in parcels}
    target = {p: rng.choice([r for r in ROOMS if r != where[p]]) for p in parcels}
    return rng.choice(ROOMS), where, target


class CourierEnv(TextEnv):
    def __init__(self, instance: str, max_steps: int | None = None):
        super().__init__()
        self.instance, self.max_steps, self.primitives = instance, max_steps, PRIMITIVES
        self._start = game(instance)
        self.target = self._start[2]
        self.objects = ROOMS + tuple(self.target)
        self.goal = "Bring " + ", ".join(f"the {p} to the {r}" for p, r in self.target.items()) + "."
        self.reset()

    # -- the state: (your room, parcel -> room or "hand")
    @property
    def state(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.room, tuple(sorted(self.where.items()))

    def restore(self, state) -> None:
        self.room, self.where = state[0], dict(state[1])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.room, self.where = self._start[0], dict(self._start[1])
        self.steps, self.best = 0, 0.0
        return self.observe(), self._info(True)

    def step(self, action: str):
        self.steps += 1
        why = self._apply(action)
        info = self._info(why is None)
        if why is not None:
            info["reason"] = why
        truncated = bool(self.max_steps and self.steps >= self.max_steps and not info["success"])
        return (self.observe() if why is None else why), float(info["success"]), info["success"], truncated, info

    def _apply(self, action: str) -> str | None:
        """Change the state as ``action`` says, or say why it cannot (the state unchanged)."""
        try:
            name, args = parse_call(action)
        except ActionParseError as exc:
            return f"Invalid action: {exc}"
        if name not in ("go", "take", "drop") or len(args) != 1:
            return f"Unknown action {action!r}; the actions are go(room), take(parcel), drop(parcel)."
        arg, held = args[0], self.holding()
        if name == "go":
            if arg not in ROOMS or arg == self.room:
                return f"You cannot go to {arg!r}: it is not another room ({', '.join(r for r in ROOMS if r != self.room)})."
            self.room = arg
        elif name == "take":
            if self.where.get(arg) != self.room or held:
                return f"You cannot take {arg!r}: " + (
                    f"you already carry the {held}." if held else f"there is no {arg} in the {self.room}."
                )
            self.where[arg] = "hand"
        else:
            if held != arg:
                return f"You cannot drop {arg!r}: you do not carry it."
            self.where[arg] = self.room
        return None

    def holding(self) -> str | None:
        return next((p for p, r in self.where.items() if r == "hand"), None)

    def observe(self) -> str:
        here = [p for p, r in self.where.items() if r == self.room]
        held = self.holding()
        return (
            f"You are in the {self.room}. "
            + (f"Here: {', '.join(here)}. " if here else "No parcel here. ")
            + (f"You carry the {held}." if held else "Your hands are empty.")
        )

    def _info(self, valid: bool) -> dict[str, Any]:
        done = sum(1 for p, r in self.target.items() if self.where[p] == r)
        self.best = max(self.best, done / len(self.target))
        return {
            "valid": valid,
            "success": done == len(self.target),
            "progress": self.best,
            "goal": self.goal,
            "valid_actions": self.valid_actions(),
            "steps": self.steps,
        }

    def valid_actions(self) -> list[str]:
        held = self.holding()
        calls = [f"go('{r}')" for r in ROOMS if r != self.room]
        calls += [f"drop('{held}')"] if held else [f"take('{p}')" for p, r in self.where.items() if r == self.room]
        return sorted(calls)

    def facts(self) -> list[tuple[str, ...]]:
        return sorted(
            [("at", "you", self.room)] + [("carry", p) if r == "hand" else ("at", p, r) for p, r in self.where.items()]
        )

    def state_view(self) -> str:
        todo = [
            f"the {p} must go to the {r} (now {'in your hands' if self.where[p] == 'hand' else 'in the ' + self.where[p]})"
            for p, r in self.target.items()
            if self.where[p] != r
        ]
        return self.observe() + "\n" + ("To do: " + "; ".join(todo) + "." if todo else "Nothing left to do.")

    def objects_for(self, param: str) -> tuple[str, ...]:
        if "room" in param or param in ("src", "dst", "here", "there", "to", "from"):
            return ROOMS
        return tuple(self.target) if "parcel" in param or "item" in param else self.objects

    def goal_objects(self) -> tuple[str, ...]:
        return tuple(self.target)


def solve(env: CourierEnv) -> list[str]:
    """A plan from the reset state: for each parcel, go to it, take it, go to its room, drop it."""
    env.reset()
    plan, room = [], env.room
    for parcel, target in env.target.items():
        for call, dest in (
            (f"go('{env.where[parcel]}')", env.where[parcel]),
            (f"take('{parcel}')", None),
            (f"go('{target}')", target),
            (f"drop('{parcel}')", None),
        ):
            if dest is None or dest != room:
                plan.append(call)
                room = dest or room
    return plan


def record(instance: str) -> str:
    env = CourierEnv(instance)
    obs, _ = env.reset()
    lines = [f"Goal: {env.goal}", f"Observation: {obs}"]
    for call in solve(env):
        obs = env.step(call)[0]
        lines += [f"Action: {call}", f"Observation: {obs}"]
    return "\n".join(lines)


INSTRUCTION = f"""You are a courier in a house with the rooms {", ".join(ROOMS)}. Parcels ({", ".join(PARCELS)}) lie in the rooms.
You carry one parcel at a time. The task is to bring each parcel the goal names to its room.

Act with exactly one action per step, written as a Python call with the names in quotes, e.g. go('kitchen').
An action that cannot be done changes nothing; the observation then says why.

The actions:
""" + "\n".join(
    f"- {p.signature}: {p.description}\n  Requires: {p.preconditions}\n  Result: {p.effects}" for p in PRIMITIVES
)

COURIER = TextEnvSpec(
    make=lambda instance, **options: CourierEnv(instance, **options),
    instances={"train": ["g1", "g2", "g3"], "test": ["g11", "g12", "g13", "g14"]},
    instruction=INSTRUCTION,
    example=record("g5"),
)
