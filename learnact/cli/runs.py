"""Run folders: ``runs/<run-id>/`` with config.json, events.jsonl, checkpoints, results."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import sqlite3
import sys
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonlines

from graphs.registry import COMMANDS
from nodes.jsonl import append_line

TRACKED_PACKAGES = (
    "langgraph",
    "langchain-core",
    "langchain-openai",
    "gymnasium",
    "alfworld",
    "textworld",
    "llama-cpp-python",
    "jsonlines",
)


RUN_GRAPHS = COMMANDS
# What each graph's runner reads from config.json beyond graph and models.
_COMMON_KEYS = ("env", "prompts", "grammar")
REQUIRED_CONFIG_KEYS = {
    "learn": (*_COMMON_KEYS, "train_instances", "max_rounds", "concurrency"),
    "act": (*_COMMON_KEYS, "instances"),
    "evaluate": (*_COMMON_KEYS, "methods", "train", "test", "runs", "envs", "concurrency"),
}


class RunError(RuntimeError):
    """A run folder that cannot be used (missing, not resumable, ...)."""


def new_run_id(graph: str, env_name: str) -> str:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if env_name.startswith("pddl:"):  # a domain folder: its name, not its whole path
        env_name = "pddl-" + Path(env_name[len("pddl:") :]).stem
    return f"{graph}-{re.sub(r'[^A-Za-z0-9]+', '-', env_name).strip('-')}-{stamp}"


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


class RunDir:
    """One run's folder. Appends are line-atomic and safe from several threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints.sqlite"

    def create(self, config: dict[str, Any]) -> None:
        full = {
            **config,
            "argv": sys.argv,
            "created": _dt.datetime.now().isoformat(timespec="seconds"),
            "versions": package_versions(),
        }
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / "config.json").write_text(json.dumps(full, indent=1, default=str), encoding="utf-8")
        except OSError as exc:  # a read-only or full disk, a file in the way: say so before any work starts
            raise RunError(
                f"cannot create the run folder {self.path}: {exc.strerror or exc} ({exc.filename or self.path})"
            ) from None

    def load_config(self) -> dict[str, Any]:
        cfg = self.path / "config.json"
        if not cfg.is_file():
            raise RunError(f"{self.path} is not a run folder (no config.json): cannot resume it")
        try:
            config = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8
            raise RunError(f"{cfg} is unreadable ({type(exc).__name__}: {exc}): cannot resume this run") from None
        if (
            not isinstance(config, dict)
            or config.get("graph") not in RUN_GRAPHS
            or not isinstance(config.get("models"), dict)
        ):
            raise RunError(f"{cfg} is not the config of a run of this program (no graph and models): cannot resume it")
        missing = [k for k in REQUIRED_CONFIG_KEYS.get(config["graph"], REQUIRED_CONFIG_KEYS["act"]) if k not in config]
        if missing:
            raise RunError(
                f"{cfg} lacks {', '.join(missing)} (written by another version, or edited): cannot resume this run"
            )
        return config

    def check_resumable(self, *, needs_checkpoint: bool = False) -> None:
        """Before any model starts: the checkpoint database opens and reads, and the folder takes writes.

        A run killed in its start-up, after config.json and before its first checkpoint, has done
        nothing yet: it resumes from the beginning. A run with records but no checkpoint lost its
        database: that is refused, since starting over would redo finished work.

        Read-only probes: a failed check changes no file."""
        if not self.checkpoints.is_file() and self.has_records():
            raise RunError(f"{self.path} has no checkpoints to resume from")
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise RunError(f"{self.path} is not writable (read-only disk or permissions): cannot resume the run there")
        if not self.checkpoints.is_file():
            return
        try:
            # With no write-ahead log beside it (a clean close), the file holds everything: read it as
            # immutable, creating no -wal/-shm. After a kill the log holds the latest checkpoints: read it too.
            wal = self.checkpoints.with_name(self.checkpoints.name + "-wal").exists()
            conn = sqlite3.connect(
                f"{self.checkpoints.resolve().as_uri()}?mode=ro{'' if wal else '&immutable=1'}", uri=True
            )
            try:
                tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                    raise sqlite3.DatabaseError("integrity check failed")
                saved = (
                    "checkpoints" in tables and conn.execute("SELECT 1 FROM checkpoints LIMIT 1").fetchone() is not None
                )
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise RunError(
                f"{self.checkpoints} is not a readable checkpoint database ({exc}): this run cannot be resumed; "
                f"its finished records ({', '.join(p.name for p in sorted(self.path.glob('*.jsonl'))) or 'none'}) are untouched"
            ) from None
        if needs_checkpoint and not saved and self.has_records():
            raise RunError(f"{self.path} has records but no checkpoint to resume from; start it again in a new folder")

    def has_records(self) -> bool:
        """Whether the run did any work: events, records, candidates, a library or learning sub-runs."""
        files = ("events.jsonl", "episodes.jsonl", "rollouts.jsonl")
        folders = ("candidates", "library", "learning")
        return any((self.path / f).is_file() and (self.path / f).stat().st_size > 0 for f in files) or any(
            (self.path / d).is_dir() and any((self.path / d).iterdir()) for d in folders
        )

    def append(self, name: str, record: dict[str, Any]) -> None:
        with self._lock:
            append_line(self.path / name, record)

    def read(self, name: str) -> list[dict[str, Any]]:
        path = self.path / name
        if not path.is_file():
            return []
        out = []
        with jsonlines.open(path) as reader:
            for rec in reader.iter(skip_invalid=True):  # a line cut by a kill is skipped, not fatal
                out.append(rec)
        return out

    def write_json(self, name: str, data: Any) -> None:
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
        tmp.replace(self.path / name)
