"""PDDL robotic-planning environments (gripper, blockworld, barman, tyreworld) as text envs.

Primitive = operator name with ``-`` -> ``_``, arguments in the operator's parameter order:
``pick('ball1', 'rooma', 'left')``; in the four benchmark domains distinct parameters take distinct
objects (as in pddlgym, which the reference runs on); a user's domain (:mod:`.folder`) follows PDDL.
Observation = the true facts as English sentences (after a refused action: why it was refused,
state unchanged; with the option ``feedback="generic"`` the reference's one sentence instead). ``info``: ``valid``, ``success`` (all goal facts hold), ``progress`` (share of
goal facts true, max over the episode), ``goal``, ``valid_actions`` (sorted calls), ``steps``,
``cost`` (the episode's total action cost: the domain's ``total-cost`` increases, else one per valid
action), and ``reason`` when refused. Reward 1.0 on the step that reaches the goal, which terminates.

Instances: a benchmark name (``prob08``), a path to a problem ``.pddl`` file, or a generated
problem ``gen:seed=3`` / ``gen:seed=3,balls=6`` (sizes per domain in :mod:`.generators`).
The domain: ``domain_file`` if given, else the benchmark's next to the data, else ours.
"""

from __future__ import annotations

import itertools
import os
import re
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from learnact.settings.defaults import DEFAULTS

from ..base import ActionParseError, TextEnv, format_call, parse_call
from ..data import PDDL_DOMAINS, DataNotFoundError, find_data_dir, load_split
from .generators import GeneratorError, generate
from .parser import Domain, PDDLError, check_problem, parse_domain, parse_problem
from .primitives import primitive_spec
from .simulator import GroundAction, GroundTask, call_name
from .text import describe_goal, describe_state, sentence
from .views import object_view, state_view

OWN_DOMAINS = Path(__file__).resolve().parent / "domains"
# How a refused action is explained: "named" (which precondition failed, this project's default) or
# "generic" (the reference's one sentence, --protocol paper); info["reason"] names it either way.
FEEDBACK = ("named", "generic")
GENERIC_INVALID = "The action is not valid and therefore takes no effect. Please check valid actions."
DEFAULT_GENERATED = [f"gen:seed={i}" for i in range(5)]
OPTIONS = ("max_steps", "feedback", "ground_budget")
BUDGET_ENV = "LEARNACT_GROUND_BUDGET"


class GroundingBudgetError(ValueError):
    """A problem whose ground actions would pass the budget (``ground_budget``): refused before grounding."""


def natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _no_data(domain: str) -> DataNotFoundError:
    return DataNotFoundError(
        f"no benchmark data for pddl/{domain}: looked for pddl/{domain}/ in --data-dir, $LEARNACT_DATA and ../shared/data. "
        f"Pass --data-dir DIR (a folder with pddl/, alfworld/, learnact_splits/) or use a generated instance such as gen:seed=1"
    )


def list_pddl_instances(task: str, split: str | None = None, data_dir=None) -> list[str]:
    if split == "generated":
        return list(DEFAULT_GENERATED)
    if split not in (None, "train", "test"):
        raise ValueError(f"unknown split {split!r}; use train, test, generated or None")
    root = find_data_dir(data_dir, required=f"pddl/{task}")
    if root is None:
        raise _no_data(task)
    if split is None:
        return sorted((p.stem for p in (root / "pddl" / task).glob("*.pddl")), key=natural_key)
    entry = load_split(task, root)
    if entry is None:
        raise DataNotFoundError(f"LearnAct's split files are missing under {root / 'learnact_splits'}")
    return [Path(p).stem for p in entry[split]]


@lru_cache(maxsize=32)
def _domain(path: str, mtime: float) -> Domain:
    return parse_domain(Path(path).read_text(encoding="utf-8"), path)


@lru_cache(maxsize=128)
def _task(domain_path: str, domain_mtime: float, task: str, problem_key: str, problem_text: str) -> GroundTask:
    """Parsed and indexed once per (domain file, problem): envs on the same instance share it,
    with its caches of ground actions, valid actions and state texts."""
    domain = _domain(domain_path, domain_mtime)
    problem = parse_problem(problem_text, problem_key)
    if not problem.domain_name or problem.domain_name == domain.name:  # a wrong domain gets its own message
        check_problem(domain, problem, problem_key)
    return GroundTask(domain, problem, partial(describe_state, task), distinct=task in PDDL_DOMAINS)


@lru_cache(maxsize=256)
def _generated(task: str, name: str) -> str:
    return generate(task, name)


def read_problem(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataNotFoundError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PDDLError(
            f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); a PDDL file is plain text"
        ) from None


def resolve_problem(task: str, instance: str, data_dir=None) -> tuple[str, str, Path | None]:
    """(problem key, problem text, the benchmark domain file next to the data or None)."""
    if instance == "gen" or instance.startswith("gen:"):
        try:
            return f"{task}/{instance}", _generated(task, instance), None
        except GeneratorError as exc:
            raise ValueError(str(exc)) from None
    path = Path(instance).expanduser()
    if path.suffix == ".pddl" and path.is_file():
        sibling = path.parent.parent / f"{task}.pddl"
        return str(path.resolve()), read_problem(path), sibling if sibling.is_file() else None
    if path.suffix == ".pddl" and (len(path.parts) > 1 or path.is_absolute()):
        raise DataNotFoundError(f"problem file {path} does not exist")
    root = find_data_dir(data_dir, required=f"pddl/{task}")
    if root is None:
        raise _no_data(task)
    candidate = root / "pddl" / task / f"{instance.removesuffix('.pddl')}.pddl"
    if not candidate.is_file():
        known = list_pddl_instances(task, data_dir=root)
        raise DataNotFoundError(f"pddl/{task} has no instance {instance!r}; known: {', '.join(known)} (or gen:seed=N)")
    bench_domain = root / "pddl" / f"{task}.pddl"
    return str(candidate), read_problem(candidate), bench_domain if bench_domain.is_file() else None


def make_pddl_env(task: str, instance: str, data_dir=None, domain_file=None, **options: Any) -> PDDLEnv:
    if task not in PDDL_DOMAINS:
        raise ValueError(f"unknown PDDL domain {task!r}")
    check_options(options, f"pddl/{task}")
    key, text, bench_domain = resolve_problem(task, str(instance), data_dir)
    domain_path = Path(domain_file) if domain_file else (bench_domain or OWN_DOMAINS / f"{task}.pddl")
    return build_env(task, str(instance), domain_path, key, text, options)


def check_options(options: dict, name: str) -> None:
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(f"unknown option(s) for {name}: {', '.join(sorted(unknown))}")


def load_task(task: str, domain_path: Path, key: str, text: str) -> GroundTask:
    """The parsed, checked problem on its domain (cached); a file that does not parse or fit is a ValueError."""
    if not domain_path.is_file():
        raise DataNotFoundError(f"domain file {domain_path} does not exist")
    try:
        ground = _task(str(domain_path), domain_path.stat().st_mtime, task, key, text)
    except PDDLError as exc:
        raise ValueError(str(exc)) from None
    if ground.problem.domain_name and ground.problem.domain_name != ground.domain.name:
        raise ValueError(
            f"problem {key} is for domain {ground.problem.domain_name!r}, but {domain_path} defines {ground.domain.name!r}"
        )
    return ground


def ground_budget() -> int:
    """The grounding budget of this process: ``$LEARNACT_GROUND_BUDGET``, else the default (environment variable,
    so that a run's workers, Ray's included, apply the same one)."""
    value = os.environ.get(BUDGET_ENV, "").strip()
    if not value:
        return DEFAULTS.ground_budget
    try:
        return int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError(f"${BUDGET_ENV}={value!r} is not a number of ground actions") from None


def check_budget(ground: GroundTask, label: str, budget: int | None = None) -> int:
    """The problem's estimated ground actions; a :class:`GroundingBudgetError` when they pass ``budget``."""
    budget = ground_budget() if budget is None else budget
    sizes = ground.size_estimate()
    total = sum(sizes.values())
    if total > budget:
        worst = ", ".join(f"{n} {c:,}" for n, c in sorted(sizes.items(), key=lambda kv: -kv[1])[:3])
        raise GroundingBudgetError(
            f"{label}: about {total:,} ground actions ({worst}) exceed the grounding budget of {budget:,}; "
            f"raise it with ${BUDGET_ENV} (run.py check --budget N) or use a smaller problem"
        )
    return total


def build_env(
    task: str, instance: str, domain_path: Path, key: str, text: str, options: dict, name: str | None = None
) -> PDDLEnv:
    ground = load_task(task, domain_path, key, text)
    check_budget(ground, key, options.get("ground_budget"))
    env = PDDLEnv(
        task,
        instance,
        ground,
        max_steps=options.get("max_steps"),
        feedback=options.get("feedback") or "named",
        name=name,
    )
    env.domain_path, env.problem_text = (
        domain_path,
        text,
    )  # what an outside planner reads (environments/pddl/derived.py)
    return env


class PDDLEnv(TextEnv):
    """One PDDL problem as a text environment; see the module docstring for the contract."""

    def __init__(
        self,
        domain: str,
        instance: str,
        ground: GroundTask,
        max_steps: int | None = None,
        feedback: str = "named",
        name: str | None = None,
    ):
        super().__init__()
        if feedback not in FEEDBACK:
            raise ValueError(f"feedback must be one of {', '.join(FEEDBACK)}, got {feedback!r}")
        self.feedback = feedback
        self.domain_name = domain  # the key of the domain's texts: a benchmark name, else the folder's env name
        self.name = name or f"pddl/{domain}"
        self.instance = instance
        self.ground = ground
        self.max_steps = max_steps
        self.goal = describe_goal(domain, ground.goal_pos, ground.goal_neg)
        operators = list(ground.domain.operators.values())
        self.primitives = tuple(primitive_spec(domain, op) for op in operators)
        self._by_name = {call_name(op.name): op for op in operators}
        self._spec_by_name = {p.name: p for p in self.primitives}
        self.objects = tuple(sorted(ground.objects))
        self._typed: list[str] | None = None
        self._set_state(ground.init)
        self.best_progress = 0.0
        self.steps = 0
        self.cost = 0.0

    def _set_state(self, state) -> None:
        self.state = state
        self._valid = self.ground.valid_actions(state)  # call text -> ground action

    # ------------------------------------------------------------ gymnasium API

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._set_state(self.ground.init)
        self.steps = 0
        self.best_progress = 0.0
        self.cost = 0.0
        return self.ground.describe(self.state), self._info(valid=True)

    def step(self, action: str):
        self.steps += 1
        # Hot path: the exact text of a valid call (what agents and learned code usually send).
        ground_action = self._valid.get(action) if isinstance(action, str) else None
        error = None
        if ground_action is None:
            ground_action, error = self._resolve(action)
        if error is None:
            self.cost += ground_action.cost
            self._set_state(ground_action.apply(self.state))
            obs = self.ground.describe(self.state)
        else:
            obs = GENERIC_INVALID if self.feedback == "generic" else error
        info = self._info(valid=error is None)
        if error is not None:
            info["reason"] = error
        terminated = info["success"]
        truncated = bool(self.max_steps and self.steps >= self.max_steps and not terminated)
        reward = 1.0 if (terminated and error is None) else 0.0
        return obs, reward, terminated, truncated, info

    def _resolve(self, action) -> tuple[GroundAction | None, str | None]:
        """The ground action ``action`` names, or why it cannot be applied in the current state."""
        if not isinstance(action, str):
            return (
                None,
                f"Invalid action: expected text such as {self.primitives[0].signature}, got {type(action).__name__}",
            )
        try:
            name, args = parse_call(action)
        except ActionParseError as exc:
            return None, f"Invalid action: {exc}"
        op = self._by_name.get(name)
        if op is None:
            names = ", ".join(p.signature for p in self.primitives)
            return None, f"Unknown action {name!r}. The available actions are: {names}."
        spec = self._spec_by_name[name]
        if len(args) != len(op.params):
            return None, (
                f"Wrong number of arguments: {spec.signature} takes {len(op.params)} "
                f"argument{'s' if len(op.params) != 1 else ''}, got {len(args)}."
            )
        if not all(isinstance(a, str) for a in args):
            return None, f"Arguments must be object names in quotes, e.g. {format_call(name, spec.params)}."
        args = tuple(a.strip().lower() for a in args)
        unknown = [a for a in args if a not in self.ground.objects]
        if unknown:
            return None, f"Unknown object(s): {', '.join(unknown)}. The objects are: {', '.join(self.objects)}."
        call = format_call(name, args)
        type_errors = self.ground.type_errors(op, args)
        if type_errors:
            return None, f"The action {call} is not valid: {'; '.join(type_errors)}."
        repeated = self.ground.repeated_args(args)
        if repeated:
            return None, (
                f"The action {call} is not valid: each argument must be a different object, "
                f"but {', '.join(repeated)} is given more than once."
            )
        missing, present = self.ground.check(self.state, op, args)
        unequal = self.ground.broken_equalities(op, args)
        if missing or present or unequal:
            why = unequal + [f"{sentence(self.domain_name, a).rstrip('.')} is not true" for a in missing]
            why += [f"{sentence(self.domain_name, a).rstrip('.')} must not be true" for a in present]
            return None, f"The action {call} is not valid because {'; '.join(why)}."
        return self.ground.ground(op, args), None

    def valid_actions(self) -> list[str]:
        """The applicable primitive calls in the current state, sorted."""
        return list(self._valid)

    def facts(self) -> list[tuple[str, ...]]:
        """The true facts of the current state, sorted, as PDDL atoms ("at", "ball1", "rooma")."""
        return sorted(self.state)

    def state_view(self) -> str:
        if self.domain_name in PDDL_DOMAINS:
            return state_view(self.domain_name, self.state, self.ground.goal_pos, self.ground.goal_neg)
        return object_view(
            self.domain_name, self.state, self.ground.goal_pos, self.ground.goal_neg, self.ground.changing_predicates
        )

    def typed_calls(self) -> list[str]:
        """Every primitive call with arguments of the right types (distinct objects where the domain asks), valid now or not."""
        if self._typed is None:
            calls = []
            for name, op in self._by_name.items():
                pools = [self.ground.param_pool(op, param, ptype) for param, ptype in op.params]
                combos = itertools.product(*pools)
                if self.ground.distinct:
                    combos = (args for args in combos if len(set(args)) == len(args))
                calls += [format_call(name, args) for args in combos]
            self._typed = sorted(calls)
        return self._typed

    def objects_for(self, param: str) -> tuple[str, ...]:
        """Objects a learned action's parameter plausibly takes: those whose kind (PDDL type or static
        unary predicate such as ``ball`` or ``room``) its name contains (``from_room`` -> the rooms),
        else every object (``here``, ``src``)."""
        name = param.lower()
        kinds = self._object_kinds()
        matching = tuple(o for o in self.objects if any(k in name for k in kinds.get(o, ())))
        return matching or self.objects

    def changing_predicates(self) -> frozenset[str]:
        return frozenset(self.ground.changing_predicates)

    def goal_objects(self) -> tuple[str, ...]:
        """The objects of the goal's facts, in order."""
        return tuple(dict.fromkeys(o for atom in self.ground.goal_pos for o in atom[1:]))

    def _object_kinds(self) -> dict[str, set[str]]:
        if getattr(self, "_kinds", None) is None:
            kinds: dict[str, set[str]] = {o: set() for o in self.objects}
            for obj, otype in self.ground.objects.items():
                if otype and otype != "object":
                    kinds.setdefault(obj, set()).add(otype.lower())
            for atom in self.ground.init:
                if len(atom) == 2 and atom[0] not in self.ground.changing_predicates:
                    kinds.setdefault(atom[1], set()).add(atom[0].lower())
            self._kinds = kinds
        return self._kinds

    def restore(self, state) -> None:
        """Put the world back in ``state`` (a value of ``self.state``); used to try calls from one state."""
        self._set_state(frozenset(state))

    def observe(self) -> str:
        """The current observation without acting (what a valid step would have returned)."""
        return self.ground.describe(self.state)

    def _info(self, valid: bool) -> dict[str, Any]:
        self.best_progress = max(self.best_progress, self.ground.goal_share(self.state))
        return {
            "valid": valid,
            "success": self.ground.is_goal(self.state),
            "progress": self.best_progress,
            "goal": self.goal,
            "valid_actions": list(self._valid),
            "steps": self.steps,
            "cost": self.cost,
        }
