"""A reply's functions, one at a time: split (even when the whole does not parse), then dropped where the
sandbox would refuse one, where one calls a dropped one, or where one can never act."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from learnact.actions.sandbox_rules import function_problems

_DEF_LINE = re.compile(r"^(?:async\s+)?def\s+(\w+)", re.MULTILINE)


@dataclass
class Piece:
    """One top-level function of a reply: its source, its AST (None if it does not parse), and why it was dropped."""

    name: str
    source: str
    node: ast.FunctionDef | None = None
    reason: str | None = None  # None: kept

    def drop(self, reason: str) -> None:
        self.reason = reason


def _chunks(code: str) -> list[tuple[int, str]]:
    """(first line, text) of each top-level ``def`` of code that does not parse as a whole.

    A chunk runs from its def (with the decorators just above) to the next one, and stops early
    at a line in column 0 that cannot belong to the function (prose, a module-level call).
    """
    lines = code.splitlines()
    starts = [i for i, ln in enumerate(lines) if _DEF_LINE.match(ln)]
    out = []
    for n, start in enumerate(starts):
        first = start
        while first > 0 and lines[first - 1].startswith("@"):
            first -= 1
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body = [lines[first]]
        for ln in lines[first + 1 : end]:
            if ln.strip() and not ln[0].isspace() and ln[0] not in ")]}'\"#":
                break
            body.append(ln)
        out.append((first + 1, "\n".join(body).rstrip() + "\n"))
    return out


def split_functions(code: str) -> list[Piece]:
    """Every top-level function of ``code``, each parsed on its own; a function that does not parse,
    is async, or is defined again further down (the last definition wins, as in Python) comes back dropped."""
    code = textwrap.dedent(code)  # a reply indented as a whole (copied out of a class or a list item)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        chunks = _chunks(code)
    else:
        lines = code.splitlines()
        chunks = [
            (start, "\n".join(lines[start - 1 : node.end_lineno]) + "\n")
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for start in [node.decorator_list[0].lineno if node.decorator_list else node.lineno]
        ]
    pieces = [_parse_piece(start, text) for start, text in chunks]
    for i, piece in enumerate(pieces):
        if piece.reason is None and any(p.name == piece.name and p.reason is None for p in pieces[i + 1 :]):
            piece.drop("it is defined again further down; the last definition is kept")
    return pieces


def _parse_piece(start: int, text: str) -> Piece:
    match = _DEF_LINE.search(text)
    name = match.group(1) if match else f"line {start}"
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return Piece(name, text, reason=f"syntax error at line {start + (exc.lineno or 1) - 1}: {exc.msg}")
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fn is None:
        return Piece(name, text, reason="no function definition")
    if isinstance(fn, ast.AsyncFunctionDef):
        return Piece(fn.name, text, reason="async functions are not allowed")
    lines = text.splitlines()
    source = (
        "\n".join(lines[(fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno) - 1 : fn.end_lineno]) + "\n"
    )
    return Piece(fn.name, source, ast.parse(source).body[0])  # type: ignore[arg-type]


def names_used(fn: ast.FunctionDef) -> set[str]:
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def drop_dependents(pieces: list[Piece], primitives: Iterable[str]) -> None:
    """Drop every kept function that calls a dropped one (until nothing changes).

    A dropped function named like a primitive is not a dependency: calls by that name reach the primitive.
    """
    kept_names = {p.name for p in pieces if p.reason is None}
    dead = {p.name for p in pieces if p.reason is not None} - kept_names - set(primitives)
    changed = True
    while changed:
        changed = False
        for p in pieces:
            if p.reason is None and p.node is not None and (used := names_used(p.node) & dead):
                p.drop(f"it calls {', '.join(sorted(used))}, which was dropped")
                dead.add(p.name)
                changed = True


def called_names(fn: ast.FunctionDef) -> set[str]:
    return {n.func.id for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def drop_idle(pieces: list[Piece], primitives: Iterable[str]) -> None:
    """Drop the functions that can never act: they call no primitive, directly or through another kept
    function (the small learner writes ``return f"move({a}, {b})"`` and functions that only test facts)."""
    prims = set(primitives)
    kept = {p.name: p for p in pieces if p.reason is None and p.node is not None}
    acting = {name for name, p in kept.items() if called_names(p.node) & prims}
    changed = True
    while changed:
        changed = False
        for name, p in kept.items():
            if name not in acting and called_names(p.node) & acting:
                acting.add(name)
                changed = True
    for name, p in kept.items():
        if name not in acting:
            p.drop("it never calls a primitive action, so calling it cannot change anything")


def drop_refused(pieces: list[Piece], primitives: Iterable[str]) -> None:
    """Drop the functions the sandbox would refuse (imports, dunders, forbidden builtins ...)."""
    allowed = frozenset(primitives)
    for p in pieces:
        if p.reason is None and p.node is not None and (problems := function_problems(p.node, allowed)):
            p.drop("the sandbox refuses it: " + "; ".join(problems))
