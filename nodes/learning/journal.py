"""A write-ahead journal of finished rollouts, so that a crash never costs a finished rollout.

LangGraph checkpoints a task's writes only after the task returns, and a ``kill -9`` can land
between the two. The rollout node therefore appends its record here (flushed and fsynced) before
it returns, and looks here before rolling out: a record for the same candidate *code*, instance
and step cap is reused instead of being run again. Keys hash the library's content, not only the
candidate id, so a revision that was re-sampled after a crash never reuses a stale rollout.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from ..jsonl import append_line

FILE_NAME = "rollouts.jsonl"


def rollout_key(candidate: dict[str, Any], instance: str, max_steps: int, again_in: int | None = None) -> str:
    """The journal's key of one rollout; ``again_in``: the round a candidate from an earlier round is rolled out again in."""
    library = candidate.get("library")
    fields = {
        "id": candidate["id"],
        "library": library.to_dict() if library is not None else None,
        "demo": candidate.get("demonstration"),
        "instance": instance,
        "max_steps": max_steps,
    }
    if again_in is not None:
        fields["again_in"] = again_in
    content = json.dumps(
        fields,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()[:32]


class RolloutJournal:
    """``run_dir/rollouts.jsonl``: one line per finished rollout, ``{"key": ..., "record": ...}``.

    One per run folder, held by the run's ``Context`` (``ctx.journal``), so that the parallel rollout tasks
    share its lock and its records."""

    def __init__(self, run_dir: str | Path):
        self.folder = Path(run_dir).resolve()
        self.path = self.folder / FILE_NAME
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._records is None:
            self._records = {}
            if self.path.is_file():
                text = self.path.read_text(encoding="utf-8")
                for line in text.splitlines():
                    try:
                        entry = json.loads(line)
                        self._records[entry["key"]] = entry["record"]
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut by a kill: that rollout simply runs again
        return self._records

    def belongs_to(self, run_dir: str | Path) -> bool:
        return self.folder == Path(run_dir).resolve()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._load().get(key)

    def put(self, key: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._load()[key] = record
            append_line(self.path, {"key": key, "record": record})
