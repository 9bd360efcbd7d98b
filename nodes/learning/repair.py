"""One check of a reply's code, function by function, and the decision of the repair loop around it (``judge``;
the loop: graphs/repair.py).

A small model's answer is rarely all good, and sending the whole set back for repair until every
function works loses everything when one never does (the embedded model once repeated the same
unpacking error through 4 repairs, and kept naming a function after a primitive through 4 more).
So each function is judged alone (nodes/learning/functions.py, renames.py, smoke.py) and the rest is
kept. Only when nothing is left (or, for a revision, when anything failed) does the learner get a
repair prompt, which shows the earlier failed attempts; repairs stop as soon as the same error comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from learnact.actions import ActionLibrary, ActionLibraryError

from .functions import Piece, drop_dependents, drop_idle, drop_refused, split_functions
from .renames import rename_collisions
from .reply import error_key


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


def check_code(
    code: str, arities: Mapping[str, int], smoke: Callable[[ActionLibrary], dict[str, str]] | None = None
) -> Checked:
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


def judge(
    checked: Checked, history: list[dict[str, str]], budget: int, *, strict: bool = False
) -> tuple[str | None, str | None]:
    """(error, stop) after one check: error None when the code is good enough; else the failed try is
    appended to ``history`` (every failed try of the candidate so far, in order) and ``stop`` is None when
    a repair may follow, or says why repairs stop: the same error as the try before (see :func:`error_key`),
    or ``budget`` tries already repaired."""
    error = checked.error(strict)
    if error is None:
        return None, None
    history.append({"code": checked.code, "error": error})
    if len(history) >= 2 and error_key(history[-1]["error"]) == error_key(history[-2]["error"]):
        return error, f"the same error came back (attempt {len(history)}); repairs stopped"
    if len(history) > budget:
        return error, f"out of repairs ({len(history) - 1} made)"
    return error, None


def render_attempts(earlier: list[dict[str, str]], max_error_lines: int = 6) -> str:
    """The earlier failed attempts for the repair prompt (empty when there are none)."""
    if not earlier:
        return ""
    parts = ["Earlier attempts that failed too (do not repeat their mistakes):"]
    for i, t in enumerate(earlier, 1):
        error = "\n".join(t["error"].strip().splitlines()[-max_error_lines:])
        parts.append(f"Attempt {i}:\n```python\n{t['code'].strip()}\n```\nError:\n{error}")
    return "\n\n".join(parts) + "\n\n"
