"""``run.py --graph learn --review``: the person's side of a review (nodes/review.py) in the terminal.

The learning graph stops at its review with an interrupt; this asks, per new or changed function, with its diff
(coloured where the terminal has colour), ``a`` approve, ``r`` reject (with a reason the learner is told) or ``e``
edit (``$EDITOR`` opens the code), and resumes the graph with ``Command(resume=answers)``. Without a terminal
(CI, a pipe) ``--review`` is refused before the run starts: nobody could answer.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from .errors import UserError

NO_TERMINAL = (
    "--review asks you in the terminal, and stdin is not one (a pipe or CI); run it in a terminal, or review "
    "in Studio (langgraph dev, context field review)"
)
CHOICES = "[a]pprove  [r]eject  [e]dit"


def require_terminal(settings: dict[str, Any], stdin=None) -> None:
    """Refuse a run with ``review`` when nobody can answer (stdin not a terminal)."""
    stdin = stdin or sys.stdin
    if settings.get("review") and not (hasattr(stdin, "isatty") and stdin.isatty()):
        raise UserError(NO_TERMINAL)


class TerminalReview:
    """Asks a ``ReviewRequest``'s questions; ``ask`` reads one line, ``edit`` opens an editor on code."""

    def __init__(self, console=None, ask: Callable[[str], str] | None = None, edit: Callable[[str], str] | None = None):
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False)
        self.ask = ask or self._input
        self.edit = edit or open_editor

    def _input(self, prompt: str) -> str:
        self.console.print(prompt, end="", markup=False)
        try:
            return input()
        except EOFError:  # Ctrl-D: stop here; the review waits in the checkpoint for --resume
            raise KeyboardInterrupt from None

    def __call__(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        functions = request.get("functions", [])
        self.console.rule(
            f"[bold]review of round {request.get('round', 0)}: {len(functions)} new or changed function(s)"
        )
        for problem in request.get("problems", []):
            self.console.print(f"[bold red]not taken:[/] {problem}", markup=True, highlight=False)
        return [self.one(f) for f in functions]

    def show(self, f: dict[str, Any]) -> None:
        from rich.syntax import Syntax

        self.console.print(
            f"\n[bold cyan]{f['candidate_id']} · {f['name']}[/] ({f['status']}, v{f['version']})", markup=True
        )
        if f.get("description"):
            self.console.print(f"  {f['description']}", markup=False)
        for evidence in f.get("judged_by", []):
            head, _, rest = evidence.partition("\n")
            self.console.print(f"  [dim]{head}[/]", markup=True)
            lines = rest.splitlines()
            for line in lines[:10]:
                self.console.print(f"    {line}", style="dim", markup=False)
            if len(lines) > 10:
                self.console.print(f"    ... ({len(lines) - 10} more lines)", style="dim", markup=False)
        self.console.print(
            Syntax(f["diff"].rstrip("\n") or f["code"], "diff", theme="ansi_dark", background_color="default")
        )

    def one(self, f: dict[str, Any]) -> dict[str, Any]:
        """The person's answer for one function."""
        self.show(f)
        key = {"candidate_id": f["candidate_id"], "name": f["name"]}
        while True:
            choice = self.ask(f"{f['name']}? {CHOICES}: ").strip().lower()[:1]
            if choice == "a":
                return {**key, "decision": "approve"}
            if choice == "r":
                reason = self.ask("reason (the learner is told): ").strip()
                return {**key, "decision": "reject", "reason": reason}
            if choice == "e":
                code = self.edit(f["code"])
                if code.strip() == f["code"].strip():
                    self.console.print("the code is unchanged; answer again", style="yellow")
                    continue
                reason = self.ask("what you changed (optional, kept in the history): ").strip()
                return {**key, "decision": "edit", "code": code, "reason": reason}
            self.console.print(f"answer a, r or e ({CHOICES})", style="yellow")


def open_editor(code: str) -> str:
    """``code`` after ``$VISUAL`` / ``$EDITOR`` (default vi) edited it in a temporary ``.py`` file."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="learnact-review-") as folder:
        path = os.path.join(folder, "edit.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(code)
        try:
            status = subprocess.call([*shlex.split(editor), path])
        except OSError as exc:
            raise UserError(f"the editor {editor!r} could not start ({exc.strerror}); set $EDITOR") from None
        if status != 0:
            print(f"the editor exited with status {status}; the code is left as it was", file=sys.stderr)
            return code
        with open(path, encoding="utf-8") as f:
            return f.read()


def answer_reviews(graph, config: dict[str, Any], go: Callable[[Any], dict], progress=None, ask=None) -> dict | None:
    """While the graph waits at a review, ask and resume it (``go(Command(resume=answers))`` streams it on);
    the final values of the last ``go`` (None when no review was pending)."""
    from langgraph.types import Command

    ask = ask or TerminalReview()
    final = None
    while (snapshot := graph.get_state(config)).interrupts:
        request = snapshot.interrupts[0].value
        if progress is not None:
            progress.pause()  # the live panel would redraw over the questions
        answers = ask(request)
        final = go(Command(resume=answers))
    return final
