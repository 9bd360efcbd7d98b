"""ALFWorld household games (TextWorld backend): the command mapping (:mod:`.commands`), the data folder and
splits (:mod:`.splits`), the TextWorld patch (:mod:`.textworld_patch`) and the environment (:mod:`.env`)."""

from .commands import PRIMITIVES, call_to_command_candidates, check_call, command_to_call
from .env import AlfWorldEnv, make_alfworld_env
from .splits import (
    EXPECTED_EVAL_COUNTS,
    TASK_TYPES,
    example_instance,
    find_alfworld_dir,
    list_alfworld_instances,
    resolve_game_file,
    task_of_game,
)
from .textworld_patch import install_textgen_cache

__all__ = [
    "EXPECTED_EVAL_COUNTS",
    "PRIMITIVES",
    "TASK_TYPES",
    "AlfWorldEnv",
    "call_to_command_candidates",
    "check_call",
    "command_to_call",
    "example_instance",
    "find_alfworld_dir",
    "install_textgen_cache",
    "list_alfworld_instances",
    "make_alfworld_env",
    "resolve_game_file",
    "task_of_game",
]
