"""Persistence of action libraries: every version of every action, never overwritten.

Layout of a store folder::

    <folder>/<name>/v<N>.py   readable source of version N (a comment header with its metadata)
    <folder>/history.jsonl    one line per (name, version): the full record, so loading is exact
    <folder>/snapshots.jsonl  one line per save(): which version of each function the library had
"""

from __future__ import annotations

import difflib
import json
import os
import time
from pathlib import Path
from typing import Any

from .library import ActionLibrary, ActionLibraryError, LearnedAction

_RECORD_FIELDS = (
    "name",
    "version",
    "parent_version",
    "iteration",
    "reason",
    "description",
    "notes",
    "signature",
    "params",
    "source",
    "min_args",
    "max_args",
)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def render_version_file(a: LearnedAction) -> str:
    """The readable ``v<N>.py`` text: metadata as comments, then the source."""
    parent = f" (parent v{a.parent_version})" if a.parent_version is not None else ""
    header = [f"# {a.name} v{a.version}{parent} · iteration {a.iteration} · reason: {_one_line(a.reason)}"]
    if a.author:
        header[0] += f" · written by: {a.author}"
    if a.description:
        header.append(f"# description: {_one_line(a.description)}")
    header.extend(f"# note: {_one_line(n)}" for n in a.notes)
    return "\n".join(header) + "\n" + a.source.rstrip("\n") + "\n"


class ActionStore:
    """Append-only history of the libraries saved in ``folder``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @property
    def history_path(self) -> Path:
        return self.folder / "history.jsonl"

    @property
    def snapshots_path(self) -> Path:
        return self.folder / "snapshots.jsonl"

    def has_history(self) -> bool:
        return self.history_path.is_file() and self.history_path.stat().st_size > 0

    @staticmethod
    def _read(path: Path) -> list[dict[str, Any]]:
        """The file's records; a line a kill cut short (or any line that is not a JSON object) is skipped."""
        if not path.is_file():
            return []
        out = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line) if line.strip() else None
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
        return out

    def records(self) -> dict[tuple[str, int], dict[str, Any]]:
        out = {}
        for r in self._read(self.history_path):
            try:
                out[(str(r["name"]), int(r["version"]))] = r
            except (KeyError, TypeError, ValueError):
                continue
        return out

    def snapshots(self) -> list[dict[str, Any]]:
        return self._read(self.snapshots_path)

    @staticmethod
    def _append(path: Path, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with path.open("ab+") as f:
            if f.seek(0, os.SEEK_END) > 0:  # after a line a kill cut short, start on a fresh line
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    line = b"\n" + line
            f.write(line)

    def save(self, lib: ActionLibrary, *, iteration: int, reason: str, scores: dict[str, Any] | None = None) -> str:
        """Write the versions not stored yet and one snapshot line; returns the snapshot tag ("s<N>").

        A (name, version) already stored with different content is an error: versions are never overwritten.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        stored = self.records()
        tag = f"s{len(self.snapshots()) + 1}"
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        for a in lib.all_functions:
            record = {k: v for k, v in a.to_dict().items() if k in _RECORD_FIELDS}
            old = stored.get((a.name, a.version))
            if old is not None:
                same = {k: old.get(k) for k in _RECORD_FIELDS} == record and old.get("author", "") == a.author
                if not same or old.get("action_scores") != a.scores:
                    raise ActionLibraryError(
                        f"{a.name} v{a.version} is already stored with different content; versions are never overwritten"
                    )
                continue
            (self.folder / a.name).mkdir(exist_ok=True)
            # Not in history.jsonl: a file already there was left by a kill before its history line
            # (a stored version is never rewritten: it was skipped above). Write it whole.
            (self.folder / a.name / f"v{a.version}.py").write_text(render_version_file(a), encoding="utf-8")
            self._append(
                self.history_path,
                {
                    **record,
                    **({"author": a.author} if a.author else {}),
                    "action_scores": a.scores,
                    "scores": scores or {},
                    "saved_iteration": iteration,
                    "saved_reason": reason,
                    "snapshot": tag,
                    "created": now,
                },
            )
        self._append(
            self.snapshots_path,
            {
                "tag": tag,
                "iteration": iteration,
                "reason": reason,
                "scores": scores or {},
                "created": now,
                "actions": [[a.name, a.version] for a in lib.all_functions],
            },
        )
        return tag

    def load(self, version_tag: str | int | None = None) -> ActionLibrary:
        """The library of a snapshot (``"s3"`` or ``3``; default: the latest), equal to what was saved."""
        snaps = self.snapshots()
        if not snaps:
            raise ActionLibraryError(f"no action library saved in {self.folder}")
        if version_tag is None:
            snap = snaps[-1]
        else:
            tag = f"s{version_tag}" if isinstance(version_tag, int) else str(version_tag)
            snap = next((s for s in snaps if s["tag"] == tag), None)
            if snap is None:
                raise ActionLibraryError(
                    f"no snapshot {tag!r} in {self.folder} (have {', '.join(s['tag'] for s in snaps)})"
                )
        records = self.records()
        try:
            return ActionLibrary(tuple(self._action(records[(str(name), int(v))]) for name, v in snap["actions"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ActionLibraryError(
                f"snapshot {snap.get('tag')!r} in {self.folder} names an action version history.jsonl does not hold ({exc})"
            ) from None

    @staticmethod
    def _action(record: dict[str, Any]) -> LearnedAction:
        fields = {k: record[k] for k in _RECORD_FIELDS if k in record}
        return LearnedAction.from_dict(
            {**fields, "scores": record.get("action_scores") or {}, "author": record.get("author", "")}
        )

    def versions(self, name: str) -> list[int]:
        return sorted(v for (n, v) in self.records() if n == name)

    def get(self, name: str, version: int) -> LearnedAction:
        record = self.records().get((name, int(version)))
        if record is None:
            raise ActionLibraryError(f"{name} v{version} is not stored (versions: {self.versions(name)})")
        return self._action(record)

    def version_text(self, name: str, version: int) -> str:
        path = self.folder / name / f"v{int(version)}.py"
        return path.read_text(encoding="utf-8") if path.is_file() else render_version_file(self.get(name, version))

    def diff(self, name: str, v1: int, v2: int) -> str:
        """Unified diff between two stored versions of ``name`` (code, description and notes)."""
        old, new = self.version_text(name, v1), self.version_text(name, v2)
        return "".join(
            difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"{name}/v{v1}.py", f"{name}/v{v2}.py")
        )


def load_actions_file(path: str | Path) -> ActionLibrary:
    """A hand-written ``.py`` file of actions (docstrings are descriptions) or a store folder (latest)."""
    path = Path(path)
    if path.is_dir():
        store = ActionStore(path)
        if not store.snapshots_path.is_file():
            raise ActionLibraryError(f"{path} is not an action library folder (no snapshots.jsonl)")
        return store.load()
    if not path.is_file():
        raise ActionLibraryError(f"{path}: no such file")
    try:
        code = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ActionLibraryError(f"{path} is not UTF-8 Python source (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise ActionLibraryError(f"cannot read {path}: {exc.strerror}") from None
    return ActionLibrary.from_code(code, reason=f"loaded from {path.name}")


load_actions = load_actions_file
