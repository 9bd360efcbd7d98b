"""One ALFWorld household game (TextWorld backend) as a gymnasium text environment.

One environment = one ALFWorld game file (``game.tw-pddl``). We load that single file with
``textworld.start`` and ALFWorld's own wrappers (``AlfredDemangler`` for the "desk 1" style
names, ``AlfredInfos``), exactly the wrappers ``AlfredTWEnv.init_env`` uses, instead of
``alfworld.agents.environment.get_environment("AlfredTWEnv")``: that class needs a YAML config,
walks the whole data folder on every construction and runs games in batched sub-processes,
none of which a one-game, one-episode environment needs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..base import ActionParseError, TextEnv, parse_call
from ..data import DataNotFoundError
from .commands import PRIMITIVES, call_to_command_candidates, check_call, command_to_call
from .splits import find_alfworld_dir, instance_name, known_task, resolve_game_file, task_of_game
from .textworld_patch import TEXTWORLD_LOCK, install_textgen_cache

WELCOME_BANNER = "-= Welcome to TextWorld, ALFRED! =-"
NOTHING_HAPPENS = "Nothing happens."

_GOAL_RE = re.compile(r"Your task is to:\s*(.+)")
# What a learned action's parameter takes, by the words of its name (objects_for): exact words, then prefixes.
_RECEPTACLE_WORDS = ("from", "to", "loc", "where", "here", "there", "at", "on", "in", "into", "onto", "src")
_RECEPTACLE_PREFIXES = ("recep", "place", "locat", "contain", "target", "dest", "source", "surface", "spot")
_OBJECT_WORDS = ("what",)
_OBJECT_PREFIXES = ("obj", "item", "thing")


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _kind(name: str) -> str:
    """'cabinet 3' -> 'cabinet'."""
    return name.rsplit(" ", 1)[0]


def _words(param: str) -> list[str]:
    """A parameter name's words: 'from_recep' -> ['from', 'recep'], 'targetObj2' -> ['target', 'obj']."""
    return re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", param).lower())


def _game_objects(game) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(portable objects, receptacles, other objects) of a loaded game, named as its commands name them
    ('mug 1', 'cabinet 3'): TextWorld's entities of the game (ALFWorld's demangler names them at load; places
    such as 'loc 12', object and receptacle types and the agent are left out), portable where the problem
    says ``pickupable``. Empty where this TextWorld keeps neither."""
    infos = getattr(game, "_entity_infos", None) or {}
    facts = getattr(getattr(game, "_pddl_state", None), "facts", None) or ()
    pickupable = {f.arguments[0].name for f in facts if f.name == "pickupable" and f.arguments}

    def names(kind: str, portable: bool | None = None) -> tuple[str, ...]:
        found = {
            i.name.strip()
            for key, i in infos.items()
            if i.type == kind and (i.name or "").strip() and (portable is None or (key in pickupable) == portable)
        }
        return tuple(sorted(found, key=_natural_key))

    return names("object", True), names("receptacle"), names("object", False)


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

    ``state``: the game commands accepted since the last reset, in order (a refused one changes nothing);
    ``restore(state)`` puts the game back there by replaying them (TextWorld games are deterministic).
    ``objects`` (every object and receptacle, e.g. 'mug 1', 'cabinet 3'), ``receptacles``,
    ``portable_objects``; ``objects_for(param)`` guesses from a parameter's name what it takes.
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
            with TEXTWORLD_LOCK:
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
        with TEXTWORLD_LOCK:
            self._game = textworld.start(
                str(self.game_file), request_infos=request, wrappers=[AlfredDemangler(), AlfredInfos]
            )
            self.portable_objects, self.receptacles, fixed = _game_objects(self._game)
        self.objects = tuple(sorted({*self.portable_objects, *self.receptacles, *fixed}, key=_natural_key))
        self._admissible: list[str] = []
        self._won = False
        self._steps = 0
        self._commands: tuple[str, ...] = ()
        self._started = False  # TextWorld steps a game only after its first reset
        self._seen: set[str] = set()  # names the observations since the reset showed (call_pools)
        longest_first = sorted(self.objects, key=len, reverse=True)  # 'cabinet 10' before 'cabinet 1'
        self._names_re = re.compile(r"\b(" + "|".join(map(re.escape, longest_first)) + r")\b") if self.objects else None
        self.goal = ""

    @property
    def state(self) -> tuple[str, ...]:
        """The world state reached: the game commands accepted since the last reset, in order."""
        return self._commands

    # -- gymnasium API

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        with TEXTWORLD_LOCK:
            state = self._game.reset()
        self._steps = 0
        observation = self._restarted(state)
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
        observation, valid = self._play(command)
        info = self._info(valid=valid, command=command)
        if not valid:
            info["reason"] = f"the game did not accept {command!r} (not an admissible command here)"
        reward = 1.0 if self._won and not was_won else 0.0
        return observation, reward, self._won, truncated, info

    def restore(self, state) -> None:
        """Put the world back in ``state`` (a value of ``self.state``), to try calls from one state: the game is
        reset and the commands replayed (only the missing ones when ``state`` continues the current one).
        Like a PDDL env's restore, no observation is returned and the step count is left alone."""
        target = tuple(state)
        if self._started and target == self._commands:
            return
        with TEXTWORLD_LOCK:
            if not self._started or target[: len(self._commands)] != self._commands:
                self._restarted(self._game.reset())
            for command in target[len(self._commands) :]:
                if not self._play(command)[1]:
                    raise ValueError(
                        f"cannot restore {target!r}: the game refused {command!r} after {self._commands!r}"
                    )

    def objects_for(self, param: str) -> tuple[str, ...]:
        """Objects a learned action's parameter plausibly takes, by the words of its name: those of a kind
        it names ('fridge', 'lamp' -> the desklamps); receptacles for 'recep', 'place', 'location', 'target',
        'dest', 'from', 'to'...; portable objects for 'obj', 'item', 'thing'; else (or both) every object."""
        words = _words(param)
        receptacle = [w for w in words if w in _RECEPTACLE_WORDS or w.startswith(_RECEPTACLE_PREFIXES)]
        portable = [w for w in words if w in _OBJECT_WORDS or w.startswith(_OBJECT_PREFIXES)]
        named = [w for w in words if w not in receptacle and w not in portable]
        of_kind = tuple(o for o in self.objects if any(w == _kind(o) or (len(w) >= 4 and w in _kind(o)) for w in named))
        if of_kind:
            return of_kind
        if bool(receptacle) != bool(portable):
            return (self.receptacles if receptacle else self.portable_objects) or self.objects
        return self.objects

    def call_pools(self) -> dict[str, list[list[str]]]:
        """What each primitive's arguments may be, typed and among the names seen since the reset (the intro's
        receptacles, the objects observations have shown): the agent's grammar offers these calls minus the
        ones refused since the state last changed, so it cannot repeat a refused call, nor is told a name it
        has not seen. ``{name: [pool of argument 1, ...]}``."""
        seen = self._seen
        receps = [r for r in self.receptacles if r in seen]
        portable = [o for o in self.portable_objects if o in seen]
        anything = [o for o in self.objects if o in seen]
        kinds = {"recep": receps, "obj": portable, "target": anything}
        pools = {p.name: [kinds[param] for param in p.params] for p in self.primitives}
        for switch in ("use", "toggle"):  # a lamp is not portable
            pools[switch] = [anything]
        return pools

    def _note_seen(self, observation: str) -> None:
        if self._names_re is not None:
            self._seen.update(self._names_re.findall(observation))

    def goal_objects(self) -> tuple[str, ...]:
        """The objects of each kind the goal names, in the goal's order ('put some mug on desk' -> the mugs, the desks)."""
        words = dict.fromkeys(re.findall(r"[a-z]+", self.goal.lower()))
        return tuple(o for w in words for o in self.objects if _kind(o) == w)

    def observe(self) -> str:
        """The last observation of an accepted command (ALFWorld has no state to read without acting)."""
        return getattr(self, "_last_observation", "")

    def valid_actions(self) -> list[str]:
        """The admissible commands in call form (commands with no primitive are left out)."""
        calls = (command_to_call(c) for c in self._admissible)
        return [c for c in calls if c is not None]

    def close(self) -> None:
        with TEXTWORLD_LOCK:
            self._game.close()

    # -- helpers

    def _play(self, command: str) -> tuple[str, bool]:
        """Send one game command; (its observation, whether the game accepted it). An accepted command
        extends ``state`` and shows its observation's names to ``call_pools``."""
        with TEXTWORLD_LOCK:
            game_state, _, _ = self._game.step(command)
        self._admissible = list(game_state["admissible_commands"])
        self._won = bool(game_state["won"])
        observation = game_state.feedback.strip()
        valid = observation != NOTHING_HAPPENS
        if valid:
            self._last_observation = observation
            self._commands += (command,)
            self._note_seen(observation)
        return observation, valid

    def _restarted(self, game_state) -> str:
        """Take the state of a game just reset; its intro (the observation)."""
        self._admissible = list(game_state["admissible_commands"])
        self._won = bool(game_state["won"])
        self._commands = ()
        self._started = True
        observation = _clean_intro(game_state.feedback)
        self._last_observation = observation
        self._seen = set()
        self._note_seen(observation)
        match = _GOAL_RE.search(observation)
        self.goal = match.group(1).strip() if match else ""
        return observation

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
    known_task(task)
    check_task = options.pop("check_task", True)
    if options.pop("feedback", "named") not in ("named", "generic"):
        raise ValueError("feedback must be named or generic")
    unknown = set(options) - {"max_steps", "walkthrough", "textgen_cache"}
    if unknown:
        raise TypeError(f"unknown ALFWorld env option(s): {', '.join(sorted(unknown))}")
    game_file = resolve_game_file(instance, data_dir)
    game_task = task_of_game(game_file)
    if check_task and game_task is not None and game_task != task:
        raise ValueError(f"instance {instance!r} is a {game_task} game, not {task}; use alfworld/{game_task}")
    try:
        alf_dir = find_alfworld_dir(data_dir)
        name = instance_name(game_file, alf_dir)
    except DataNotFoundError:
        name = str(instance)
    return AlfWorldEnv(game_file, task, name, **options)
