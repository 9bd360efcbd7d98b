"""What learning writes into the run folder: ``candidates/`` (every candidate's code and record, dropped ones
included) and ``library/`` (every version along the best candidate's ancestry, with its demonstration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from learnact.actions import ActionStore

from ..context import Context
from ..learn_state import Candidate, LearnState

CANDIDATE_KEYS = (
    "id",
    "round",
    "origin",
    "parent",
    "reason",
    "target",
    "failure",
    "scores",
    "attempts",
    "change",
    "review",
    "error",
    "repair_stop",
    "dropped_functions",
    "renamed",
    "tries",
)


def save_candidates(ctx: Context, scored: list[dict], dropped: list[dict] | None = None) -> None:
    """Every candidate's code as a readable file, with its record beside it (idempotent: a re-run writes
    the same bytes). A dropped candidate's file holds the last code tried; its JSON, the error and every attempt."""
    if not ctx.run_dir:
        return
    folder = Path(ctx.run_dir) / "candidates"
    folder.mkdir(parents=True, exist_ok=True)
    for c, status in [*((c, "scored") for c in scored), *((c, "dropped") for c in dropped or [])]:
        if status == "scored":
            code = c["library"].code
        else:
            code = (
                c.get("code")
                or c.get("change")
                or f"# no code: {(c.get('error') or 'the learner wrote none').splitlines()[0]}\n"
            )
        (folder / f"{c['id']}.py").write_text(code, encoding="utf-8")
        record = {"status": status, **{k: c.get(k) for k in CANDIDATE_KEYS}}
        (folder / f"{c['id']}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")


def save_lineage(folder: Path, best: Candidate, state: LearnState) -> None:
    """Every version along the best candidate's ancestry, oldest first, plus its demonstration."""
    by_id = {c["id"]: c for c in state.get("candidates", [])}
    scores = {c["id"]: c["scores"] for r in state.get("rounds", []) for c in r["candidates"]}
    chain, node = [], best
    while node is not None:
        chain.append(node)
        node = by_id.get(node.get("parent")) if node.get("parent") else None
    store = ActionStore(folder)
    # A resumed finalize (a kill cut the first one short) writes what is missing and nothing twice.
    saved = {
        _snapshot_key(s["iteration"], s["reason"], s["actions"])
        for s in store.snapshots()
        if {"iteration", "reason", "actions"} <= s.keys()
    }
    for cand in reversed(chain):
        library = cand["library"]
        iteration, reason = cand.get("round", 0), f"{cand.get('origin')}: {cand.get('reason', '')}".strip()
        if _snapshot_key(iteration, reason, [[a.name, a.version] for a in library.all_functions]) in saved:
            continue
        store.save(library, iteration=iteration, reason=reason, scores=scores.get(cand["id"]))
    (folder / "demonstration.md").write_text(best.get("demonstration", ""), encoding="utf-8")


def _snapshot_key(iteration: Any, reason: Any, actions: Any) -> tuple:
    return (iteration, reason, tuple((str(n), int(v)) for n, v in actions))
