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
    ``step`` never raises for a bad action: it returns ``info["valid"] = False`` and an observation that
    explains why, leaving the state unchanged.
    ``info`` always carries ``valid``, ``success``, ``progress``, ``goal`` and ``valid_actions``.

    Everything else the nodes use is declared here with a default that means "not known here" (the nodes call
    it unconditionally; an environment overrides what it can answer): ``objects``, ``state``, ``observe``,
    ``valid_actions``, ``state_view``, ``typed_calls``, ``call_pools``, ``objects_for``, ``goal_objects``,
    ``facts``, ``changing_predicates``. ``state`` with ``restore(state)`` (not declared: an environment that
    can put the world back defines it) lets the creation trials and the probes try calls from one state.
    """

    metadata = {"render_modes": []}
    name: str = ""
    instance: str = ""
    primitives: tuple[PrimitiveSpec, ...] = ()
    goal: str = ""
    objects: tuple[str, ...] = ()  # the instance's object names, where known (the grammar's learned-call arguments)
    state: Any = None  # the symbolic state (a value: compared, saved, restored), where there is one

    def __init__(self) -> None:
        super().__init__()
        self.observation_space = gym.spaces.Text(max_length=100_000)
        self.action_space = gym.spaces.Text(max_length=10_000)

    @property
    def primitive_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.primitives)

    def observe(self) -> str:
        """The current state as text, without acting (learned code's ``observe()``); "" where it cannot be read."""
        return ""

    def valid_actions(self) -> list[str] | None:
        """The primitive calls that apply now; None where they cannot be listed."""
        return None

    def state_view(self) -> str | None:
        """The current state and goal per object, for the agent's compact prompt; None where the
        environment has no structured state (the agent then reads the last observation)."""
        return None

    def typed_calls(self) -> list[str] | None:
        """Every well-typed primitive call (valid now or not), or None where they cannot be listed."""
        return None

    def call_pools(self) -> dict[str, list[list[str]]] | None:
        """Each primitive's argument pools (one list of names per parameter), where the calls are not listed but
        their arguments are known (ALFWorld: typed names seen so far); None otherwise."""
        return None

    def objects_for(self, param: str) -> tuple[str, ...]:
        """Objects a learned action's parameter named ``param`` plausibly takes (all the env knows)."""
        return tuple(self.objects)

    def goal_objects(self) -> tuple[str, ...]:
        """Objects the goal is about, in the goal's order (tried first where calls are sampled); none known here."""
        return ()

    def facts(self) -> list[tuple[str, ...]]:
        """The true facts of the current state as tuples; empty where the state is not symbolic."""
        return []

    def changing_predicates(self) -> frozenset[str] | None:
        """The predicates of ``facts()`` that actions can change (the rest describe the instance); None: unknown."""
        return None
