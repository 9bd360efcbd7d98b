"""Where benchmark data lives, environment names, and LearnAct's train/test splits.

The data folder is laid out like the project's ``../shared/data``: ``pddl/``, ``alfworld/``,
``learnact_splits/``. It is never copied into the project. Resolution order for the folder:
the explicit ``data_dir`` argument, ``$LEARNACT_DATA``, then ``../shared/data`` next to the
project (or next to the current directory). ALFWorld also honours ``$ALFWORLD_DATA``.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

PDDL_DOMAINS = ("gripper", "blockworld", "barman", "tyreworld")
ALFWORLD_TASKS = ("put", "clean", "heat", "cool", "examine", "puttwo")
ENV_NAMES = tuple(f"pddl/{d}" for d in PDDL_DOMAINS) + tuple(f"alfworld/{t}" for t in ALFWORLD_TASKS)
DATA_ENV_VAR = "LEARNACT_DATA"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class EnvNameError(ValueError):
    """An environment name that is not one of :data:`ENV_NAMES`."""


class DataNotFoundError(FileNotFoundError):
    """Benchmark data is missing or incomplete; the message says how to get it."""


def split_env_name(name: str) -> tuple[str, str]:
    """``"pddl/gripper"`` -> ``("pddl", "gripper")``; a bare domain name is accepted too."""
    name = (name or "").strip().lower()
    if "/" not in name:
        if name in PDDL_DOMAINS:
            name = f"pddl/{name}"
        elif name in ALFWORLD_TASKS:
            name = f"alfworld/{name}"
    if name not in ENV_NAMES:
        raise EnvNameError(f"unknown environment {name!r}; choose one of: {', '.join(ENV_NAMES)}")
    family, task = name.split("/", 1)
    return family, task


def _candidates(data_dir) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    out = []
    if os.environ.get(DATA_ENV_VAR):
        out.append(Path(os.environ[DATA_ENV_VAR]).expanduser())
    out += [PROJECT_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    return out


def find_data_dir(data_dir=None, required: str | None = None) -> Path | None:
    """The first candidate data folder (that has ``required`` inside when given), or None.

    An explicit ``data_dir`` that does not exist is an error, never silently replaced.
    """
    if data_dir is not None and not Path(data_dir).expanduser().is_dir():
        what = "is not a folder" if Path(data_dir).expanduser().exists() else "does not exist"
        raise DataNotFoundError(f"data folder {data_dir} {what}")
    for cand in _candidates(data_dir):
        if cand.is_dir() and (required is None or (cand / required).exists()):
            return cand.resolve()
    return None


@lru_cache(maxsize=8)
def _load_manifest(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_split(task_key: str, data_dir=None) -> dict[str, list[str]] | None:
    """LearnAct's split for ``task_key`` (``gripper`` or ``alfworld_put``) as data-relative paths.

    Returns ``{"train": [...], "test": [...]}`` in the split file's order, or None when the
    split files are absent.
    """
    root = find_data_dir(data_dir, required="learnact_splits/manifest.json")
    if root is None:
        return None
    manifest = _load_manifest(str(root / "learnact_splits" / "manifest.json"))
    if task_key not in manifest:
        raise DataNotFoundError(f"no LearnAct split for {task_key!r} in {root / 'learnact_splits'}")
    entry = manifest[task_key]
    return {split: [e.get("problem") or e["game"] for e in entry[split]] for split in ("train", "test")}
