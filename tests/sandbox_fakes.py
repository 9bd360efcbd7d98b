"""A tiny gripper-like TextEnv for the action/sandbox tests (no data, no PDDL)."""

from __future__ import annotations

from environments.base import PrimitiveSpec, TextEnv, parse_call


class ToyGripper(TextEnv):
    """Two rooms, balls, two grippers. Goal: every ball in roomb."""

    name = "toy/gripper"
    primitives = (
        PrimitiveSpec("move", ("src", "dst")),
        PrimitiveSpec("pick", ("obj", "room", "gripper")),
        PrimitiveSpec("drop", ("obj", "room", "gripper")),
    )

    def __init__(self, balls: tuple[str, ...] = ("ball1", "ball2")) -> None:
        super().__init__()
        self.balls = balls
        self.goal = " and ".join(f"{b} is at roomb" for b in balls)
        self.reset()

    def reset(self, *, seed=None, options=None):
        self.robot = "rooma"
        self.at = {b: "rooma" for b in self.balls}
        self.holding: dict[str, str | None] = {"left": None, "right": None}
        self.steps = 0
        return self.describe(), self.info(True)

    def state(self) -> tuple:
        return (self.robot, tuple(sorted(self.at.items())), tuple(sorted(self.holding.items())))

    def describe(self) -> str:
        parts = [f"Robby is at {self.robot}."]
        parts += [f"{b} is at {r}." for b, r in self.at.items() if r]
        parts += [f"The {g} gripper holds {b}." if b else f"The {g} gripper is free." for g, b in self.holding.items()]
        return " ".join(parts)

    def info(self, valid: bool) -> dict:
        done = sum(self.at.get(b) == "roomb" for b in self.balls)
        return {
            "valid": valid,
            "success": done == len(self.balls),
            "progress": done / len(self.balls),
            "goal": self.goal,
            "valid_actions": [],
        }

    def _apply(self, name: str, args: tuple) -> str | None:
        """None when applied, else why not."""
        if name == "move" and len(args) == 2:
            if self.robot != args[0] or args[1] not in ("rooma", "roomb"):
                return f"Robby is not at {args[0]}" if self.robot != args[0] else f"{args[1]} is not a room"
            self.robot = args[1]
            return None
        if name == "pick" and len(args) == 3:
            obj, room, g = args
            if self.at.get(obj) != room or self.robot != room or self.holding.get(g, "x") is not None:
                return f"cannot pick {obj} in {room} with {g}"
            self.at[obj], self.holding[g] = None, obj
            return None
        if name == "drop" and len(args) == 3:
            obj, room, g = args
            if self.holding.get(g) != obj or self.robot != room:
                return f"cannot drop {obj} in {room} with {g}"
            self.at[obj], self.holding[g] = room, None
            return None
        return f"{name} is not an action here"

    def step(self, action: str):
        self.steps += 1
        try:
            name, args = parse_call(action)
        except ValueError as exc:
            return f"Invalid action: {exc}", 0.0, False, False, self.info(False)
        why = self._apply(name, args)
        if why is not None:
            return f"The action {action} is not valid because {why}.", 0.0, False, False, self.info(False)
        info = self.info(True)
        return self.describe(), float(info["success"]), info["success"], False, info
