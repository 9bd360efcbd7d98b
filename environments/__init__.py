"""Text environments with the gymnasium API: PDDL robotic planning and ALFWorld.

>>> from environments import make_env, list_instances
>>> env = make_env("pddl/gripper", "prob08")
>>> env = make_env("pddl:path/to/my_domain", "p01")   # a folder with domain.pddl and p01.pddl
>>> env = make_env("examples.courier:COURIER", "g1")   # any text environment registered as a TextEnvSpec
"""

from __future__ import annotations

from pathlib import Path

from .base import ActionParseError, PrimitiveSpec, TextEnv, format_call, parse_call
from .data import ENV_NAMES, DataNotFoundError, EnvNameError, split_env_name
from .pddl.folder import FolderError, is_folder_name, make_folder_env, open_folder
from .registry import TextEnvSpec, entry_point, is_registered_name, load_spec, make_registered_env, registered_instances

__all__ = [
    "ENV_NAMES",
    "ActionParseError",
    "canonical_env_name",
    "DataNotFoundError",
    "EnvNameError",
    "PrimitiveSpec",
    "TextEnv",
    "TextEnvSpec",
    "format_call",
    "list_instances",
    "make_env",
    "parse_call",
]


def canonical_env_name(name: str) -> str:
    """The name a run records: ``pddl/gripper`` for ``gripper``; ``pddl:/abs/path`` for ``pddl:PATH``
    (checked: the folder has a domain file). An unknown name is an :class:`EnvNameError`."""
    if is_folder_name(name):
        try:
            return open_folder(name).env_name
        except FolderError as exc:
            raise EnvNameError(str(exc)) from None
    if is_registered_name(name):
        module, _, attr = name.strip().rpartition(":")
        if module.endswith(".py"):  # a file: its absolute path, so that config.json re-runs from anywhere
            module = str(Path(module).expanduser().resolve())
        load_spec(f"{module}:{attr}")
        return f"{module}:{attr}"
    try:
        return "/".join(split_env_name(name))
    except EnvNameError:
        registered = entry_point(name)  # an installed package's environment (environments/registry.py)
        if registered is None:
            raise
        return canonical_env_name(registered)


def make_env(name: str, instance: str, data_dir=None, domain_file=None, **options) -> TextEnv:
    """Create the environment ``name`` (e.g. ``pddl/gripper``, or ``pddl:PATH`` for a domain folder) on one
    named instance.

    ``instance`` is a name from :func:`list_instances` (``prob08``), a path to a problem file
    (``.pddl`` or ``game.tw-pddl``), or a generated instance (``gen:seed=3`` for PDDL).
    """
    if is_folder_name(name):
        return make_folder_env(name, instance, **options)
    if is_registered_name(name):
        return make_registered_env(name, instance, **options)
    family, task = split_env_name(name)
    if family == "pddl":
        from .pddl.env import make_pddl_env

        return make_pddl_env(task, instance, data_dir=data_dir, domain_file=domain_file, **options)
    from .alfworld import make_alfworld_env

    return make_alfworld_env(task, instance, data_dir=data_dir, **options)


def list_instances(name: str, split: str | None = None, data_dir=None) -> list[str]:
    """Instance names of ``name``; ``split`` is ``"train"``/``"test"`` (LearnAct's splits; a domain folder's
    split.json or its 3 smallest problems) or None for all."""
    if is_folder_name(name):
        return open_folder(name).instances(split)
    if is_registered_name(name):
        return registered_instances(name, split)
    family, task = split_env_name(name)
    if family == "pddl":
        from .pddl.env import list_pddl_instances

        return list_pddl_instances(task, split=split, data_dir=data_dir)
    from .alfworld import list_alfworld_instances

    return list_alfworld_instances(task, split=split, data_dir=data_dir)
