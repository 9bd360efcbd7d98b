"""The report's action library section: every version of every learned action in the best candidate's lineage, each
marked as written by the learner or by a person (a reviewer's edit, nodes/review.py), and the review's decisions with
the reviewer's reasons (``candidates/<id>.json`` ``review``)."""

from __future__ import annotations

from html import escape
from typing import Any

from .html import pre, render_diff, slug, table, td, text
from .report_data import library_timeline, notes_text, version_meta_rows
from .run_data import LibraryVersion, RunData

DECISION_TAGS = {
    "approve": '<span class="tag ok">approved</span>',
    "reject": '<span class="tag fail">rejected</span>',
    "edit": '<span class="tag best">edited</span>',
}


def written_by(v: LibraryVersion) -> str:
    """``a person`` for a reviewer's version, else ``the learner``."""
    return "a person" if v.meta.get("author") == "person" else "the learner"


def review_rows(run: RunData) -> list[dict[str, Any]]:
    """Every decision of a person's review, oldest round first: {round, candidate, name, decision, reason}."""
    rows = []
    for cid, meta in run.candidates.items():
        for d in meta.get("review") or []:
            if isinstance(d, dict):
                rows.append({"round": meta.get("round", 0), "candidate": cid, **d})
    return sorted(
        rows, key=lambda r: (r["round"] if isinstance(r["round"], int) else 0, r["candidate"], str(r.get("name")))
    )


def section_review(run: RunData) -> str:
    """The review's decisions with the reviewer's reasons ("" when no person reviewed this run)."""
    rows = review_rows(run)
    if not rows:
        return ""
    body = [
        [
            td(text(r["round"]), True),
            td(f'<a href="#cand-{slug(r["candidate"])}">{escape(r["candidate"])}</a>'),
            td(escape(str(r.get("name", "")))),
            td(DECISION_TAGS.get(str(r.get("decision")), escape(str(r.get("decision"))))),
            td(escape(str(r.get("reason") or ""))),
        ]
        for r in rows
    ]
    return (
        '<h3 id="review">Reviewed by a person</h3><p>Each new or changed function a person saw before it was rolled out, '
        "and the answer: a rejection's reason was told to the learner; an edit is a version written by a person.</p>"
        + table(["round", "candidate", "function", "decision", "reason"], body)
    )


def _version_card(name: str, v: LibraryVersion, by_number: dict[int, LibraryVersion]) -> str:
    rows = [("written by", written_by(v)), *version_meta_rows(v)]
    body = [table(["", ""], [[f"<th>{escape(k)}</th>", td(escape(x))] for k, x in rows])]
    if note_text := notes_text(v):
        body.append(f"<p><b>Plan notes</b></p>{pre(note_text)}")
    failure = v.meta.get("failure")
    if failure:
        body.append(f"<details><summary>failure that caused this revision</summary>{pre(str(failure))}</details>")
    body.append(f"<details><summary>code</summary>{pre(v.code) or '<p>(file missing)</p>'}</details>")
    parent = by_number.get(v.parent_version) if v.parent_version is not None else None
    if parent is not None:
        body.append(
            f"<details open><summary>diff against v{parent.version}</summary>"
            f"{render_diff(parent.code, v.code, f'{name} v{parent.version}', f'{name} v{v.version}')}</details>"
        )
    tag = ' <span class="tag best">written by a person</span>' if written_by(v) == "a person" else ""
    return f'<div class="card" id="lib-{slug(name)}-v{v.version}"><b>{escape(name)} v{v.version}</b>{tag}{"".join(body)}</div>'


def section_library(run: RunData) -> str:
    review = section_review(run)
    if not run.library and not run.demonstration and not review:
        return ""
    out = [
        '<section id="library"><h2>Action library timeline</h2>',
        "<p>Every version of every learned action in the best candidate's lineage: the code, the change against the "
        "parent version, why it changed, who wrote it and the usage notes (Plan) attached to it.</p>",
    ]
    timeline = library_timeline(run)
    authors = {(v.name, v.version): written_by(v) for vs in run.library.values() for v in vs}
    if timeline:
        out.append(
            table(
                ["iteration", "action", "version", "reason", "written by"],
                [
                    [
                        td(text(it), True),
                        td(f'<a href="#lib-{slug(name)}-v{ver}">{escape(name)}</a>'),
                        td(f"v{ver}", True),
                        td(escape(reason)),
                        td(authors.get((name, ver), "")),
                    ]
                    for it, name, ver, reason in timeline
                ],
            )
        )
    for name, versions in run.library.items():
        out.append(f'<h3 id="lib-{slug(name)}">{escape(name)}</h3>')
        by_number = {v.version: v for v in versions}
        out.extend(_version_card(name, v, by_number) for v in versions)
    if run.demonstration:
        out.append(f"<details><summary>usage demonstration</summary>{pre(run.demonstration)}</details>")
    out.append(review)
    out.append("</section>")
    return "\n".join(out)
