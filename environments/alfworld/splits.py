"""ALFWorld's data folder, its task types, instance names and LearnAct's train/test/demo splits.

Instance names are ``<task-folder>/<trial>`` relative to ``json_2.1.1/valid_unseen`` (the 134
evaluation games), e.g. ``pick_and_place_simple-Mug-None-Desk-308/trial_T20190909_210238_431966``,
or ``valid_train/<task-folder>/<trial>`` for the 12 demonstration games. A path to a
``game.tw-pddl`` file (or to its trial folder) is accepted as well.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from ..data import DataNotFoundError, find_data_dir, load_split

# Short task names of this project -> ALFWorld task types (folder-name prefixes).
TASK_TYPES: dict[str, str] = {
    "put": "pick_and_place_simple",
    "clean": "pick_clean_then_place_in_recep",
    "heat": "pick_heat_then_place_in_recep",
    "cool": "pick_cool_then_place_in_recep",
    "examine": "look_at_obj_in_light",
    "puttwo": "pick_two_obj_and_place",
}
# Games per type among the 134 evaluation games (ALFWorld "eval_out_of_distribution").
EXPECTED_EVAL_COUNTS: dict[str, int] = {
    "put": 24,
    "clean": 31,
    "heat": 23,
    "cool": 21,
    "examine": 18,
    "puttwo": 17,
}
ALFWORLD_DATA_ENV_VAR = "ALFWORLD_DATA"
EVAL_SUBDIR = "json_2.1.1/valid_unseen"
DEMO_SUBDIR = "json_2.1.1/valid_train"
DEMO_PREFIX = "valid_train/"
GAME_FILE = "game.tw-pddl"
SPLITS = ("train", "test", "demo")

HOW_TO_GET_DATA = (
    "Get the ALFWorld data with `pip install alfworld==0.4.2 && alfworld-download` on a machine "
    "with internet (it fills $ALFWORLD_DATA, default ~/.cache/alfworld), then set "
    "ALFWORLD_DATA=<that folder> or pass --data-dir <folder holding alfworld/>. The folder must "
    f"contain {EVAL_SUBDIR}/<task>/<trial>/{GAME_FILE}."
)


def find_alfworld_dir(data_dir=None) -> Path:
    """The ALFWorld data folder (the one holding ``json_2.1.1/``).

    ``data_dir`` may be a folder laid out like ``../shared/data`` (holding ``alfworld/``) or the
    ALFWorld folder itself. Without it: ``$ALFWORLD_DATA`` (the ALFWorld folder, as ALFWorld
    users set it), then ``$LEARNACT_DATA``/``../shared/data``. Raises DataNotFoundError.
    """
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        for cand in (root, root / "alfworld"):
            if (cand / EVAL_SUBDIR).is_dir():
                return cand.resolve()
        raise DataNotFoundError(f"no ALFWorld games under {root} (looked for {EVAL_SUBDIR}). {HOW_TO_GET_DATA}")
    # Importing alfworld sets $ALFWORLD_DATA to ~/.cache/alfworld when unset, so an
    # $ALFWORLD_DATA without games is a candidate that falls through, not an error.
    env_dir = os.environ.get(ALFWORLD_DATA_ENV_VAR)
    if env_dir and (Path(env_dir).expanduser() / EVAL_SUBDIR).is_dir():
        return Path(env_dir).expanduser().resolve()
    root = find_data_dir(None, required=f"alfworld/{EVAL_SUBDIR}")
    if root is None:
        looked = f" (${ALFWORLD_DATA_ENV_VAR}={env_dir} has no games)" if env_dir else ""
        raise DataNotFoundError(f"ALFWorld data not found{looked}. {HOW_TO_GET_DATA}")
    return root / "alfworld"


def known_task(task: str) -> str:
    if task not in TASK_TYPES:
        raise ValueError(f"unknown ALFWorld task {task!r}; choose one of: {', '.join(TASK_TYPES)}")
    return task


def task_of_game(game_file: Path) -> str | None:
    """Short task name of a game from its task folder name (``pick_heat_...-Egg-...`` -> heat)."""
    folder = game_file.parent.parent.name
    for task, task_type in TASK_TYPES.items():
        # "pick_and_place_simple" is not a prefix of another type, so prefix matching is exact.
        if folder.startswith(task_type + "-"):
            return task
    return None


@functools.lru_cache(maxsize=16)
def _solvable_games(folder: str) -> tuple[tuple[str, str], ...]:
    """(task, game path) of the games ALFWorld's AlfredTWEnv keeps in ``folder``.

    Same filter as AlfredTWEnv.collect_game_files: traj_data.json and game.tw-pddl present,
    no 'movable'/'Sliced' task, ``solvable`` true in the game file.
    """
    games = []
    for game_file in sorted(Path(folder).glob(f"*/*/{GAME_FILE}")):
        if "movable" in str(game_file) or "Sliced" in str(game_file):
            continue
        if not (game_file.parent / "traj_data.json").exists():
            continue
        task = task_of_game(game_file)
        if task is None:
            continue
        with open(game_file, encoding="utf-8") as fh:
            if not json.load(fh).get("solvable", False):
                continue
        games.append((task, str(game_file)))
    return tuple(games)


def instance_name(game_file: Path, alf_dir: Path) -> str:
    """The short name of a game file inside ``alf_dir`` (see the module docstring)."""
    trial_dir = game_file.resolve().parent
    for subdir, prefix in ((EVAL_SUBDIR, ""), (DEMO_SUBDIR, DEMO_PREFIX)):
        try:
            return prefix + trial_dir.relative_to(alf_dir / subdir).as_posix()
        except ValueError:
            continue
    return str(game_file)


def list_alfworld_instances(task: str, split: str | None = None, data_dir=None) -> list[str]:
    """Instance names of one task type.

    ``split`` None: all of the type among the 134 evaluation games, sorted. ``"train"``/``"test"``:
    LearnAct's split (manifest key ``alfworld_<task>``), in the manifest's order. ``"demo"``:
    the type's games in ``valid_train`` (demonstrations, not evaluation games).
    """
    known_task(task)
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of: None, {', '.join(SPLITS)}")
    alf_dir = find_alfworld_dir(data_dir)
    if split == "demo":
        return [
            instance_name(Path(path), alf_dir)
            for kind, path in _solvable_games(str(alf_dir / DEMO_SUBDIR))
            if kind == task
        ]
    games = [path for kind, path in _solvable_games(str(alf_dir / EVAL_SUBDIR)) if kind == task]
    expected = EXPECTED_EVAL_COUNTS[task]
    if len(games) != expected:
        raise DataNotFoundError(
            f"{alf_dir / EVAL_SUBDIR} holds {len(games)} solvable {TASK_TYPES[task]} games, "
            f"expected {expected} (134 in all): the data folder is partial. {HOW_TO_GET_DATA}"
        )
    if split is None:
        return [instance_name(Path(path), alf_dir) for path in games]
    return _learnact_split(task, split, alf_dir, data_dir)


def example_instance(task: str, data_dir=None) -> str:
    """The game the type's worked example (``prompts/domains/alfworld/examples/<task>.md``) was recorded on:
    its first demonstration game (``valid_train``, never an evaluation game)."""
    demo = list_alfworld_instances(task, "demo", data_dir=data_dir)
    if not demo:
        raise DataNotFoundError(f"no {TASK_TYPES[task]} game in {DEMO_SUBDIR}. {HOW_TO_GET_DATA}")
    return demo[0]


def _learnact_split(task: str, split: str, alf_dir: Path, data_dir) -> list[str]:
    # The manifest sits beside alfworld/ in a ../shared/data-like folder.
    split_files = None
    for cand in (data_dir, alf_dir.parent) if data_dir is not None else (None, alf_dir.parent):
        try:
            split_files = load_split(f"alfworld_{task}", cand)
        except DataNotFoundError:
            split_files = None
        if split_files is not None:
            break
    if split_files is None:
        raise DataNotFoundError(
            "LearnAct's split files (learnact_splits/manifest.json) were not found next to "
            f"{alf_dir}; pass --data-dir <folder holding alfworld/ and learnact_splits/>."
        )
    names = []
    for rel in split_files[split]:
        game_file = alf_dir / "json_2.1.1" / rel.removeprefix("json_2.1.1/")
        if not game_file.is_file():
            raise DataNotFoundError(f"split game {rel} is missing under {alf_dir}. {HOW_TO_GET_DATA}")
        names.append(instance_name(game_file, alf_dir))
    return names


def resolve_game_file(instance: str, data_dir=None) -> Path:
    """The ``game.tw-pddl`` of an instance name or a path (file or trial folder)."""
    text = str(instance).strip()
    if not text:
        raise ValueError("empty ALFWorld instance name")
    as_path = Path(text).expanduser()
    if as_path.is_file():
        return as_path.resolve()
    if (as_path / GAME_FILE).is_file():
        return (as_path / GAME_FILE).resolve()
    alf_dir = find_alfworld_dir(data_dir)
    rel = text.removesuffix(f"/{GAME_FILE}").removeprefix("json_2.1.1/")
    candidates = [alf_dir / "json_2.1.1" / rel]
    if rel.startswith(DEMO_PREFIX):
        candidates.insert(0, alf_dir / DEMO_SUBDIR / rel.removeprefix(DEMO_PREFIX))
    candidates.append(alf_dir / EVAL_SUBDIR / rel.removeprefix("valid_unseen/"))
    for cand in candidates:
        if (cand / GAME_FILE).is_file():
            return (cand / GAME_FILE).resolve()
    raise DataNotFoundError(
        f"ALFWorld instance {text!r} not found under {alf_dir}: expected "
        f"<task-folder>/<trial> inside {EVAL_SUBDIR}, valid_train/<task-folder>/<trial>, or a "
        f"path to a {GAME_FILE} file (list them with list_instances('alfworld/<task>'))."
    )
