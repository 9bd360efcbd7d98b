"""A run's inputs, checked before its folder is made and the model starts: every instance exists and fits its
domain, the ``--actions`` library loads and is safe, the prompt files read and fit their nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from environments import make_env
from environments.alfworld import PRIMITIVES as ALFWORLD_PRIMITIVES
from environments.alfworld import resolve_game_file
from environments.pddl.folder import is_folder_name
from environments.registry import check_contract, is_registered_name
from learnact.actions import ActionLibrary, ActionLibraryError, load_actions
from prompts import PromptError, PromptSet, load_domain_material, load_paper_material

from .errors import UserError
from .review_prompt import require_terminal


def check_instances(env_name: str, instances: list[str], data_dir) -> tuple[str, ...]:
    """Every named problem exists, parses and fits its domain before the run folder and the model
    start, not an hour in; returns the environment's primitive action names.

    PDDL problems are parsed and checked against the domain (cached: the episodes reuse them);
    ALFWorld games are located by :func:`check_inputs` when the run starts (loading one takes ~0.5 s)."""
    if not instances:
        raise UserError(f"no instance to run on {env_name}: --instance was given without a name")
    if env_name.startswith("alfworld/"):
        return tuple(p.name for p in ALFWORLD_PRIMITIVES)
    names: tuple[str, ...] = ()
    for inst in instances:
        try:
            env = make_env(env_name, inst, data_dir=data_dir)
        except (
            ValueError,
            TypeError,
        ) as exc:  # a bad generator spec, a PDDL file that does not parse or fit the domain
            raise UserError(str(exc) if inst in str(exc) else f"--instance {inst}: {exc}") from None
        faults = check_contract(env) if is_registered_name(env_name) else []
        if faults:
            raise UserError(
                f"{env_name} on {inst}: the environment breaks the text-environment contract: {'; '.join(faults)} (environments/registry.py)"
            )
        names = names or tuple(p.name for p in env.primitives)
        env.close()
    return names


def check_inputs(settings: dict[str, Any]) -> None:
    """Before the run folder is made and the model starts, for a new run and a resumed one alike (a
    file may have moved or changed since): every instance exists and parses (PDDL) or is on disk
    (ALFWorld games: a file check, no game loaded), the ``--actions`` library loads and is safe, and the
    prompt files read and fit their nodes."""
    if settings["graph"] == "evaluate":
        named = {e: list(settings["train"].get(e, [])) + list(settings["test"].get(e, [])) for e in settings["envs"]}
    else:
        named = {settings["env"]: settings.get("train_instances") or settings.get("instances") or []}
    require_terminal(settings)  # --review: somebody must be there to answer
    primitives: tuple[str, ...] = ()
    for env_name, instances in named.items():
        primitives = check_instances(env_name, instances, settings.get("data_dir"))
        if env_name.startswith("alfworld/"):
            for inst in instances:
                try:
                    resolve_game_file(inst, settings.get("data_dir"))
                except ValueError as exc:
                    raise UserError(f"--instance {inst!r}: {exc}") from None
    _check_actions(settings.get("actions"), primitives)
    if (
        settings.get("prompt_set") == "paper"
    ):  # the paper's prompts need each task's worked material (prompts/paper/domains)
        for env_name in named:
            try:
                load_paper_material(env_name, settings["prompts"]["dir"])
            except PromptError as exc:
                raise UserError(f"--prompt-set paper: {exc}") from None
    PromptSet(
        settings["prompts"]["dir"], settings["prompts"]["overrides"], prompt_set=settings.get("prompt_set", "default")
    )  # every template fits
    for (
        env_name
    ) in named:  # a domain folder's derived material (its example is planned now, once) or a registered env's
        if is_folder_name(env_name) or is_registered_name(env_name):
            load_domain_material(env_name, settings["prompts"]["dir"])


def load_library(spec: str | None) -> tuple[ActionLibrary | None, str | None]:
    """``--actions``: a hand-written .py file, a library folder, or a learn run folder; (library, its
    demonstration or None)."""
    if not spec:
        return None, None
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"--actions {spec}: no such file or folder")
    demo = None
    if path.is_dir() and (path / "library").is_dir():
        path = path / "library"
    if path.is_dir() and (path / "demonstration.md").is_file():
        demo = (path / "demonstration.md").read_text(encoding="utf-8").strip() or None
    return load_actions(path), demo


def _check_actions(spec: str | None, primitives: tuple[str, ...]) -> None:
    """``--actions``: the library loads, no function is one the sandbox refuses, no name is a primitive's."""
    if not spec:
        return
    try:
        library, _ = load_library(spec)
        library.check_primitive_names(primitives)
        refused = library.safety_problems(primitives)
    except ActionLibraryError as exc:
        raise UserError(f"--actions {spec}: {exc}") from None
    if refused:
        name, why = next(iter(refused.items()))
        more = f" (and {len(refused) - 1} more function(s))" if len(refused) > 1 else ""
        raise UserError(f"--actions {spec}: the sandbox refuses function {name!r}: {'; '.join(why)}{more}")
