"""Creation trials (an aid: ``creation_trials``): a created action none of whose calls works in any situation of the
domain's example episode is dropped by the creation check, and the learner's repair is told why
(nodes/assist/probes.py ``trial_failures``). The check (nodes/learning/smoke.py ``sandbox_check``) asks for them
through :func:`creation_trials`."""

from __future__ import annotations

from typing import Any

from environments import DataNotFoundError
from environments.alfworld import example_instance as alfworld_example
from learnact.actions import ActionLibrary
from prompts import load_domain_material

from ..episodes import TaskEnvs
from ..history import action_lines
from .probes import trial_failures
from .worked_steps import worked_instances


def example_instance(env_name: str, data_dir=None) -> str | None:
    """The instance the domain's example episode was played on (PDDL: a generated one; ALFWorld: the type's
    first demonstration game), or None where there is none (no ALFWorld data)."""
    instances = worked_instances(env_name)
    if instances:
        return instances[0]
    family, _, task = env_name.partition("/")
    if family != "alfworld":
        return None
    try:
        return alfworld_example(task, data_dir)
    except DataNotFoundError:
        return None


def creation_trials(env_name: str, ctx: Any, envs: TaskEnvs | None = None, **executor_kwargs: Any):
    """The hook of the creation check: ``library -> {action: why}`` for actions that work nowhere in the example
    episode (run in the executor ``ctx.sandbox`` makes, with ``executor_kwargs``, on ``envs``' environment, else one
    made for the run); None where the domain has no replayable example instance."""
    instance = example_instance(env_name, ctx.episodes.data_dir)
    if instance is None:
        return None
    example = action_lines(load_domain_material(env_name, ctx.prompts_dir, ctx.feedback).example)

    def run(library: ActionLibrary) -> dict[str, str]:
        with TaskEnvs(ctx.episodes) as own:  # no caller's environments: one made for this run
            return trial_failures(
                library, (envs or own).get(env_name, instance), example, ctx.sandbox, **executor_kwargs
            )

    return run
