"""The learner's reply as code (fences stripped, module-level statements dropped), and its errors as the
live view and the repair loop compare them."""

from __future__ import annotations

import ast
import re

from learnact.actions import strip_fences

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration)\b")
_LINE_NUMBER = re.compile(r"\bline \d+")


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


def brief_error(text: str, limit: int = 240) -> str:
    """One line for the live view: the error's first line, and a traceback's last line (the exception)."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    brief = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
    return brief if len(brief) <= limit else brief[: limit - 3] + "..."
