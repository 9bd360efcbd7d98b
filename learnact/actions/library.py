"""The learned-action library: an immutable value parsed from Python source with the AST.

Nothing here runs learned code; it is only parsed. Every change (new code, a usage note, a new
description) produces a new library in which the changed action has a new version whose
``parent_version`` is the old one, so a store can keep the full history.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from .sandbox_rules import function_problems

MAX_CODE_CHARS = 200_000
_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_FENCE_LANGS = {"", "python", "py", "python3"}


class ActionLibraryError(ValueError):
    """The code cannot be an action library (the message says why, with line numbers)."""


@dataclass(frozen=True)
class LearnedAction:
    """One version of one learned action (or helper, when the name starts with ``_``)."""

    name: str
    source: str
    signature: str
    params: tuple[str, ...]
    description: str = ""
    notes: list[str] = field(default_factory=list)
    version: int = 1
    parent_version: int | None = None
    iteration: int = 0
    reason: str = ""
    scores: dict[str, Any] = field(default_factory=dict)
    author: str = ""  # who wrote this version: "" the learner, "person" a reviewer's edit (nodes/review.py)
    # Positional arity accepted by a call: (minimum, maximum or None for *args).
    min_args: int = 0
    max_args: int | None = 0

    def __post_init__(self) -> None:
        # A checkpointer's serde (msgpack) gives sequences back as lists: the value stays the same.
        object.__setattr__(self, "params", tuple(self.params))

    @property
    def is_helper(self) -> bool:
        return self.name.startswith("_")

    def accepts(self, n_args: int) -> bool:
        return n_args >= self.min_args and (self.max_args is None or n_args <= self.max_args)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["params"] = list(self.params)
        if not self.author:  # the learner's: recorded as before authors existed
            del d["author"]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LearnedAction:
        try:
            return cls(
                **{
                    **d,
                    "params": tuple(d["params"]),
                    "notes": list(d.get("notes") or []),
                    "scores": dict(d.get("scores") or {}),
                }
            )
        except (KeyError, TypeError) as exc:
            raise ActionLibraryError(f"not a learned action record: {exc}") from None

    def source_problems(self, primitives: Iterable[str] = ()) -> list[str]:
        """Why the sandbox would refuse this action's code next to ``primitives`` (empty: it would run it)."""
        fn = ast.parse(self.source).body[0]
        assert isinstance(fn, ast.FunctionDef)
        return function_problems(fn, frozenset(primitives))


def strip_fences(text: str) -> str:
    """The Python inside an LLM reply: the ``` fenced python blocks joined, or the text itself."""
    if "```" not in text:
        return text
    blocks = [body for lang, body in _FENCE.findall(text) if lang.lower() in _CODE_FENCE_LANGS]
    return "\n\n".join(b.strip("\n") for b in blocks)


def _first_line(doc: str | None) -> str:
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _action_from_def(fn: ast.FunctionDef, code: str, **meta: Any) -> LearnedAction:
    a = fn.args
    positional = [p.arg for p in (*a.posonlyargs, *a.args)]
    params = tuple(positional + ([f"*{a.vararg.arg}"] if a.vararg else []))
    # Signatures are shown to the agent: drop annotations, they are noise in a prompt.
    shown = ast.unparse(_without_annotations(fn.args))
    return LearnedAction(
        name=fn.name,
        source=ast.get_source_segment(code, fn) or ast.unparse(fn),
        signature=f"{fn.name}({shown})",
        params=params,
        description=_first_line(ast.get_docstring(fn)),
        min_args=len(positional) - len(a.defaults),
        max_args=None if a.vararg else len(positional),
        **meta,
    )


def _without_annotations(args: ast.arguments) -> ast.arguments:
    copy = ast.parse(f"def f({ast.unparse(args)}): pass").body[0].args  # type: ignore[attr-defined]
    for arg in [*copy.posonlyargs, *copy.args, *copy.kwonlyargs, copy.vararg, copy.kwarg]:
        if arg is not None:
            arg.annotation = None
    return copy


def parse_functions(code: str) -> list[LearnedAction]:
    """Every top-level function of ``code`` (fences stripped), in order; version 1, no metadata.

    Raises ActionLibraryError for a syntax error, module-level statements other than function
    definitions (reported, never run), async functions, duplicate names or no function at all.
    A text is parsed once per process (:func:`_parsed`: a version's code is checked, rolled out, revised
    and stored many times); each call gets its own values.
    """
    if not isinstance(code, str):
        raise ActionLibraryError(f"expected Python source text, got {type(code).__name__}")
    return [replace(a, notes=[], scores={}) for a in _parsed(code)]


@lru_cache(maxsize=512)
def _parsed(code: str) -> tuple[LearnedAction, ...]:
    """The parse of one code text (pure: the same text, the same functions); an error is raised again each time."""
    code = strip_fences(code)
    if len(code) > MAX_CODE_CHARS:
        raise ActionLibraryError(f"the code is {len(code)} characters long; the limit is {MAX_CODE_CHARS}")
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ActionLibraryError(f"syntax error at line {exc.lineno}: {exc.msg}\n{(exc.text or '').rstrip()}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ActionLibraryError(f"the code cannot be parsed: {type(exc).__name__}: {exc}") from None
    problems: list[str] = []
    functions: list[ast.FunctionDef] = []
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.FunctionDef):
            functions.append(node)
        elif (
            i == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            continue  # a module docstring
        else:
            text = (ast.get_source_segment(code, node) or type(node).__name__).splitlines()[0][:80]
            problems.append(
                f"line {node.lineno}: module-level statement {text!r} (only function definitions are allowed; it was not run)"
            )
    seen: set[str] = set()
    for fn in functions:
        if fn.name in seen:
            problems.append(f"line {fn.lineno}: function {fn.name!r} is defined twice")
        seen.add(fn.name)
    if problems:
        raise ActionLibraryError("the code cannot be an action library:\n" + "\n".join(f"- {p}" for p in problems))
    if not functions:
        raise ActionLibraryError("the code defines no function; write each action as a top-level `def name(...):`")
    return tuple(_action_from_def(fn, code) for fn in functions)


def _check_names(actions: Iterable[LearnedAction], primitives: Iterable[str]) -> None:
    clash = sorted({a.name for a in actions} & set(primitives))
    if clash:
        raise ActionLibraryError(
            f"learned action name(s) {', '.join(clash)} collide with primitive actions; choose other names"
        )


@dataclass(frozen=True)
class ActionLibrary:
    """An immutable set of learned actions and helpers (source order). Build with :meth:`from_code`."""

    all_functions: tuple[LearnedAction, ...] = ()

    def __post_init__(self) -> None:
        # Graph state holds the library as this value: LangGraph's checkpointer stores a dataclass by its
        # fields (nodes/checkpoint.py) and gives the tuple back as a list.
        object.__setattr__(self, "all_functions", tuple(self.all_functions))

    # ------------------------------------------------------------------ construction
    @classmethod
    def empty(cls) -> ActionLibrary:
        return cls(())

    @classmethod
    def from_code(
        cls, code: str, *, primitives: Iterable[str] = (), iteration: int = 0, reason: str = "created"
    ) -> ActionLibrary:
        """Parse every top-level function of ``code`` (an LLM reply with a ```python block is fine).

        ``primitives``: names the actions must not reuse (the Executor checks this too).
        Safety is not judged here: the Executor refuses unsafe functions per call (kind "forbidden");
        :meth:`safety_problems` reports them up front.
        """
        actions = tuple(replace(a, iteration=iteration, reason=reason) for a in parse_functions(code))
        _check_names(actions, primitives)
        return cls(actions)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> ActionLibrary:
        if not d:
            return cls.empty()
        if not isinstance(d, Mapping) or not isinstance(d.get("actions"), list):
            raise ActionLibraryError("not an action library record: expected {'actions': [...]}")
        return cls(tuple(LearnedAction.from_dict(a) for a in d["actions"]))

    def to_dict(self) -> dict[str, Any]:
        return {"format": 1, "actions": [a.to_dict() for a in self.all_functions]}

    # ------------------------------------------------------------------ views
    @property
    def actions(self) -> tuple[LearnedAction, ...]:
        """The actions offered to the agent (helpers excluded), in source order."""
        return tuple(a for a in self.all_functions if not a.is_helper)

    @property
    def helpers(self) -> tuple[LearnedAction, ...]:
        return tuple(a for a in self.all_functions if a.is_helper)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the offered actions."""
        return tuple(a.name for a in self.actions)

    def get(self, name: str) -> LearnedAction | None:
        """The action or helper called ``name``, or None."""
        return next((a for a in self.all_functions if a.name == name), None)

    @property
    def code(self) -> str:
        """The full source of the current versions, helpers included."""
        return "\n\n\n".join(a.source for a in self.all_functions) + ("\n" if self.all_functions else "")

    def __len__(self) -> int:
        return len(self.all_functions)

    def render_actions(self) -> str:
        """One line per offered action: ``- signature: description`` (for prompts)."""
        return "\n".join(
            f"- {a.signature}: {a.description}" if a.description else f"- {a.signature}" for a in self.actions
        )

    def render_notes(self) -> str:
        """The usage notes ("Plan" notes) of the offered actions, grouped by action."""
        lines = []
        for a in self.actions:
            lines.extend(f"- {a.name}: {note}" for note in a.notes)
        return "\n".join(lines)

    def safety_problems(self, primitives: Iterable[str] = ()) -> dict[str, list[str]]:
        """{function name: reasons the sandbox refuses it} for the functions it would refuse."""
        out = {}
        primitives = frozenset(primitives)
        for a in self.all_functions:
            problems = a.source_problems(primitives)
            if problems:
                out[a.name] = problems
        return out

    def check_primitive_names(self, primitives: Iterable[str]) -> None:
        _check_names(self.all_functions, primitives)

    # ------------------------------------------------------------------ changes (new values)
    def _with(self, changed: dict[str, LearnedAction], added: list[LearnedAction] = ()) -> ActionLibrary:  # type: ignore[assignment]
        return ActionLibrary(tuple(changed.get(a.name, a) for a in self.all_functions) + tuple(added))

    @staticmethod
    def _next_version(old: LearnedAction, **updates: Any) -> LearnedAction:
        return replace(old, version=old.version + 1, parent_version=old.version, scores={}, **{"author": "", **updates})

    def with_update(
        self, code: str | ActionLibrary, *, iteration: int, reason: str, keep_notes: bool = True
    ) -> tuple[ActionLibrary, list[str]]:
        """Replace or add the functions defined in ``code`` (source text, or a library already parsed: a check's
        value); returns (new library, changed names).

        A function whose source is unchanged keeps its version. An updated one gets version+1 and
        keeps its usage notes (``keep_notes=False``: the reference's rule, an update clears them); it keeps its
        description unless the new code has a docstring.
        """
        changed: dict[str, LearnedAction] = {}
        added: list[LearnedAction] = []
        for new in code.all_functions if isinstance(code, ActionLibrary) else parse_functions(code):
            old = self.get(new.name)
            if old is None:
                added.append(replace(new, iteration=iteration, reason=reason))
            elif old.source.strip() != new.source.strip():
                changed[new.name] = self._next_version(
                    old,
                    source=new.source,
                    signature=new.signature,
                    params=new.params,
                    description=new.description or old.description,
                    min_args=new.min_args,
                    max_args=new.max_args,
                    iteration=iteration,
                    reason=reason,
                    notes=list(old.notes) if keep_notes else [],
                )
        return self._with(changed, added), [*changed, *(a.name for a in added)]

    def with_note(self, name: str, note: str, *, iteration: int, reason: str) -> ActionLibrary:
        """Attach a usage note to ``name`` (a new version with the same code)."""
        old = self.get(name)
        if old is None:
            raise ActionLibraryError(
                f"cannot add a note to {name!r}: no such action (known: {', '.join(self.names) or 'none'})"
            )
        note = (note or "").strip()
        if not note:
            raise ActionLibraryError("the note is empty")
        return self._with({name: self._next_version(old, notes=[*old.notes, note], iteration=iteration, reason=reason)})

    def with_descriptions(
        self, descriptions: Mapping[str, str], *, iteration: int | None = None, reason: str = "description"
    ) -> ActionLibrary:
        """Set one-line descriptions; an action whose description changes gets a new version."""
        changed = {}
        for name, text in descriptions.items():
            old = self.get(name)
            if old is None:
                raise ActionLibraryError(f"cannot describe {name!r}: no such action")
            text = _first_line(text)
            if text != old.description:
                it = old.iteration if iteration is None else iteration
                changed[name] = self._next_version(old, description=text, iteration=it, reason=reason)
        return self._with(changed)
