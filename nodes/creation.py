"""From a learner's reply to a working set of learned actions, one function at a time.

A small model's answer is rarely all good, and sending the whole set back for repair until every
function works loses everything when one never does (the embedded model once repeated the same
unpacking error through 4 repairs, and kept naming a function after a primitive through 4 more).
So each function is judged alone:

- a function named like a primitive (or like a builtin the sandbox refuses) is renamed, and calls
  to it in the other functions follow; a plain pass-through of that primitive is dropped instead;
- a function that does not parse, that the sandbox would refuse, or that raises when the check
  calls it is dropped, and so is every function that calls a dropped one;
- the rest is kept. Only when nothing is left (or, for a revision, when anything failed) does the
  learner get a repair prompt, which shows the earlier failed attempts; repairs stop as soon as the
  same error comes back.

Nothing here runs learned code except through the sandbox executor.
"""
from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from actions import ActionLibrary, ActionLibraryError, Executor, strip_fences
from actions.sandbox_rules import FORBIDDEN_NAMES, function_problems
from environments import parse_call

from .demonstrations import action_lines

# Error kinds that mean the learned code itself is broken, as opposed to a call with wrong
# arguments or a primitive that did not apply in the current state.
CODE_ERROR_KINDS = {"exception", "timeout", "memory", "primitive_limit", "output_limit", "worker_crash", "forbidden"}

_DEF_LINE = re.compile(r"^(?:async\s+)?def\s+(\w+)", re.MULTILINE)
_LEARNED_FRAME = re.compile(r'File "<learned>", line \d+, in (\w+)')
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration)\b")
_LINE_NUMBER = re.compile(r"\bline \d+")


# ---------------------------------------------------------------- reply cleaning


def functions_only(code: str) -> str:
    """Keep the top-level function definitions of an LLM reply, drop everything else.

    Small models like to add example calls or globals at module level. Those are never run
    (the library refuses them); dropping them here keeps the functions instead of failing the
    whole candidate. Code that does not parse is returned unchanged (the salvage below splits it).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines()
    kept = [
        "\n".join(lines[(node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1 : node.end_lineno])
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return "\n\n\n".join(kept) + "\n" if kept else code


def clean_reply(reply: str) -> str:
    """The functions of a learner's reply: fences stripped, module-level statements dropped."""
    return functions_only(strip_fences(reply or ""))


def error_key(text: str) -> str:
    """What makes two errors "the same": the exception lines (else the first line), line numbers blanked."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    picked = [ln for ln in lines if _EXCEPTION_LINE.match(ln)] or lines[:1]
    return "\n".join(sorted({_LINE_NUMBER.sub("line N", ln) for ln in picked}))


# ---------------------------------------------------------------- one function at a time


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
    source = "\n".join(lines[(fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno) - 1 : fn.end_lineno]) + "\n"
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


# ---------------------------------------------------------------- names that collide


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
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == primitive) or call.keywords:
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
    return n is None or (positional - len(a.defaults) <= n and (a.vararg is not None or n <= positional + len(a.kwonlyargs)))


def _means_primitive(call: ast.Call | None, old: str, inside: str, learned: ast.FunctionDef, arities: Mapping[str, int]) -> bool:
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
            p.drop(f"{why}, and it only calls that primitive with its own arguments; the agent can call the primitive itself")
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


# ---------------------------------------------------------------- smoke run, per function


def culprit(message: str, library: ActionLibrary) -> str | None:
    """The innermost learned function in a sandbox traceback."""
    for name in reversed(_LEARNED_FRAME.findall(message or "")):
        if library.get(name) is not None:
            return name
    return None


def smoke_failures(library: ActionLibrary, env, calls: Iterable[str], **executor_kwargs) -> dict[str, str]:
    """Run ``calls`` in order in the sandbox on ``env`` (reset); {function: error} for the code errors.

    An exception is charged to the innermost learned function of its traceback, any other code
    error to the function called. Calls to a function that already failed are skipped; the others
    still run, so one broken function does not hide the state of the rest.
    """
    env.reset()
    failed: dict[str, str] = {}
    with Executor(env, library, **executor_kwargs) as ex:
        for call in calls:
            try:
                name = parse_call(call)[0]
            except ValueError:
                continue
            if name in failed or library.get(name) is None:
                continue
            result = ex.run(call)
            kind = getattr(result.error, "kind", None)
            if kind in CODE_ERROR_KINDS:
                to_blame = (culprit(result.error.message, library) if kind == "exception" else None) or name
                failed.setdefault(to_blame, f"Calling {call} failed ({kind}):\n{result.error.message}")
    return failed


# ---------------------------------------------------------------- one check, and the repair loop


@dataclass
class Checked:
    """The outcome of checking one piece of code."""

    pieces: list[Piece]
    renamed: list[dict[str, str]] = field(default_factory=list)
    library: ActionLibrary | None = None  # the kept functions, or None when no action is left
    given: str = ""  # the code as it came

    @property
    def code(self) -> str:
        """Every function as checked (renames applied), dropped ones included: what a repair starts
        from. A reply without any function is kept as it came."""
        if not self.pieces:
            return self.given
        return "\n\n".join(p.source.rstrip() + "\n" for p in self.pieces)

    @property
    def dropped(self) -> list[dict[str, str]]:
        return [{"name": p.name, "reason": p.reason, "code": p.source} for p in self.pieces if p.reason is not None]

    def error(self, strict: bool = False) -> str | None:
        """Why the code is not good enough: nothing kept, or (``strict``) anything dropped; else None."""
        dropped = [p for p in self.pieces if p.reason is not None]
        if self.library is not None and not (strict and dropped):
            return None
        if not self.pieces:
            return "the code defines no function; write each action as a top-level `def name(...):`"
        if not dropped:
            return "the code defines no action (a function whose name does not start with '_')"
        return "\n\n".join(f"{p.name}: {p.reason}" for p in dropped)


def _library(pieces: list[Piece], primitives: Iterable[str]) -> ActionLibrary | None:
    kept = [p.source for p in pieces if p.reason is None]
    if not kept:
        return None
    try:
        library = ActionLibrary.from_code("\n\n".join(kept), primitives=primitives)
    except ActionLibraryError:
        return None
    return library if library.actions else None


def check_code(code: str, arities: Mapping[str, int], smoke: Callable[[ActionLibrary], dict[str, str]] | None = None) -> Checked:
    """Split, rename, drop what fails (statically, then in ``smoke``), and keep the rest.

    ``arities``: the primitives' names and argument counts. ``smoke(library)`` runs the check's
    calls and returns {function: error}.
    """
    pieces = split_functions(code)
    renamed = rename_collisions(pieces, arities)
    drop_refused(pieces, arities)
    drop_dependents(pieces, arities)
    drop_idle(pieces, arities)
    library = _library(pieces, arities)
    if library is not None and smoke is not None and (failed := smoke(library)):
        for p in pieces:
            if p.reason is None and p.name in failed:
                p.drop(failed[p.name])
        drop_dependents(pieces, arities)
        library = _library(pieces, arities)
    return Checked(pieces, renamed, library, given=code)


@dataclass
class Outcome:
    """The last check, and every failed attempt on the way (code and error of each)."""

    checked: Checked
    tries: list[dict[str, str]]
    stop: str | None = None  # why repairs stopped without working code

    @property
    def library(self) -> ActionLibrary | None:
        return self.checked.library if self.stop is None else None


def check_with_repairs(
    code: str,
    check: Callable[[str], Checked],
    repair: Callable[[str, str, list[dict[str, str]]], str],
    tries: int,
    *,
    strict: bool = False,
    on_repair: Callable[[int, str], None] | None = None,
    earlier: Iterable[dict[str, str]] = (),
) -> Outcome:
    """Check ``code``; while it is not good enough, ``repair(code, error, earlier tries)`` up to ``tries`` times.

    ``earlier``: failed tries of the same candidate in an earlier check, each of which was repaired
    (a repair sees them too).
    Repairs stop early when an attempt fails with the same error (see :func:`error_key`) as the
    attempt before it: a small model that repeats a mistake once repeats it again.
    """
    history: list[dict[str, str]] = list(earlier)
    first_new = len(history)
    for attempt in range(tries + 1):
        checked = check(code)
        error = checked.error(strict)
        if error is None:
            return Outcome(checked, history[first_new:])
        history.append({"code": checked.code, "error": error})
        if len(history) >= 2 and error_key(history[-1]["error"]) == error_key(history[-2]["error"]):
            return Outcome(checked, history[first_new:], stop=f"the same error came back (attempt {len(history)}); repairs stopped")
        if attempt == tries:
            break
        if on_repair is not None:
            on_repair(len(history), error)  # repairs are numbered over the candidate's whole creation
        code = repair(checked.code, error, history[:-1])
    return Outcome(checked, history[first_new:], stop=f"out of repairs ({len(history) - 1} made)")


def render_attempts(earlier: list[dict[str, str]], max_error_lines: int = 6) -> str:
    """The earlier failed attempts for the repair prompt (empty when there are none)."""
    if not earlier:
        return ""
    parts = ["Earlier attempts that failed too (do not repeat their mistakes):"]
    for i, t in enumerate(earlier, 1):
        error = "\n".join(t["error"].strip().splitlines()[-max_error_lines:])
        parts.append(f"Attempt {i}:\n```python\n{t['code'].strip()}\n```\nError:\n{error}")
    return "\n\n".join(parts) + "\n\n"


# ---------------------------------------------------------------- demonstrations and the record



def demo_names(demonstration: str) -> list[str]:
    """The names called on the demonstration's Action lines, in order."""
    names = []
    for line in action_lines(demonstration):
        try:
            names.append(parse_call(line)[0])
        except ValueError:
            continue
    return names


def demo_calls(demonstration: str, library: ActionLibrary) -> list[str]:
    """Learned-action calls in a demonstration, in order (these are the smoke test)."""
    calls = []
    for line in action_lines(demonstration):
        try:
            name, _ = parse_call(line)
        except ValueError:
            continue
        if library.get(name) is not None:
            calls.append(line)
    return calls


def shows_lost_actions(demonstration: str, before: ActionLibrary, after: ActionLibrary) -> set[str]:
    """Actions the demonstration calls that were in ``before`` but are not in ``after`` (dropped by its check)."""
    return {n for n in demo_names(demonstration) if before.get(n) is not None and after.get(n) is None}


def creation_record(cid: str, final: Outcome, outcomes: list[Outcome], demonstration: str) -> dict:
    """The state record of a created candidate: its library (or None), and what was dropped, renamed and tried on the way."""
    tries = [t for o in outcomes for t in o.tries]
    library = final.library
    dropped, renamed, seen = [], [], set()
    for o in outcomes:
        for d in o.checked.dropped:
            if library is not None and library.get(d["name"]) is not None:
                continue  # dropped by a later check that was given up (the library is an earlier one's)
            if (d["name"], d["reason"]) not in seen:
                seen.add((d["name"], d["reason"]))
                dropped.append(d)
        renamed += [r for r in o.checked.renamed if r not in renamed]
    return {
        "id": cid, "round": 0, "origin": "create", "parent": None, "reason": "created",
        "library": library.to_dict() if library is not None else None,
        "demonstration": demonstration,
        "code": library.code if library is not None else final.checked.code,
        "attempts": [t["error"] for t in tries],
        "tries": tries,
        "dropped_functions": dropped,
        "renamed": renamed,
        "repair_stop": final.stop,
        "error": None if library is not None else (tries[-1]["error"] if tries else final.checked.error() or "no code"),
    }  # fmt: skip
