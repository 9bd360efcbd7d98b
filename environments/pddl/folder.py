"""A user's own PDDL domain: ``pddl:PATH``, where PATH is a folder holding ``domain.pddl`` and problem
files, or a domain file whose problems are the other ``.pddl`` files next to it.

Instance = a problem file's stem (``p01`` for ``p01.pddl``), or a path to any problem file. The
training/test split comes from ``split.json`` in the folder (``{"train": [...], "test": [...]}``, test
defaulting to the rest), else the 3 smallest problems (objects, then initial facts, then name) train
and the rest test, as the reference uses 3 training tasks. The environment's name is ``pddl:`` and
the absolute path, so that config.json re-runs it from anywhere.

The domain follows PDDL's semantics: a repeated object is allowed unless the domain forbids it with
``(not (= ?x ?y))`` (the four benchmark domains keep pddlgym's distinct objects, see
:mod:`.simulator`). Its texts are generic (``at(ball1, rooma) is true.``), never another domain's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..data import DataNotFoundError
from .env import build_env, check_options, natural_key, read_problem
from .parser import Domain, PDDLError, parse_domain, parse_problem

PREFIX = "pddl:"
DOMAIN_FILE = "domain.pddl"
SPLIT_FILE = "split.json"
TRAIN_SIZE = 3


class FolderError(ValueError):
    """A ``pddl:PATH`` that is not a usable domain folder; the message says what is missing."""


def is_folder_name(name: str) -> bool:
    return isinstance(name, str) and name.strip().lower().startswith(PREFIX)


@dataclass(frozen=True)
class DomainFolder:
    """Where a user's domain and its problems are."""

    domain_file: Path
    root: Path  # the folder of the problems (and of split.json, instruction.md, example.md)
    spec: Path  # what the user named: the folder or the domain file

    @property
    def env_name(self) -> str:
        return PREFIX + str(self.spec)

    def problems(self) -> dict[str, Path]:
        """Problem name -> file: every ``.pddl`` beside the domain file but the domain file itself."""
        files = sorted(
            (p for p in self.root.glob("*.pddl") if p.resolve() != self.domain_file and p.is_file()),
            key=lambda p: natural_key(p.stem),
        )
        return {p.stem: p for p in files}

    def problem_file(self, instance: str) -> Path:
        """The file of ``instance``: a problem name of the folder or a path to a ``.pddl`` file."""
        known = self.problems()
        if instance in known:
            return known[instance]
        path = Path(instance).expanduser()
        if path.suffix == ".pddl" and path.is_file():
            return path.resolve()
        if instance.startswith("gen:") or instance == "gen":
            raise FolderError(
                f"{self.env_name} has no problem generator; name a problem: {', '.join(known) or '(none)'}"
            )
        raise DataNotFoundError(f"{self.env_name} has no problem {instance!r}; known: {', '.join(known) or '(none)'}")

    def domain(self) -> Domain:
        """The parsed domain (a :class:`PDDLError` names the file and what it refuses)."""
        return parse_domain(read_problem(self.domain_file), str(self.domain_file))

    def split(self) -> dict[str, Any]:
        """``{"train": [...], "test": [...], "source": "split.json" | "3 smallest"}``."""
        return _split(str(self.root), str(self.domain_file), _mtimes(self.root))

    def instances(self, split: str | None = None) -> list[str]:
        if split is None:
            return list(self.problems())
        if split not in ("train", "test"):
            raise ValueError(f"unknown split {split!r} for {self.env_name}; use train, test or None")
        return list(self.split()[split])


def open_folder(name: str) -> DomainFolder:
    """``pddl:PATH`` (or a bare PATH) -> its :class:`DomainFolder`; a clear error where PATH does not fit."""
    spec = name.strip()[len(PREFIX) :] if is_folder_name(name) else name.strip()
    if not spec:
        raise FolderError("pddl: needs a path, e.g. pddl:my_domain/ (a folder with domain.pddl and problem files)")
    path = Path(spec).expanduser().resolve()
    if path.is_dir():
        domain = path / DOMAIN_FILE
        if not domain.is_file():
            found = ", ".join(sorted(p.name for p in path.glob("*.pddl"))[:6]) or "no .pddl file"
            raise FolderError(
                f"{path} has no {DOMAIN_FILE} (found: {found}); name the domain file instead: pddl:{path}/FILE.pddl"
            )
        return DomainFolder(domain.resolve(), path, path)
    if path.is_file():
        return DomainFolder(path, path.parent, path)
    raise FolderError(f"pddl:{spec}: no such folder or file")


def _mtimes(root: Path) -> tuple[float, ...]:
    """Changes to the folder's files (a new problem, an edited split.json) invalidate the cached split."""
    return tuple(sorted(p.stat().st_mtime for p in root.glob("*") if p.is_file()))


def problem_size(path: Path) -> tuple[int, int]:
    """(objects, initial facts) of a problem file, for "the smallest problems"."""
    problem = parse_problem(path.read_text(encoding="utf-8"), str(path))
    return len(problem.objects), len(problem.init)


@lru_cache(maxsize=32)
def _split(root: str, domain_file: str, _mtimes: tuple[float, ...]) -> dict[str, Any]:
    folder = DomainFolder(Path(domain_file), Path(root), Path(root))
    names = list(folder.problems())
    split_path = Path(root) / SPLIT_FILE
    if split_path.is_file():
        return _split_file(split_path, names)
    if not names:
        raise FolderError(f"{root} has no problem file (*.pddl besides {Path(domain_file).name})")
    try:
        sizes = {n: problem_size(folder.problems()[n]) for n in names}
    except PDDLError as exc:
        raise FolderError(str(exc)) from None
    ordered = sorted(names, key=lambda n: (*sizes[n], n))
    train = ordered[:TRAIN_SIZE]
    return {"train": train, "test": [n for n in names if n not in train], "source": f"{TRAIN_SIZE} smallest"}


def _split_file(path: Path, names: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FolderError(f"{path}: not a JSON file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("train"), list):
        raise FolderError(f'{path}: expected {{"train": ["p01", ...], "test": [...]}} (test optional: the rest)')
    train = [str(n) for n in data["train"]]
    test = (
        [str(n) for n in data["test"]] if isinstance(data.get("test"), list) else [n for n in names if n not in train]
    )
    unknown = [n for n in train + test if n not in names]
    if unknown:
        raise FolderError(
            f"{path}: unknown problem(s) {', '.join(unknown)}; the folder has {', '.join(names) or 'none'}"
        )
    return {"train": train, "test": test, "source": SPLIT_FILE}


def make_folder_env(name: str, instance: str, **options: Any):
    """The environment of ``pddl:PATH`` on one problem (see the module docstring)."""
    folder = open_folder(name)
    check_options(options, folder.env_name)
    path = folder.problem_file(str(instance))
    return build_env(
        folder.env_name, str(instance), folder.domain_file, str(path), read_problem(path), options, name=folder.env_name
    )
