"""The report's data shaping: what each section shows, worked out from a run folder's files (``RunData``), as
plain values; ``learnact/viz/report.py`` turns them into HTML."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from environments.pddl.ladder import instance_size
from nodes.records import DroppedEntry, EpisodeRecord, Scores, StepEvent
from nodes.summary import summarize_by_size, summarize_records

from .run_data import LibraryVersion, RunData, round_of_key


def as_float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def scores_of(run: RunData, cid: str) -> Scores:
    """The latest scores of candidate ``cid``: from the rounds, else from its candidate file."""
    for r in reversed(run.rounds):
        for c in r.get("candidates", []):
            if c.get("id") == cid and c.get("scores"):
                return c["scores"]
    return run.candidates.get(cid, {}).get("scores") or {}


def candidate_round(run: RunData, cid: str) -> int | None:
    """The round candidate ``cid`` was made in: its file's ``round``, else read from its id (``r<round>s<sample>``)."""
    meta = run.candidates.get(cid, {})
    if isinstance(meta.get("round"), int):
        return meta["round"]
    return round_of_key(cid)


def candidate_ids(run: RunData) -> list[str]:
    """Every candidate of the run, by round made then id: those with files, and those only scored or dropped."""
    ids = list(run.candidates)
    for r in run.rounds:  # candidates that were scored or dropped but whose files are missing
        for c in list(r.get("candidates", [])) + list(r.get("dropped", []) or []):
            if str(c.get("id")) not in run.candidates and str(c.get("id")) not in ids:
                ids.append(str(c.get("id")))
    ids.sort(key=lambda i: (candidate_round(run, i) or 0, i))
    return ids


def training_rollouts(run: RunData, cid: str) -> list[tuple[str, list[StepEvent]]]:
    """Candidate ``cid``'s training rollouts rebuilt from the step events, as (episode id, steps), sorted."""
    rollouts = {eid: s for eid, s in run.training_steps().items() if eid.split("@", 1)[0] == cid}
    return sorted(rollouts.items())


def score_type(run: RunData) -> str:
    """The score the rounds were ranked by (T, C or S)."""
    return str(run.rounds[-1].get("score_type") or run.config.get("score") or "score")


@dataclass(frozen=True)
class ScoredCandidate:
    """One candidate as scored in one round (a point of the learning curve, a row of its table)."""

    round: int
    id: str
    origin: str  # create | update | plan | kept (the previous best re-entering the next round)
    parent: str
    target: str
    value: float  # the round's score type
    success: float  # the training success rate
    scores: Scores
    is_round_best: bool
    is_overall_best: bool  # only its first appearance carries the star


def scored_candidates(run: RunData) -> list[tuple[int, list[ScoredCandidate], list[DroppedEntry]]]:
    """Per scored round: its number, its candidates and the candidates it dropped (as the round summary has them)."""
    kind, best_overall, starred = score_type(run), run.best_id, set()
    out = []
    for r in run.rounds:
        rnd = int(r.get("round", 0))
        scored = []
        for c in r.get("candidates", []):
            cid, scores = str(c.get("id")), c.get("scores") or {}
            made_in = candidate_round(run, cid)
            star = cid == best_overall and cid not in starred
            if star:
                starred.add(cid)
            scored.append(
                ScoredCandidate(
                    rnd,
                    cid,
                    "kept" if made_in is not None and made_in != rnd else str(c.get("origin") or "create"),
                    str(c.get("parent") or ""),
                    str(run.candidates.get(cid, {}).get("target") or ""),
                    float(scores.get(kind, 0.0) or 0.0),
                    float(scores.get("success_rate", 0.0) or 0.0),
                    scores,
                    cid == r.get("best_id"),
                    star,
                )
            )
        out.append((rnd, scored, list(r.get("dropped", []) or [])))
    return out


def best_lines(run: RunData) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """Per round, the best candidate's score and its training success rate: the curves' best-so-far lines."""
    best_score = [
        (int(r.get("round", 0)), float(r["best_score"])) for r in run.rounds if r.get("best_score") is not None
    ]
    best_success = []
    for r in run.rounds:
        bid = r.get("best_id")
        for c in r.get("candidates", []):
            if c.get("id") == bid:
                best_success.append(
                    (int(r.get("round", 0)), float((c.get("scores") or {}).get("success_rate", 0.0) or 0.0))
                )
    return best_score, best_success


def version_meta_rows(v: LibraryVersion) -> list[tuple[str, str]]:
    """What the history says of one library version, as (field, text) pairs; empty fields left out."""
    rows = []
    for key in ("iteration", "reason", "description", "scores", "created", "source"):
        if v.meta.get(key) not in (None, "", {}):
            value = v.meta[key]
            rows.append(
                (key, ", ".join(f"{k}={plain(x)}" for k, x in value.items()) if isinstance(value, dict) else str(value))
            )
    return rows


def notes_text(v: LibraryVersion) -> str:
    """The usage notes (Plan) attached to a library version, one a line; "" when it has none."""
    notes = v.meta.get("notes")
    if not notes:
        return ""
    return (
        "\n".join(str(n.get("text", n)) if isinstance(n, dict) else str(n) for n in notes)
        if isinstance(notes, list)
        else str(notes)
    )


def plain(v: Any) -> str:
    """A score or field as short text (floats to three significant digits)."""
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def library_timeline(run: RunData) -> list[tuple[Any, str, int, str]]:
    """Every saved version as (iteration, action, version, reason), in the order they were made."""
    timeline = sorted(
        ((v.meta.get("iteration", 0) or 0, name, v.version) for name, vs in run.library.items() for v in vs),
        key=lambda t: (t[0] if isinstance(t[0], int) else 0, t[1], t[2]),
    )
    return [(it, name, ver, str(_version(run, name, ver).meta.get("reason", ""))) for it, name, ver in timeline]


def _version(run: RunData, name: str, number: int) -> LibraryVersion:
    return next(v for v in run.library[name] if v.version == number)


def round_sort(label: str) -> tuple[int, str]:
    """Sort key of a usage label: "round 2" by its number, anything else after the rounds."""
    m = re.fullmatch(r"round (\d+)", label)
    return (int(m.group(1)), "") if m else (10**9, label)


def episode_groups(run: RunData) -> list[tuple[tuple[str, str], list[EpisodeRecord]]]:
    """The episodes grouped by (method, task), sorted."""
    groups: dict[tuple[str, str], list[EpisodeRecord]] = defaultdict(list)
    for e in run.episodes:
        groups[(str(e.get("method", "?")), str(e.get("env", "?")))].append(e)
    return sorted(groups.items())


def _complete_episodes(run: RunData) -> Iterator[EpisodeRecord]:
    return (e for e in run.episodes if "episode_id" in e and "method" in e and "env" in e)


def summary_rows(run: RunData) -> list[dict[str, Any]]:
    """Per (method, task) rows: summary.csv, else computed from the episodes."""
    if run.summary_rows:
        return run.summary_rows
    try:
        return summarize_records(_complete_episodes(run))
    except Exception:  # noqa: BLE001 - the per-episode tables below still show everything
        return []


def size_rows(run: RunData) -> list[dict[str, Any]]:
    """Per (method, task, size) rows: summary_by_size.csv, else computed from the episodes."""
    if run.size_rows:
        return run.size_rows
    try:
        data_dir = run.config.get("data_dir")
        return summarize_by_size(_complete_episodes(run), lambda env, inst: instance_size(env, inst, data_dir))
    except Exception:  # noqa: BLE001 - the evaluation section still shows every episode
        return []
