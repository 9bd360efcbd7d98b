"""The README is a user's guide of bounded length with the two commands the CI relies on, its links resolve, and no
file of the project points at notes outside the repository."""

from __future__ import annotations

import re
import subprocess

from conftest_helpers import ROOT

README = ROOT / "README.md"
MAX_README_LINES = 250
START, END = "<!-- protocol-table:start -->", "<!-- protocol-table:end -->"
# Paths and section marks of documents that live outside the repository (the team's design card and notes).
OUTSIDE = re.compile(r"DESIGN\.md|DESIGN §|shared/notes|\.\./shared/(?!data)")


def tracked(*suffixes: str) -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [p for p in out.splitlines() if p.endswith(suffixes) and (ROOT / p).is_file()]


def test_readme_is_short_and_keeps_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < MAX_README_LINES
    assert "make learn" in text and "make test" in text
    assert "`make test` is the test command" in text


def test_the_protocol_table_sits_between_its_markers():
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1
    section = text.split("## Protocol: this project vs the paper", 1)[1].split("\n## ", 1)[0]
    inside = section.split(START, 1)[1].split(END, 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows and all(row in inside for row in rows)


def test_the_readme_s_relative_links_resolve():
    text = README.read_text(encoding="utf-8")
    links = [t for t in re.findall(r"\]\(([^)#]+)\)", text) if not t.startswith(("http://", "https://"))]
    assert "docs/results.md" in links
    assert [t for t in links if not (ROOT / t).exists()] == []


def test_no_file_points_at_notes_outside_the_repository():
    """Docstrings, comments and documents say what they cite instead of pointing at the team's design card or notes.
    The README's protocol table is generated from the settings (Python, checked here), so it is left to its source."""
    found = []
    for path in tracked(".py", ".md", ".toml", ".json", "Makefile"):
        text = (ROOT / path).read_text(encoding="utf-8", errors="replace")
        if path == "README.md" and START in text:
            text = text.split(START, 1)[0] + text.split(END, 1)[-1]
        if path == "tests/test_docs.py":
            continue
        found += [f"{path}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert found == []
