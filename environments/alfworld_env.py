"""ALFWorld household games (TextWorld backend) as a gymnasium text environment.

One environment = one ALFWorld game file (``game.tw-pddl``). We load that single file with
``textworld.start`` and ALFWorld's own wrappers (``AlfredDemangler`` for the "desk 1" style
names, ``AlfredInfos``), exactly the wrappers ``AlfredTWEnv.init_env`` uses, instead of
``alfworld.agents.environment.get_environment("AlfredTWEnv")``: that class needs a YAML config,
walks the whole data folder on every construction and runs games in batched sub-processes,
none of which a one-game, one-episode environment needs.

Every game file embeds its own grammar. The benchmark games use the classic grammar
(``put X in/on Y``); newer ALFWorld releases say ``move X to Y``. The call-form primitives map
to whichever command text the game admits, so both work.

Instance names are ``<task-folder>/<trial>`` relative to ``json_2.1.1/valid_unseen`` (the 134
evaluation games), e.g. ``pick_and_place_simple-Mug-None-Desk-308/trial_T20190909_210238_431966``,
or ``valid_train/<task-folder>/<trial>`` for the 12 demonstration games. A path to a
``game.tw-pddl`` file (or to its trial folder) is accepted as well.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import ActionParseError, PrimitiveSpec, TextEnv, format_call, parse_call
from .data import DataNotFoundError, find_data_dir, load_split

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
    "put": 24, "clean": 31, "heat": 23, "cool": 21, "examine": 18, "puttwo": 17,
}
ALFWORLD_DATA_ENV_VAR = "ALFWORLD_DATA"
EVAL_SUBDIR = "json_2.1.1/valid_unseen"
DEMO_SUBDIR = "json_2.1.1/valid_train"
DEMO_PREFIX = "valid_train/"
GAME_FILE = "game.tw-pddl"
SPLITS = ("train", "test", "demo")
WELCOME_BANNER = "-= Welcome to TextWorld, ALFRED! =-"
NOTHING_HAPPENS = "Nothing happens."

HOW_TO_GET_DATA = (
    "Get the ALFWorld data with `pip install alfworld==0.4.2 && alfworld-download` on a machine "
    "with internet (it fills $ALFWORLD_DATA, default ~/.cache/alfworld), then set "
    "ALFWORLD_DATA=<that folder> or pass --data-dir <folder holding alfworld/>. The folder must "
    f"contain {EVAL_SUBDIR}/<task>/<trial>/{GAME_FILE}."
)


# --------------------------------------------------------------------------- primitives

@dataclass(frozen=True)
class _CommandForm:
    """How one primitive is written as game text; several forms cover grammar variants."""

    primitive: str
    pattern: re.Pattern[str]  # parses an admissible command into the primitive's arguments
    template: str  # builds the command from the arguments


def _form(primitive: str, template: str) -> _CommandForm:
    # "take {0} from {1}" -> ^take (.+) from (.+)$ ; names never contain the keywords' spaces.
    regex = re.escape(template).replace(re.escape("{0}"), "(.+?)").replace(re.escape("{1}"), "(.+)")
    return _CommandForm(primitive, re.compile(f"^{regex}$"), template)


# Order matters for parsing admissible commands: the first matching form wins.
_COMMAND_FORMS: tuple[_CommandForm, ...] = (
    _form("goto", "go to {0}"),
    _form("take", "take {0} from {1}"),
    _form("put", "put {0} in/on {1}"),  # classic grammar (the benchmark games)
    _form("put", "move {0} to {1}"),  # newer ALFWorld grammar
    _form("put", "put {0} into {1}"),  # object into a receptacle object (e.g. into a bowl)
    _form("put", "put {0} in {1}"),
    _form("open", "open {0}"),
    _form("close", "close {0}"),
    _form("clean", "clean {0} with {1}"),
    _form("heat", "heat {0} with {1}"),
    _form("cool", "cool {0} with {1}"),
    _form("use", "use {0}"),
    _form("examine", "examine {0}"),
    _form("inventory", "inventory"),
    _form("look", "look"),
)
# toggle is the same game command as use ("use desklamp 1" switches it on or off).
_ALIASES = {"toggle": "use"}

PRIMITIVES: tuple[PrimitiveSpec, ...] = (
    PrimitiveSpec(
        "goto", ("recep",), "Go to a receptacle (e.g. 'cabinet 1') and look at it.",
        "recep is a receptacle in the room and you are not already there.",
        "You are at recep; the observation lists what is on/in it, or says it is closed.",
    ),
    PrimitiveSpec(
        "take", ("obj", "recep"), "Pick up an object from the receptacle you are at.",
        "You are at recep, obj is visible in/on it, and your hands are empty.",
        "You hold obj; it is no longer in/on recep.",
    ),
    PrimitiveSpec(
        "put", ("obj", "recep"), "Put the object you hold in/on the receptacle you are at.",
        "You hold obj, you are at recep, and recep is open if it can be opened.",
        "obj is in/on recep; your hands are empty.",
    ),
    PrimitiveSpec(
        "open", ("recep",), "Open a closed receptacle you are at (drawer, fridge, microwave...).",
        "You are at recep, it can be opened and it is closed.",
        "recep is open; the observation lists what is in it.",
    ),
    PrimitiveSpec(
        "close", ("recep",), "Close an open receptacle you are at.",
        "You are at recep and it is open.", "recep is closed.",
    ),
    PrimitiveSpec(
        "toggle", ("obj",), "Switch a light or appliance you are at on or off (same as use).",
        "You are at the place of obj and obj can be switched (e.g. 'desklamp 1').",
        "obj is switched on (or off).",
    ),
    PrimitiveSpec(
        "clean", ("obj", "recep"), "Clean the object you hold with a sink or basin you are at.",
        "You hold obj and you are at recep, a sinkbasin.", "obj is clean; you still hold it.",
    ),
    PrimitiveSpec(
        "heat", ("obj", "recep"), "Heat the object you hold with a microwave you are at.",
        "You hold obj and you are at recep, a microwave.", "obj is hot; you still hold it.",
    ),
    PrimitiveSpec(
        "cool", ("obj", "recep"), "Cool the object you hold with a fridge you are at.",
        "You hold obj and you are at recep, a fridge.", "obj is cool; you still hold it.",
    ),
    PrimitiveSpec(
        "use", ("obj",), "Use (switch on/off) an object you are at, e.g. a desklamp.",
        "You are at the place of obj and obj can be switched (e.g. 'desklamp 1').",
        "obj is switched on (or off); looking at a held object under a lit lamp examines it.",
    ),
    PrimitiveSpec(
        "examine", ("target",), "Look closely at an object or receptacle you are at or hold.",
        "target is the receptacle you are at, or an object there or in your hands.",
        "Nothing changes; the observation describes target.",
    ),
    PrimitiveSpec(
        "inventory", (), "List what you are carrying.", "None.", "Nothing changes.",
    ),
    PrimitiveSpec(
        "look", (), "Describe where you are and what you see.", "None.", "Nothing changes.",
    ),
)
_PRIMITIVES_BY_NAME = {p.name: p for p in PRIMITIVES}


def command_to_call(command: str) -> str | None:
    """Game text -> call form: ``"go to desk 1"`` -> ``"goto('desk 1')"``; None if unmapped."""
    command = command.strip()
    for form in _COMMAND_FORMS:
        match = form.pattern.match(command)
        if match:
            return format_call(form.primitive, match.groups())
    return None


def call_to_command_candidates(name: str, args: tuple[str, ...]) -> list[str]:
    """The game texts a primitive call may stand for, preferred (classic grammar) first."""
    name = _ALIASES.get(name, name)
    return [form.template.format(*args) for form in _COMMAND_FORMS if form.primitive == name]


def check_call(name: str, args: tuple[Any, ...]) -> str | None:
    """Why ``name(*args)`` is not a well-formed primitive call, or None when it is."""
    spec = _PRIMITIVES_BY_NAME.get(name)
    if spec is None:
        known = ", ".join(p.signature for p in PRIMITIVES)
        return f"unknown action {name!r}; the primitive actions are: {known}"
    if len(args) != len(spec.params):
        return (
            f"{spec.signature} takes {len(spec.params)} argument(s), got {len(args)}: "
            f"{format_call(name, args)}"
        )
    for arg in args:
        if not isinstance(arg, str) or not arg.strip():
            return f"arguments of {name} must be non-empty names in quotes, e.g. 'desk 1'; got {arg!r}"
    return None


# --------------------------------------------------------------------------- data and instances

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


def _check_task(task: str) -> str:
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
    _check_task(task)
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


# --------------------------------------------------------------------------- textworld speed-up

_TEXTGEN_CACHE_INSTALLED = False


def install_textgen_cache() -> None:
    """Memoise TextWorld's grammar-template parsing (about 3x more steps per second).

    TextWorld re-parses the same few template strings with TatSu for every admissible command
    at every step. We cache the parse result per string and hand out deep copies (the symbols
    get a per-use context), and cache ``Rule.parse_conjunctive_query`` (pure). Observations and
    admissible commands are unchanged (benchmarks/bench_alfworld_env.py checks this).
    Process-wide and idempotent; written against textworld 1.7.0 (what alfworld 0.4.2 pulls).
    """
    global _TEXTGEN_CACHE_INSTALLED
    if _TEXTGEN_CACHE_INSTALLED:
        return
    from textworld.envs.pddl import textgen
    from textworld.logic import Rule

    if not hasattr(textgen, "_parse_and_convert") or not hasattr(Rule, "parse_conjunctive_query"):
        return  # another TextWorld version: run uncached rather than patch blindly
    original_parse = textgen._parse_and_convert
    parsed: dict[tuple[str, str], Any] = {}

    def cached_parse(text, rule_name="symbols", **kwargs):
        key = (text, rule_name)
        if key not in parsed:
            parsed[key] = original_parse(text, rule_name=rule_name, **kwargs)
        return copy.deepcopy(parsed[key])

    textgen._parse_and_convert = cached_parse
    original_query = Rule.parse_conjunctive_query.__func__
    Rule.parse_conjunctive_query = classmethod(functools.lru_cache(maxsize=4096)(original_query))
    _TEXTGEN_CACHE_INSTALLED = True


# --------------------------------------------------------------------------- the environment

_GOAL_RE = re.compile(r"Your task is to:\s*(.+)")

# TextWorld parses game logic and text templates with TatSu, whose parser state is shared by the
# whole process: two games loading or stepping at once in threads (parallel episodes of an
# evaluation) crashed with "IndexError: pop from empty list" in tatsu/contexts.py. Every call into
# TextWorld holds this lock; a step takes ~13 ms, so episodes waiting on an LLM hardly ever wait here.
_TEXTWORLD_LOCK = threading.RLock()


def _clean_intro(text: str) -> str:
    """The intro without TextWorld's banner (ReAct/LearnAct prompts drop it too)."""
    return text.replace(WELCOME_BANNER, "").strip()


class AlfWorldEnv(TextEnv):
    """One ALFWorld game; actions are primitive calls such as ``take('mug 1', 'desk 1')``.

    ``info``: ``valid``, ``success`` (the game's ``won``), ``progress`` (1.0 once won, else 0.0:
    ALFWorld goals are existential formulas with no meaningful share of facts), ``goal``,
    ``valid_actions`` (the admissible commands in call form), ``command`` (the game text sent,
    or None), ``admissible_commands`` (raw game texts), ``reason`` (why an action was invalid),
    ``steps``; after reset also ``walkthrough`` when asked for.
    """

    def __init__(
        self,
        game_file: Path,
        task: str,
        instance: str,
        *,
        max_steps: int | None = None,
        walkthrough: bool = False,
        textgen_cache: bool = True,
    ) -> None:
        super().__init__()
        import textworld
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos

        if textgen_cache:
            with _TEXTWORLD_LOCK:
                install_textgen_cache()
        self.name = f"alfworld/{task}"
        self.task = task
        self.instance = instance
        self.game_file = Path(game_file)
        self.primitives = PRIMITIVES
        self.max_steps = max_steps
        self._want_walkthrough = walkthrough
        request = textworld.EnvInfos(
            won=True, admissible_commands=True, extras=["gamefile"] + (["walkthrough"] if walkthrough else [])
        )
        with _TEXTWORLD_LOCK:
            self._game = textworld.start(
                str(self.game_file), request_infos=request, wrappers=[AlfredDemangler(), AlfredInfos]
            )
        self._admissible: list[str] = []
        self._won = False
        self._steps = 0
        self.goal = ""

    # -- gymnasium API

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        with _TEXTWORLD_LOCK:
            state = self._game.reset()
        self._admissible = list(state["admissible_commands"])
        self._won = bool(state["won"])
        self._steps = 0
        observation = _clean_intro(state.feedback)
        self._last_observation = observation
        match = _GOAL_RE.search(observation)
        self.goal = match.group(1).strip() if match else ""
        info = self._info(valid=True, command=None)
        if self._want_walkthrough:
            info["walkthrough"] = [command_to_call(c) or c for c in state.get("extra.walkthrough") or []]
        return observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self._steps += 1
        truncated = self.max_steps is not None and self._steps >= self.max_steps
        try:
            name, args = parse_call(action)
        except ActionParseError as exc:
            return self._rejected(f"Invalid action: {exc}", truncated)
        problem = check_call(name, args)
        if problem is not None:
            return self._rejected(f"Invalid action: {problem}", truncated)
        command = self._to_command(name, args)
        was_won = self._won
        with _TEXTWORLD_LOCK:
            state, _, _ = self._game.step(command)
        self._admissible = list(state["admissible_commands"])
        self._won = bool(state["won"])
        observation = state.feedback.strip()
        valid = observation != NOTHING_HAPPENS
        if valid:
            self._last_observation = observation
        info = self._info(valid=valid, command=command)
        if not valid:
            info["reason"] = f"the game did not accept {command!r} (not an admissible command here)"
        reward = 1.0 if self._won and not was_won else 0.0
        return observation, reward, self._won, truncated, info

    def observe(self) -> str:
        """The last observation of an accepted command (ALFWorld has no state to read without acting)."""
        return getattr(self, "_last_observation", "")

    def valid_actions(self) -> list[str]:
        """The admissible commands in call form (commands with no primitive are left out)."""
        calls = (command_to_call(c) for c in self._admissible)
        return [c for c in calls if c is not None]

    def close(self) -> None:
        with _TEXTWORLD_LOCK:
            self._game.close()

    # -- helpers

    def _to_command(self, name: str, args: tuple[str, ...]) -> str:
        args = tuple(a.strip() for a in args)
        candidates = call_to_command_candidates(name, args)
        admissible = set(self._admissible)
        return next((c for c in candidates if c in admissible), candidates[0])

    def _rejected(self, message: str, truncated: bool) -> tuple[str, float, bool, bool, dict]:
        info = self._info(valid=False, command=None)
        info["reason"] = message
        return message, 0.0, self._won, truncated, info

    def _info(self, *, valid: bool, command: str | None) -> dict[str, Any]:
        return {
            "valid": valid,
            "success": self._won,
            "progress": 1.0 if self._won else 0.0,
            "goal": self.goal,
            "valid_actions": self.valid_actions(),
            "admissible_commands": list(self._admissible),
            "command": command,
            "steps": self._steps,
            "task": self.task,
            "instance": self.instance,
        }


def make_alfworld_env(task: str, instance: str, data_dir=None, **options) -> AlfWorldEnv:
    """Create the environment of one ALFWorld game of type ``task`` (put, clean, heat, ...).

    Options: ``max_steps`` (truncate after that many steps; default None), ``walkthrough``
    (reset info carries a planner solution in call form; slower reset), ``textgen_cache``
    (default True, see :func:`install_textgen_cache`), ``check_task`` (default True: the game
    must be of type ``task``), ``feedback`` (accepted for PDDL's sake: the game's own "Nothing
    happens." is already the paper's generic feedback).
    """
    _check_task(task)
    check_task = options.pop("check_task", True)
    if options.pop("feedback", "named") not in ("named", "generic"):
        raise ValueError("feedback must be named or generic")
    unknown = set(options) - {"max_steps", "walkthrough", "textgen_cache"}
    if unknown:
        raise TypeError(f"unknown ALFWorld env option(s): {', '.join(sorted(unknown))}")
    game_file = resolve_game_file(instance, data_dir)
    game_task = task_of_game(game_file)
    if check_task and game_task is not None and game_task != task:
        raise ValueError(
            f"instance {instance!r} is a {game_task} game, not {task}; use alfworld/{game_task}"
        )
    try:
        alf_dir = find_alfworld_dir(data_dir)
        name = instance_name(game_file, alf_dir)
    except DataNotFoundError:
        name = str(instance)
    return AlfWorldEnv(game_file, task, name, **options)

