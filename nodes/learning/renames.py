"""Names that collide: a learned function named like a primitive (or a builtin the sandbox refuses) is
renamed, and the calls to it in the other functions follow; a plain pass-through of that primitive is
dropped instead."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

from learnact.actions.sandbox_rules import FORBIDDEN_NAMES

from .functions import Piece


def collision(name: str, primitives: Iterable[str]) -> str | None:
    """Why ``name`` cannot be a learned action's name, or None.

    Only primitives and the builtins the sandbox refuses collide; the read-only helpers learned
    code may call (observe, facts, ...) are not blocked here.
    """
    if name in primitives:
        return f"{name!r} is the name of a primitive action"
    if name in FORBIDDEN_NAMES:
        return f"{name!r} is a Python builtin the sandbox refuses"
    return None


def _fresh_name(name: str, taken: set[str]) -> str:
    new, n = f"learned_{name}", 2
    while new in taken:
        new, n = f"learned_{name}_{n}", n + 1
    return new


def _is_pass_through(fn: ast.FunctionDef, primitive: str) -> bool:
    """``def drop(a, b, c): return drop(a, b, c)``: nothing the primitive does not do already."""
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], (ast.Return, ast.Expr)):
        return False
    call = body[0].value
    if (
        not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == primitive)
        or call.keywords
    ):
        return False
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    return [getattr(a, "id", None) for a in call.args] == params


def _call_arity(call: ast.Call) -> int | None:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    return len(call.args) + len(call.keywords)


def _accepts(fn: ast.FunctionDef, n: int | None) -> bool:
    a = fn.args
    positional = len(a.posonlyargs) + len(a.args)
    return n is None or (
        positional - len(a.defaults) <= n and (a.vararg is not None or n <= positional + len(a.kwonlyargs))
    )


def _means_primitive(
    call: ast.Call | None, old: str, inside: str, learned: ast.FunctionDef, arities: Mapping[str, int]
) -> bool:
    """Does this reference to ``old`` (a primitive's name) mean the primitive rather than the renamed function?

    Inside the function itself a call that fits the primitive is the primitive it wraps (not a
    recursion); elsewhere it is the primitive only when it fits the primitive and not the function.
    """
    if old not in arities:
        return False
    if call is None:
        return inside == old
    n = _call_arity(call)
    fits = n is None or n == arities[old]
    return fits and (inside == old or not _accepts(learned, n))


def _replace_at(lines: list[str], lineno: int, col: int, old: str, new: str) -> None:
    raw = lines[lineno - 1].encode()  # ast columns are UTF-8 byte offsets
    if raw[col : col + len(old.encode())] == old.encode():
        lines[lineno - 1] = (raw[:col] + new.encode() + raw[col + len(old.encode()) :]).decode()


def _rewrite(piece: Piece, renames: Mapping[str, tuple[str, ast.FunctionDef]], arities: Mapping[str, int]) -> None:
    """Apply ``renames`` (old -> (new, the renamed function)) to one piece's source, in place."""
    fn = piece.node
    assert fn is not None
    calls = {id(c.func): c for c in ast.walk(fn) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
    edits = []
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and n.id in renames:
            new, learned = renames[n.id]
            if not _means_primitive(calls.get(id(n)), n.id, fn.name, learned, arities):
                edits.append((n.lineno, n.col_offset, n.id, new))
    if fn.name in renames:
        def_line = piece.source.splitlines()[fn.lineno - 1]
        m = re.search(rf"\bdef\s+({re.escape(fn.name)})\b", def_line)
        if m:
            edits.append((fn.lineno, len(def_line[: m.start(1)].encode()), fn.name, renames[fn.name][0]))
    if not edits:
        return
    lines = piece.source.splitlines()
    for lineno, col, old, new in sorted(edits, reverse=True):
        _replace_at(lines, lineno, col, old, new)
    piece.source = "\n".join(lines) + "\n"
    piece.node = ast.parse(piece.source).body[0]  # type: ignore[assignment]
    piece.name = piece.node.name


def rename_collisions(pieces: list[Piece], arities: Mapping[str, int]) -> list[dict[str, str]]:
    """Rename (in place) every kept function whose name collides, updating the calls to it.

    Returns one record per renamed function: {"from", "to", "reason"}. A function that only passes
    its arguments on to the primitive of the same name is dropped instead (the agent has the primitive).
    """
    taken = {p.name for p in pieces} | set(arities) | set(FORBIDDEN_NAMES)
    renames: dict[str, tuple[str, ast.FunctionDef]] = {}
    records = []
    for p in pieces:
        if p.reason is not None or p.node is None or not (why := collision(p.name, arities)):
            continue
        if p.name in arities and _is_pass_through(p.node, p.name):
            p.drop(
                f"{why}, and it only calls that primitive with its own arguments; the agent can call the primitive itself"
            )
            continue
        new = _fresh_name(p.name, taken)
        taken.add(new)
        renames[p.name] = (new, p.node)
        records.append({"from": p.name, "to": new, "reason": why})
    if renames:
        for p in pieces:
            if p.reason is None and p.node is not None:
                _rewrite(p, renames, arities)
    return records
