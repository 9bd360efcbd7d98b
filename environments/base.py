"""Common ground for the text environments: primitive specs, call parsing, the base Env."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import gymnasium as gym


@dataclass(frozen=True)
class PrimitiveSpec:
    """One primitive action as the agent and the sandbox see it: ``name(param, ...)``."""

    name: str
    params: tuple[str, ...]
    description: str = ""
    # Human-readable pre/post-conditions, used by prompts (may be empty).
    preconditions: str = ""
    effects: str = ""

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


class ActionParseError(ValueError):
    """The text is not one call ``name('arg', ...)`` with literal string arguments."""


def parse_call(text: str) -> tuple[str, tuple[Any, ...]]:
    """Parse ``name('a', 'b')`` into ``("name", ("a", "b"))``.

    Only a single call of a bare name with positional literal arguments is accepted.
    Raises :class:`ActionParseError` with a message an agent can learn from.
    """
    text = (text or "").strip()
    if not text:
        raise ActionParseError("empty action: expected one call such as name('arg1', 'arg2')")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ActionParseError(f"not a valid Python call ({exc.msg}): {text!r}") from None
    node = tree.body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ActionParseError(f"expected exactly one call such as name('arg1', 'arg2'), got {text!r}")
    if node.keywords:
        raise ActionParseError("keyword arguments are not allowed; pass arguments by position")
    args = []
    for arg in node.args:
        try:
            args.append(ast.literal_eval(arg))
        except ValueError:
            raise ActionParseError(
                f"argument {ast.unparse(arg)!r} is not a literal; quote object names, e.g. 'ball1'"
            ) from None
    return node.func.id, tuple(args)


def format_call(name: str, args: tuple[Any, ...] | list[Any]) -> str:
    """The canonical text of a call: ``name('a', 'b')``."""
    return f"{name}({', '.join(repr(a) for a in args)})"


class TextEnv(gym.Env):
    """A gymnasium text environment whose actions are primitive calls in Python-call form.

    Subclasses set ``primitives`` and ``goal`` and implement ``reset``/``step``.
    ``step`` never raises for a bad action: it returns ``info["valid"] = False`` and an
    observation that explains why, leaving the state unchanged.
    ``info`` always carries ``valid``, ``success``, ``progress``, ``goal`` and ``valid_actions``.
    """

    metadata = {"render_modes": []}
    name: str = ""
    instance: str = ""
    primitives: tuple[PrimitiveSpec, ...] = ()
    goal: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.observation_space = gym.spaces.Text(max_length=100_000)
        self.action_space = gym.spaces.Text(max_length=10_000)

    @property
    def primitive_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.primitives)

    def valid_actions(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def state_view(self) -> str | None:
        """The current state and goal per object, for the agent's compact prompt; None where the
        environment has no structured state (the agent then reads the last observation)."""
        return None

    def typed_calls(self) -> list[str] | None:
        """Every well-typed primitive call (valid now or not), or None where they cannot be listed."""
        return None

    def objects_for(self, param: str) -> tuple[str, ...]:
        """Objects a learned action's parameter named ``param`` plausibly takes (all the env knows)."""
        return tuple(getattr(self, "objects", ()) or ())

    def goal_objects(self) -> tuple[str, ...]:
        """Objects the goal is about, in the goal's order (tried first where calls are sampled); none known here."""
        return ()

    def facts(self) -> list[tuple[str, ...]]:
        """The true facts of the current state as tuples; empty where the state is not symbolic."""
        return []
