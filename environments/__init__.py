"""Text environments with the gymnasium API: PDDL robotic planning and ALFWorld.

>>> from environments import make_env, list_instances
>>> env = make_env("pddl/gripper", "prob08")
"""
from __future__ import annotations

from .base import ActionParseError, PrimitiveSpec, TextEnv, format_call, parse_call
from .data import ENV_NAMES, DataNotFoundError, EnvNameError, split_env_name

__all__ = [
    "ENV_NAMES",
    "ActionParseError",
    "DataNotFoundError",
    "EnvNameError",
    "PrimitiveSpec",
    "TextEnv",
    "format_call",
    "list_instances",
    "make_env",
    "parse_call",
]


def make_env(name: str, instance: str, data_dir=None, domain_file=None, **options) -> TextEnv:
    """Create the environment ``name`` (e.g. ``pddl/gripper``) on one named instance.

    ``instance`` is a name from :func:`list_instances` (``prob08``), a path to a problem file
    (``.pddl`` or ``game.tw-pddl``), or a generated instance (``gen:seed=3`` for PDDL).
    """
    family, task = split_env_name(name)
    if family == "pddl":
        from .pddl.env import make_pddl_env

        return make_pddl_env(task, instance, data_dir=data_dir, domain_file=domain_file, **options)
    from .alfworld import make_alfworld_env

    return make_alfworld_env(task, instance, data_dir=data_dir, **options)


def list_instances(name: str, split: str | None = None, data_dir=None) -> list[str]:
    """Instance names of ``name``; ``split`` is ``"train"``/``"test"`` (LearnAct's splits) or None for all."""
    family, task = split_env_name(name)
    if family == "pddl":
        from .pddl.env import list_pddl_instances

        return list_pddl_instances(task, split=split, data_dir=data_dir)
    from .alfworld import list_alfworld_instances

    return list_alfworld_instances(task, split=split, data_dir=data_dir)
