"""The README's protocol table, generated from the table of settings (learnact.settings.table).

``python -m learnact.settings.render README.md`` rewrites the table between the markers
``<!-- protocol-table:start -->`` and ``<!-- protocol-table:end -->``; tests/unit/cli/test_settings.py checks that
the README holds what :func:`protocol_table` makes.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from .registry import SAME, Setting, render_value
from .table import SETTINGS

START, END = "<!-- protocol-table:start -->", "<!-- protocol-table:end -->"
HEADER = (
    "| setting | this project (default) | the paper (`--protocol paper`) | flag (`config.json` key) | what it does |\n"
    "|---|---|---|---|---|"
)


def in_table(s: Setting) -> bool:
    """A setting the protocols differ on: a small-model aid, or one with a paper value of its own."""
    return s.is_aid or s.paper is not SAME


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _ours(s: Setting) -> str:
    if s.is_aid:
        return f"`{render_value(s.assist['small'])}` with assist small, `{render_value(s.assist['none'])}` with none"
    if s.default_text:
        return _cell(s.default_text)
    return f"`{render_value(s.default)}`"


def _flags(s: Setting) -> str:
    negative = [f"--no-{s.option[2:]}"] if s.type is bool else []
    spellings = [s.option, *negative, *s.aliases, *s.negations] if s.flag else []
    return ", ".join(f"`{f}`" for f in spellings) + f" (`{s.name}`)"


def row(s: Setting) -> str:
    what = s.help + (f". Why this project's: {s.why}" if s.why else "")
    return f"| {s.name} | {_ours(s)} | `{render_value(s.paper_value)}` | {_flags(s)} | {_cell(what)} |"


def protocol_table(settings: Mapping[str, Setting] | None = None) -> str:
    """The protocol table, one row per setting the protocols differ on, in the table's order."""
    settings = SETTINGS if settings is None else settings
    return "\n".join([HEADER, *(row(s) for s in settings.values() if in_table(s))])


def table_region(text: str) -> str:
    """What the README holds between the markers (stripped)."""
    if START not in text or END not in text:
        raise ValueError(f"no {START} ... {END} region")
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def with_table(text: str, table: str) -> str:
    """``text`` with the region between the markers replaced by ``table``."""
    head, rest = text.split(START, 1)
    return f"{head}{START}\n{table}\n{END}{rest.split(END, 1)[1]}"


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(with_table(path.read_text(encoding="utf-8"), protocol_table()), encoding="utf-8")
