"""The prompt material of a user's domain folder (``pddl:PATH``), derived from the domain, not hand-written.

- instruction: the domain's types, constants and predicates, the call format, and each action with its
  typed parameters, preconditions and effects (:mod:`.primitives`), overridden by ``PATH/instruction.md``;
- example: a worked episode on the smallest training problem, solved by pyperplan (or, where pyperplan
  cannot read the domain, by :mod:`.search`) and played through the environment so that every observation
  is the environment's own text, overridden by ``PATH/example.md``. Plans are cached on disk
  (``$LEARNACT_CACHE``, else ``~/.cache/learnact``), keyed by the domain's and the problem's texts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .folder import DomainFolder, make_folder_env, open_folder, problem_size
from .oracle import OracleError, plan_file
from .prompt_material import CALL_FORMAT_BASE, primitive_lines, record_episode
from .search import find_plan

INSTRUCTION_FILE = "instruction.md"
EXAMPLE_FILE = "example.md"
SAME_OBJECT = "The same object may fill two parameters unless an action's precondition says they differ."


class MaterialError(ValueError):
    """No worked example can be made for the domain (no plan found for its smallest training problem)."""


@dataclass(frozen=True)
class FolderMaterial:
    instruction: str
    example: str
    instruction_source: str  # the file it was read from, or "derived"
    example_source: str  # the file, or "derived: pyperplan" / "derived: search"
    example_instance: str | None  # the problem the derived example was played on (None for example.md)


def cache_dir() -> Path:
    root = (
        os.environ.get("LEARNACT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "learnact"
    )
    return Path(root) / "plans"


def smallest_training_problem(folder: DomainFolder) -> str:
    train = folder.instances("train")
    return min(train, key=lambda n: (*problem_size(folder.problem_file(n)), n))


def _type_line(types: dict[str, str]) -> str:
    return ", ".join(f"{t} (a kind of {p})" if p != "object" else t for t, p in types.items())


def world_text(domain, folder: DomainFolder) -> str:
    lines = [f"You act in the planning domain '{domain.name}' ({folder.domain_file.name} of {folder.root.name})."]
    if domain.types:
        lines.append(f"Object types: {_type_line(domain.types)}.")
    if domain.constants:
        lines.append(
            "Objects present in every problem: " + ", ".join(f"'{c}' ({t})" for c, t in domain.constants.items()) + "."
        )
    preds = ", ".join(f"{p}({', '.join(args)})" for p, args in domain.predicates.items())
    lines.append(f"A state is a set of facts written name(object, ...), over the predicates: {preds}.")
    lines.append("The task is to make every fact the goal lists true (and every fact it negates false).")
    if domain.has_costs:
        lines.append("Actions have costs; they are reported, and reaching the goal is what counts.")
    return "\n".join(lines)


def example_call(env, plan: list[str] | None = None) -> str:
    """A call to show in the call format: the plan's first, else a valid call that changes the state."""
    if plan:
        return plan[0]
    env.reset()
    valid = env.ground.valid_actions(env.state)
    changing = [call for call, action in valid.items() if action.apply(env.state) != env.state]
    return (changing or list(valid) or [f"{env.primitives[0].name}(...)"])[0]


def derived_instruction(env, plan: list[str] | None = None) -> str:
    """The instruction of ``env``'s domain from its PDDL (see the module docstring)."""
    folder = open_folder(env.name)
    example = example_call(env, plan)
    call_format = CALL_FORMAT_BASE.format(example=example) + "\n" + SAME_OBJECT
    return (
        f"{world_text(env.ground.domain, folder)}\n\n{call_format}\n\n"
        f"The primitive actions:\n{primitive_lines(env.primitives)}\n"
    )


def solve(env, max_states: int = 100_000) -> tuple[list[str], str]:
    """(plan, planner) for ``env``'s problem: pyperplan where it reads the domain, else the simulator's search."""
    try:
        return plan_file(env.domain_path, env.problem_text, cache_dir=cache_dir()), "pyperplan"
    except OracleError:
        plan = find_plan(env.ground, max_states)
        if plan is None:
            raise MaterialError(f"{env.name}: no plan found for {env.instance} within {max_states:,} states") from None
        return plan, "search"


def folder_material(env_name: str) -> FolderMaterial:
    """The material of ``pddl:PATH`` (see the module docstring)."""
    folder = open_folder(env_name)
    return _material(folder.env_name, _stamp(folder))


def _stamp(folder: DomainFolder) -> tuple:
    """What the material depends on: the folder's files (domain, problems, split.json, instruction.md, example.md)."""
    return tuple(sorted((p.name, p.stat().st_mtime) for p in folder.root.glob("*") if p.is_file()))


@lru_cache(maxsize=16)
def _material(env_name: str, _stamp: tuple) -> FolderMaterial:
    folder = open_folder(env_name)
    instance = smallest_training_problem(folder)
    env = make_folder_env(env_name, instance)
    given_instruction, given_example = folder.root / INSTRUCTION_FILE, folder.root / EXAMPLE_FILE
    plan, planner = (None, "") if given_example.is_file() else solve(env)
    if given_instruction.is_file():
        instruction, instruction_source = given_instruction.read_text(encoding="utf-8").strip(), str(given_instruction)
    else:
        instruction, instruction_source = derived_instruction(env, plan).strip(), "derived"
    if plan is None:
        return FolderMaterial(
            instruction, given_example.read_text(encoding="utf-8").strip(), instruction_source, str(given_example), None
        )
    return FolderMaterial(
        instruction, record_episode(env, plan).strip(), instruction_source, f"derived: {planner}", instance
    )
