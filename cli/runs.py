"""Run folders: ``runs/<run-id>/`` with config.json, events.jsonl, checkpoints, results."""
from __future__ import annotations

import datetime as _dt
import json
import platform
import re
import sys
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonlines

from nodes.jsonl import append_line

TRACKED_PACKAGES = (
    "langgraph", "langchain-core", "langchain-openai", "gymnasium", "alfworld", "textworld", "llama-cpp-python", "jsonlines",
)


class RunError(RuntimeError):
    """A run folder that cannot be used (missing, not resumable, ...)."""


def new_run_id(graph: str, env_name: str) -> str:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
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
        self.path.mkdir(parents=True, exist_ok=True)
        full = {**config, "argv": sys.argv, "created": _dt.datetime.now().isoformat(timespec="seconds"), "versions": package_versions()}
        (self.path / "config.json").write_text(json.dumps(full, indent=1, default=str), encoding="utf-8")

    def load_config(self) -> dict[str, Any]:
        cfg = self.path / "config.json"
        if not cfg.is_file():
            raise RunError(f"{self.path} is not a run folder (no config.json): cannot resume it")
        return json.loads(cfg.read_text(encoding="utf-8"))

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
