"""``benchmarks/chaos.py``'s comparison of two run folders as sets of records (see its docstring)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path


def _jsonl(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line a kill cut short: readers skip it, so does the comparison
        if isinstance(rec, dict):
            out.append(rec)
    return out


def _without(rec: dict, *keys: str) -> dict:
    return {k: v for k, v in rec.items() if k not in keys}


def records_of(run_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """Every record a run folder holds, by kind: ``{kind: [(key, canonical content), ...]}`` (a key twice
    is a duplicate). Wall times and timestamps are left out: they differ between any two runs."""
    kinds: dict[str, list[tuple[str, str]]] = {
        k: [] for k in ("rollouts", "episodes", "library versions", "candidates", "learning outcomes", "summary tables")
    }

    def add(kind: str, key: str, content) -> None:
        kinds[kind].append((key, json.dumps(content, sort_keys=True, default=str)))

    for path in sorted(run_dir.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(run_dir).as_posix()
        where = rel.rsplit("/", 1)[0] if "/" in rel else "."
        name = path.name
        if name == "rollouts.jsonl":
            for r in _jsonl(path):
                add("rollouts", f"{where}|{r.get('key')}", r.get("record"))
        elif name == "episodes.jsonl":
            for r in _jsonl(path):
                add("episodes", f"{where}|{r.get('episode_id')}", _without(r, "elapsed_s"))
        elif name == "history.jsonl":
            for r in _jsonl(path):
                add("library versions", f"{where}|{r.get('name')} v{r.get('version')}", _without(r, "created"))
        elif name == "snapshots.jsonl":
            for r in _jsonl(path):
                add("library versions", f"{where}|snapshot {r.get('tag')}", _without(r, "created"))
        elif "/library/" in f"/{rel}" and (name.endswith(".py") or name == "demonstration.md"):
            add("library versions", rel, path.read_text(encoding="utf-8"))
        elif "/candidates/" in f"/{rel}":
            add("candidates", rel, path.read_text(encoding="utf-8"))
        elif name in ("learning_run.json", "learn_summary.json"):
            add("learning outcomes", rel, json.loads(path.read_text(encoding="utf-8")))
        elif name in ("summary.csv", "summary_by_size.csv"):
            for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
                key = "|".join(str(row.get(k)) for k in ("method", "env", "size") if k in row)
                add("summary tables", f"{rel}|{key}", row)
    return kinds


@dataclass
class Diff:
    lost: int = 0
    duplicated: int = 0
    mismatched: int = 0
    records: int = 0
    examples: list[str] = field(default_factory=list)


def compare(reference: Path, killed: Path) -> dict[str, Diff]:
    ref, got = records_of(reference), records_of(killed)
    out: dict[str, Diff] = {}
    for kind in ref:
        d = Diff(records=len(ref[kind]))
        want = dict(ref[kind])
        have: dict[str, str] = {}
        for key, content in got[kind]:
            if key in have:
                d.duplicated += 1
                d.examples.append(f"duplicated {kind}: {key}")
                continue
            have[key] = content
        for key in want.keys() - have.keys():
            d.lost += 1
            d.examples.append(f"lost {kind}: {key}")
        for key in have.keys() - want.keys():
            d.mismatched += 1
            d.examples.append(f"only in the killed run, {kind}: {key}")
        for key in want.keys() & have.keys():
            if want[key] != have[key]:
                d.mismatched += 1
                d.examples.append(f"mismatched {kind}: {key}")
        if len(want) != len(ref[kind]):  # the reference itself wrote a key twice
            d.examples.append(f"the uninterrupted run wrote {len(ref[kind]) - len(want)} {kind} key(s) twice")
        out[kind] = d
    return out
