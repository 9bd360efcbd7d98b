"""Any gymnasium text environment, registered without touching the framework: ``--env MODULE:NAME``, or
``--env NAME`` where an installed package declares ``NAME = "MODULE:ATTR"`` in the entry-point group
``learnact.environments`` (pyproject: ``[project.entry-points."learnact.environments"]``).

``MODULE`` is an importable module (``examples.courier``) or a ``.py`` file (``path/to/game.py``), and ``NAME``
an attribute of it holding a :class:`TextEnvSpec`: how to make the environment on a named instance, which
instances train and which test, and the prompt material (the domain's instruction and one worked episode).

The contract the environment ``make(instance, **options)`` returns must keep (:func:`check_contract` tests it
on the first reset). It is a :class:`~environments.base.TextEnv`, which declares every method the nodes call with
a default, and it keeps:

- ``primitives``: a non-empty tuple of :class:`~environments.base.PrimitiveSpec`, the calls the agent may make;
  ``goal``: the goal as text; ``instance``: the instance's name.
- ``reset() -> (observation: str, info: dict)`` and ``step(action: str) -> (observation, reward, terminated,
  truncated, info)``, where ``action`` is one call such as ``go('kitchen')`` (:func:`~environments.base.parse_call`
  reads it). ``step`` never raises for a bad action: it returns ``info["valid"] = False`` and an observation that
  says why, and leaves the state unchanged.
- ``info`` carries ``valid`` (did the primitive apply), ``success`` (the goal holds; the episode terminates),
  ``progress`` (0..1, the best share of the goal reached in the episode) and ``goal``.
- optional, overriding TextEnv's defaults where the environment can answer: ``valid_actions()`` (the calls
  applicable now: the ``valid_actions_only`` grammar and learned code's ``valid_actions()`` query), ``state_view()``
  (a compact state for the agent's prompt; default: the last observation), ``typed_calls()`` (every well-typed
  call, for the typed grammar), ``call_pools()`` (argument pools per primitive, where the calls are not listed),
  ``objects`` and ``goal_objects()``, ``facts()`` and ``changing_predicates()`` (true facts as tuples, for learned
  code's ``find``), ``observe()`` (the observation without acting), and ``state`` / ``restore(state)`` /
  ``objects_for(param)`` together (put the world back in a saved state and list the objects a parameter takes:
  the creation trials and the probes of unused actions try calls with them), ``close()``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .base import TextEnv
from .data import EnvNameError

NAME = re.compile(r"^(?P<module>[A-Za-z_][\w.]*|[^:]+\.py):(?P<attr>[A-Za-z_]\w*)$")
REQUIRED_INFO = ("valid", "success", "progress", "goal")
# Options the framework gives every environment of a run (PDDL's refusal wording); passed where make() declares them.
FRAMEWORK_OPTIONS = ("feedback",)


@dataclass(frozen=True)
class TextEnvSpec:
    """A text environment registered for ``--env MODULE:NAME``."""

    make: Callable[..., Any]  # make(instance: str, **options) -> an environment keeping the module's contract
    instances: dict[str, list[str]]  # {"train": [...], "test": [...]}
    instruction: str  # the domain as the learner and the agent read it: the world, the primitives, the call format
    example: str  # one worked episode: "Goal: ...", "Observation: ...", then "Action: ..." / "Observation: ..." lines
    options: tuple[str, ...] = field(default=("max_steps",))  # the options make() takes


ENTRY_POINTS = "learnact.environments"


def entry_point(name: str) -> str | None:
    """``MODULE:ATTR`` that an installed package registers as ``name`` in :data:`ENTRY_POINTS`, or None."""
    from importlib.metadata import entry_points

    found = [ep.value for ep in entry_points(group=ENTRY_POINTS) if ep.name == name.strip()]
    return found[0] if found else None


def is_registered_name(name: str) -> bool:
    return (
        isinstance(name, str)
        and not name.startswith(("pddl:", "pddl/", "alfworld/"))
        and bool(NAME.match(name.strip()))
    )


def _import(module: str):
    if module.endswith(".py"):
        path = Path(module).expanduser().resolve()
        if not path.is_file():
            raise EnvNameError(f"--env {module}: no such file")
        spec = importlib.util.spec_from_file_location(f"learnact_env_{path.stem}", path)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = loaded
        spec.loader.exec_module(loaded)
        return loaded
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EnvNameError(
            f"--env {module}: cannot import it ({exc}); put its folder on PYTHONPATH or give a .py file"
        ) from None


@lru_cache(maxsize=32)
def load_spec(name: str) -> TextEnvSpec:
    """The :class:`TextEnvSpec` that ``MODULE:NAME`` names; an :class:`EnvNameError` saying what is wrong."""
    match = NAME.match(name.strip())
    if not match:
        raise EnvNameError(f"--env {name}: expected MODULE:NAME, e.g. examples.courier:COURIER")
    module = _import(match["module"])
    spec = getattr(module, match["attr"], None)
    if not isinstance(spec, TextEnvSpec):
        found = type(spec).__name__ if spec is not None else "nothing"
        raise EnvNameError(
            f"--env {name}: {match['attr']} in {match['module']} is {found}, not an environments.TextEnvSpec"
        )
    return spec


def make_registered_env(name: str, instance: str, **options: Any):
    spec = load_spec(name)
    options = {k: v for k, v in options.items() if k in spec.options or k not in FRAMEWORK_OPTIONS}
    unknown = set(options) - set(spec.options)
    if unknown:
        raise TypeError(f"unknown option(s) for {name}: {', '.join(sorted(unknown))}")
    env = spec.make(str(instance), **options)
    env.name = name
    return env


def registered_instances(name: str, split: str | None = None) -> list[str]:
    instances = load_spec(name).instances
    if split is None:
        return list(dict.fromkeys(n for names in instances.values() for n in names))
    if split not in instances:
        raise ValueError(f"{name} has no split {split!r}; it has {', '.join(instances)}")
    return list(instances[split])


def check_contract(env) -> list[str]:
    """What ``env`` misses of the contract (an empty list when it keeps it); resets it."""
    if not isinstance(env, TextEnv):
        return [
            f"make() must return an environments.TextEnv (it declares what the nodes call), got {type(env).__name__}"
        ]
    faults = []
    primitives = getattr(env, "primitives", ())
    if not primitives or not all(hasattr(p, "name") and hasattr(p, "params") for p in primitives):
        faults.append("primitives must be a non-empty tuple of environments.PrimitiveSpec")
    out = env.reset()
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], str) and isinstance(out[1], dict)):
        return faults + ["reset() must return (observation: str, info: dict)"]
    missing = [k for k in REQUIRED_INFO if k not in out[1]]
    if missing:
        faults.append(f"reset()'s info lacks {', '.join(missing)}")
    if not isinstance(getattr(env, "goal", None), str) or not env.goal:
        faults.append("goal must be the goal as text")
    return faults
