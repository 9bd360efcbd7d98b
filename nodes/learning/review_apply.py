"""A person's review of learned code (nodes/review.py), applied: what is shown per function, the answers read
and checked, and the reviewed candidates made (a rejected function dropped or set back, an edited one checked as
the learner's code is and recorded as the person's)."""

from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Any

from learnact.actions import ActionLibrary, ActionLibraryError
from learnact.actions.library import parse_functions

from ..context import Context
from ..learn_state import Candidate
from .checks import check_once

DECISIONS = ("approve", "reject", "edit")
PERSON = "person"


def changed_functions(library: ActionLibrary | None, parent: ActionLibrary | None) -> list[str]:
    """The functions of ``library`` that are new or whose code differs from ``parent``'s (all, without a parent)."""
    if library is None:
        return []
    out = []
    for a in library.all_functions:
        old = parent.get(a.name) if parent is not None else None
        if old is None or old.source.strip() != a.source.strip():
            out.append(a.name)
    return out


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    def lines(code: str) -> list[str]:
        return [line + "\n" for line in code.rstrip("\n").split("\n")] if code.strip() else []

    return "".join(difflib.unified_diff(lines(old), lines(new), old_name, new_name))


def function_review(cand: Candidate, name: str, parent: ActionLibrary | None) -> dict[str, Any]:
    """What the reviewer is shown of ``cand``'s function ``name`` (a ``nodes.review.FunctionReview``)."""
    fn = cand["library"].get(name)
    old = parent.get(name) if parent is not None else None
    before = f"{name} v{old.version}" if old is not None else "/dev/null"
    judged = []
    if cand.get("failure"):
        judged.append(f"the failed call this revision answers:\n{cand['failure']}")
    if cand.get("demonstration"):
        judged.append(f"the demonstration whose learned calls ran in the sandbox:\n{cand['demonstration']}")
    judged += [f"an error met on the way (repaired): {e}" for e in cand.get("attempts", [])]
    judged += [f"dropped beside it: {d['name']}: {d['reason']}" for d in cand.get("dropped_functions", [])]
    return {
        "candidate_id": cand["id"],
        "name": name,
        "status": "changed" if old is not None else "new",
        "code": fn.source,
        "diff": unified_diff(old.source if old is not None else "", fn.source, before, f"{name} v{fn.version}"),
        "description": fn.description,
        "version": fn.version,
        "judged_by": judged,
    }


def parse_answers(raw: Any, functions: list[dict[str, Any]]) -> tuple[dict[tuple[str, str], dict], list[str]]:
    """The resume value as {(candidate id, function): answer}, and what is wrong with it (empty: nothing)."""
    if raw is None:
        return {}, []
    if isinstance(raw, dict) and "answers" in raw:
        raw = raw["answers"]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        return {}, [f"the answers must be a list of {{candidate_id, name, decision}}, got {type(raw).__name__}"]
    known = {(f["candidate_id"], f["name"]) for f in functions}
    answers, problems = {}, []
    for a in raw:
        if not isinstance(a, dict):
            problems.append(f"an answer must be an object, got {a!r}")
            continue
        name, cid = a.get("name"), a.get("candidate_id")
        if cid is None:  # the candidate may be left out when one candidate has a function of that name
            ids = [c for c, n in known if n == name]
            cid = ids[0] if len(ids) == 1 else None
        key = (cid, name)
        if cid is None and a.get("candidate_id") is None and name in {n for _, n in known}:
            problems.append(
                f"{name} is under review in several candidates ({', '.join(sorted(c for c, n in known if n == name))}): "
                "give its candidate_id"
            )
        elif key not in known:
            problems.append(f"no function {name!r} of candidate {cid!r} is under review")
        elif a.get("decision") not in DECISIONS:
            problems.append(f"{cid}:{name}: decision must be one of {', '.join(DECISIONS)}, got {a.get('decision')!r}")
        elif a["decision"] == "edit" and not (isinstance(a.get("code"), str) and a["code"].strip()):
            problems.append(f"{cid}:{name}: an edit needs the function's code")
        else:
            answers[key] = {
                "decision": a["decision"],
                "reason": str(a.get("reason") or "").strip(),
                "code": a.get("code") or "",
            }
    return answers, problems


def _edited(
    library: ActionLibrary, name: str, code: str, rnd: int, reason: str
) -> tuple[ActionLibrary, list[str], str | None]:
    """``library`` with the person's ``code`` for ``name``: (library, functions the person wrote, problem or None)."""
    try:
        names = [f.name for f in parse_functions(code)]
        if name not in names:
            return library, [], f"the edited code must define {name}() (it defines {', '.join(names)})"
        new, changed = library.with_update(
            code, iteration=rnd, reason=f"edited by a person{': ' + reason if reason else ''}"
        )
    except ActionLibraryError as exc:
        return library, [], str(exc)
    mine = set(changed)
    return (
        ActionLibrary(tuple(replace(a, author=PERSON) if a.name in mine else a for a in new.all_functions)),
        changed,
        None,
    )


def _rejected(library: ActionLibrary, name: str, parent: ActionLibrary | None) -> ActionLibrary:
    """``library`` without the learner's new ``name``, or with the version it replaced."""
    old = parent.get(name) if parent is not None else None
    if old is not None:
        return ActionLibrary(tuple(old if a.name == name else a for a in library.all_functions))
    return ActionLibrary(tuple(a for a in library.all_functions if a.name != name))


def _review_one(cand: Candidate, answers: dict, parent: ActionLibrary | None, task: dict, ctx: Context, rnd: int):
    """One candidate reviewed: (candidate, notes for the learner, problems)."""
    cid, library = cand["id"], cand["library"]
    decisions, notes, problems, person = [], [], [], []
    for name in changed_functions(library, parent):
        a = answers.get((cid, name), {"decision": "approve", "reason": "", "code": ""})
        decisions.append(
            {"name": name, "decision": a["decision"], "reason": a["reason"], "learner_code": library.get(name).source}
        )
        if a["decision"] == "reject":
            library = _rejected(library, name, parent)
            notes.append(
                {
                    "round": rnd,
                    "candidate_id": cid,
                    "name": name,
                    "reason": a["reason"],
                    "code": decisions[-1]["learner_code"],
                }
            )
        elif a["decision"] == "edit":
            library, written, problem = _edited(library, name, a["code"], rnd, a["reason"])
            problems += [f"{cid}:{name}: {problem}"] if problem else []
            person += written
            decisions[-1]["code"] = a["code"]
    extra: list[dict[str, str]] = []
    if not problems and any(d["decision"] != "approve" for d in decisions) and library.actions:
        checked = check_once(library.code, task, ctx, cand.get("demonstration") or None)  # the learner's checks
        problems += [
            f"{cid}:{r['from']}: the name collides with a primitive ({r['reason']})"
            for r in checked.renamed
            if r["from"] in person
        ]
        for d in checked.dropped:
            if d["name"] in person:
                problems.append(f"{cid}:{d['name']}: the edited code does not pass the checks: {d['reason']}")
            else:  # it called a rejected function
                extra.append(d)
        library = ActionLibrary(tuple(a for a in library.all_functions if a.name not in {d["name"] for d in extra}))
    out: Candidate = {**cand, "review": decisions, "dropped_functions": [*cand.get("dropped_functions", []), *extra]}
    if not library.actions or (parent is not None and not changed_functions(library, parent)):
        rejected = ", ".join(d["name"] for d in decisions if d["decision"] == "reject")
        out.update(library=None, error=f"the reviewer rejected {rejected}: nothing of this candidate is left to try")
    else:
        out.update(library=library, code=library.code)
    return out, notes, problems


def apply_answers(
    pending: list[Candidate], answers: dict, parent: ActionLibrary | None, task: dict, ctx: Context, rnd: int
):
    """Every pending candidate reviewed: (candidates, notes for the learner, problems: empty when all were taken)."""
    reviewed, notes, problems = [], [], []
    for cand in pending:
        out, n, p = _review_one(cand, answers, parent, task, ctx, rnd)
        reviewed.append(out)
        notes += n
        problems += p
    return reviewed, notes, problems


def review_note_text(notes: list[dict[str, Any]]) -> str:
    """What the learner is told of a person's rejections (empty without any)."""
    if not notes:
        return ""
    lines = [f"- {n['name']} (round {n['round']}): {n['reason'] or 'no reason given'}" for n in notes]
    return "A person reviewing your code rejected these functions; take their reasons into account:\n" + "\n".join(
        lines
    )


def with_review_notes(messages: list[tuple[str, str]], notes: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """``messages`` with the rejections appended to the last user message (unchanged without any)."""
    text = review_note_text(notes or [])
    if not text:
        return messages
    last = max(i for i, (role, _) in enumerate(messages) if role == "user")
    return [*messages[:last], ("user", f"{messages[last][1]}\n\n{text}"), *messages[last + 1 :]]
