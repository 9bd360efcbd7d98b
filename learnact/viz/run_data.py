"""Read a run folder leniently: every file may be missing, cut short by a kill, or older in shape.

The report is most useful exactly when a run went wrong, so nothing here raises on bad content;
problems are collected in ``RunData.warnings`` and shown in the report.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodes.records import EpisodeRecord, Event, LearnSummary, RoundSummary, StepEvent

_ROUND_OF_KEY = re.compile(r"^r(\d+)s\d+")


@dataclass
class LibraryVersion:
    """One saved version of one learned action (library/<name>/v<N>.py + its history line)."""

    name: str
    version: int
    parent_version: int | None
    code: str
    meta: dict[str, Any]


@dataclass
class RunData:
    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    learn_summary: LearnSummary | dict[str, Any] = field(default_factory=dict)  # {} when learn_summary.json is absent
    rounds: list[RoundSummary] = field(default_factory=list)
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> json meta + "code"
    library: dict[str, list[LibraryVersion]] = field(default_factory=dict)  # action -> versions, oldest first
    demonstration: str = ""
    episodes: list[EpisodeRecord] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    summary_rows: list[dict[str, Any]] = field(default_factory=list)
    size_rows: list[dict[str, Any]] = field(default_factory=list)  # summary_by_size.csv: per method, task and size
    warnings: list[str] = field(default_factory=list)

    @property
    def graph(self) -> str:
        return str(self.config.get("graph") or ("learn" if self.rounds or self.candidates else "act"))

    @property
    def best_id(self) -> str | None:
        if self.learn_summary.get("best"):
            return str(self.learn_summary["best"])
        done = [e for e in self.events if e.get("event") == "learning_done"]
        if done and done[-1].get("best_id"):
            return str(done[-1]["best_id"])
        return str(self.rounds[-1]["best_id"]) if self.rounds and self.rounds[-1].get("best_id") else None

    @property
    def stop_reason(self) -> str | None:
        if self.learn_summary.get("stop_reason"):
            return str(self.learn_summary["stop_reason"])
        done = [e for e in self.events if e.get("event") == "learning_done"]
        return str(done[-1].get("stop_reason")) if done else None

    def training_steps(self) -> dict[str, list[StepEvent]]:
        """Training rollouts rebuilt from step events (episode id -> steps), for learn runs."""
        out: dict[str, list[StepEvent]] = {}
        for e in self.events:
            if e.get("event") == "step" and e.get("episode_id"):
                out.setdefault(str(e["episode_id"]), []).append(e)
        return out


def round_of_key(key: str) -> int | None:
    """Usage keys of the learning loop start with the candidate id ``r<round>s<sample>``."""
    m = _ROUND_OF_KEY.match(key)
    return int(m.group(1)) if m else None


def _read_json(path: Path, warnings: list[str]) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.append(f"{path.name}: unreadable ({exc})")
        return None


def _read_jsonl(path: Path, warnings: list[str]) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out, bad = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            bad += 1  # typically the last line, cut by a kill
            continue
        if isinstance(rec, dict):
            out.append(rec)
    if bad:
        warnings.append(f"{path.name}: skipped {bad} unreadable line(s)")
    return out


def _version_number(path: Path) -> int | None:
    m = re.fullmatch(r"v(\d+)\.py", path.name)
    return int(m.group(1)) if m else None


def _load_library(folder: Path, warnings: list[str]) -> dict[str, list[LibraryVersion]]:
    if not folder.is_dir():
        return {}
    history: dict[tuple[str, int], dict[str, Any]] = {}
    for rec in _read_jsonl(folder / "history.jsonl", warnings):
        try:
            history[(str(rec["name"]), int(rec["version"]))] = rec
        except (KeyError, TypeError, ValueError):
            continue
    versions: dict[str, list[LibraryVersion]] = {}
    for action_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for file in action_dir.glob("v*.py"):
            number = _version_number(file)
            if number is None:
                continue
            meta = history.get((action_dir.name, number), {})
            parent = meta.get("parent_version", number - 1 if number > 1 else None)
            versions.setdefault(action_dir.name, []).append(
                LibraryVersion(
                    action_dir.name,
                    number,
                    int(parent) if parent is not None else None,
                    file.read_text(encoding="utf-8", errors="replace"),
                    meta,
                )
            )
    # Versions named in the history whose file is missing still appear (without code).
    for (name, number), meta in history.items():
        if not any(v.version == number for v in versions.get(name, [])):
            parent = meta.get("parent_version")
            versions.setdefault(name, []).append(
                LibraryVersion(name, number, int(parent) if parent is not None else None, "", meta)
            )
    for vs in versions.values():
        vs.sort(key=lambda v: v.version)
    return versions


def _load_candidates(folder: Path, warnings: list[str]) -> dict[str, dict[str, Any]]:
    if not folder.is_dir():
        return {}
    out: dict[str, dict[str, Any]] = {}
    for file in sorted(folder.glob("*.json")):
        meta = _read_json(file, warnings)
        if isinstance(meta, dict):
            out[str(meta.get("id") or file.stem)] = meta
    for file in sorted(folder.glob("*.py")):
        out.setdefault(file.stem, {"id": file.stem})["code"] = file.read_text(encoding="utf-8", errors="replace")
    return out


def _load_summary_csv(path: Path, warnings: list[str]) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except (OSError, csv.Error) as exc:
        warnings.append(f"{path.name}: unreadable ({exc})")
        return []


def _rounds_from_events(events: list[Event]) -> list[RoundSummary]:
    by_round: dict[int, RoundSummary] = {}
    for e in events:
        if e.get("event") == "round_scored" and "round" in e:
            by_round[int(e["round"])] = {k: v for k, v in e.items() if k != "event"}  # a resumed round overrides
    return [by_round[r] for r in sorted(by_round)]


def load_run(run_dir: str | Path) -> RunData:
    path = Path(run_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder")
    data = RunData(path=path)
    w = data.warnings
    config = _read_json(path / "config.json", w)
    data.config = config if isinstance(config, dict) else {}
    if not data.config:
        w.append("config.json is missing: settings unknown")
    # Events forwarded from a learning sub-run carry a "scope"; that sub-run's own folder has them.
    data.events = [e for e in _read_jsonl(path / "events.jsonl", w) if not e.get("scope")]
    summary = _read_json(path / "learn_summary.json", w)
    data.learn_summary = summary if isinstance(summary, dict) else {}
    rounds = data.learn_summary.get("rounds")
    # A run killed before finalize has no learn_summary.json: its rounds live in the events.
    data.rounds = (
        [r for r in rounds if isinstance(r, dict)]
        if isinstance(rounds, list) and rounds
        else _rounds_from_events(data.events)
    )
    data.candidates = _load_candidates(path / "candidates", w)
    data.library = _load_library(path / "library", w)
    demo = path / "library" / "demonstration.md"
    data.demonstration = demo.read_text(encoding="utf-8", errors="replace") if demo.is_file() else ""
    data.episodes = _read_jsonl(path / "episodes.jsonl", w)
    usage = _read_json(path / "usage.json", w)
    data.usage = usage if isinstance(usage, dict) else {}
    data.summary_rows = _load_summary_csv(path / "summary.csv", w)
    data.size_rows = _load_summary_csv(path / "summary_by_size.csv", w)
    return data


@dataclass
class UsageTables:
    """Token and cost figures regrouped for the report; empty when usage.json is absent."""

    totals: dict[str, Any] = field(default_factory=dict)
    per_node: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_round: dict[str, dict[str, Any]] = field(default_factory=dict)  # "round 0", ..., "other"
    retries: dict[str, int] = field(
        default_factory=dict
    )  # failed model requests retried, per kind (learnact/llm/retries.py)


_STAT_KEYS = ("total_tokens", "prompt_tokens", "completion_tokens", "cost", "calls")


def _is_stats(value: Any) -> bool:
    return isinstance(value, dict) and any(k in value for k in _STAT_KEYS)


def _add(into: dict[str, dict[str, Any]], name: str, stats: dict[str, Any]) -> None:
    acc = into.setdefault(name, {})
    for k in _STAT_KEYS:
        v = stats.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            acc[k] = acc.get(k, 0) + v
        elif k == "cost" and k in stats and v is None:
            acc.setdefault("cost", None)  # unknown price: shown as "n/a", never as $0


def _round_label(key: str) -> str:
    rnd = round_of_key(key)
    return f"round {rnd}" if rnd is not None else "other"


def usage_tables(usage: dict[str, Any]) -> UsageTables:
    """Accepts the shapes a usage summary plausibly has: ``{totals, per_node|by_node|nodes: {node: stats},
    per_key|by_key|keys: {key: stats}}``, and/or a list of call records ``[{node, key, ...stats}]``."""
    out = UsageTables()
    if not isinstance(usage, dict):
        return out
    totals = usage.get("totals") or usage.get("total")
    retries = usage.get("retries")
    out.retries = {str(k): v for k, v in retries.items() if v} if isinstance(retries, dict) else {}
    out.totals = dict(totals) if _is_stats(totals) else {}
    records = next(
        (usage[k] for k in ("records", "calls", "per_call", "entries") if isinstance(usage.get(k), list)), None
    )
    if records:
        for rec in records:
            if isinstance(rec, dict):
                _add(out.per_node, str(rec.get("node", "?")), rec)
                _add(out.per_round, _round_label(str(rec.get("key", ""))), rec)
    nodes = next((usage[k] for k in ("per_node", "by_node", "nodes") if isinstance(usage.get(k), dict)), None)
    if nodes and not out.per_node:
        for name, stats in nodes.items():
            if _is_stats(stats):
                _add(out.per_node, str(name), stats)
    keys = next((usage[k] for k in ("per_key", "by_key", "keys") if isinstance(usage.get(k), dict)), None)
    if keys and not out.per_round:
        for key, stats in keys.items():
            if _is_stats(stats):
                _add(out.per_round, _round_label(str(key)), stats)
    if not out.totals and out.per_node:
        acc: dict[str, dict[str, Any]] = {}
        for stats in out.per_node.values():
            _add(acc, "all", stats)
        out.totals = acc.get("all", {})
    return out
