"""Smoke-running learned code in the sandbox: the demonstration's learned calls, and (the creation trials aid,
nodes/assist/creation_trials.py) each action tried in the situations of the domain's example episode; a function
that breaks is charged with the error. Nothing here runs learned code except through the sandbox executor
(actions.Executor)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from environments import parse_call
from learnact.actions import ActionLibrary, Executor

from .. import assist
from ..context import Context
from ..episodes import TaskEnvs
from ..history import action_lines

# Error kinds that mean the learned code itself is broken, as opposed to a call with wrong
# arguments or a primitive that did not apply in the current state.
CODE_ERROR_KINDS = {"exception", "timeout", "memory", "primitive_limit", "output_limit", "worker_crash", "forbidden"}

_LEARNED_FRAME = re.compile(r'File "<learned>", line \d+, in (\w+)')


def culprit(message: str, library: ActionLibrary) -> str | None:
    """The innermost learned function in a sandbox traceback."""
    for name in reversed(_LEARNED_FRAME.findall(message or "")):
        if library.get(name) is not None:
            return name
    return None


def smoke_failures(
    library: ActionLibrary, env, calls: Iterable[str], sandbox: Callable[..., Executor] = Executor, **executor_kwargs
) -> dict[str, str]:
    """Run ``calls`` in order in the sandbox on ``env`` (reset); {function: error} for the code errors.

    An exception is charged to the innermost learned function of its traceback, any other code
    error to the function called. Calls to a function that already failed are skipped; the others
    still run, so one broken function does not hide the state of the rest.
    """
    env.reset()
    failed: dict[str, str] = {}
    with sandbox(env, library, **executor_kwargs) as ex:
        for call in calls:
            try:
                name = parse_call(call)[0]
            except ValueError:
                continue
            if name in failed or library.get(name) is None:
                continue
            result = ex.run(call)
            kind = getattr(result.error, "kind", None)
            if kind in CODE_ERROR_KINDS:
                to_blame = (culprit(result.error.message, library) if kind == "exception" else None) or name
                failed.setdefault(to_blame, f"Calling {call} failed ({kind}):\n{result.error.message}")
    return failed


def demo_names(demonstration: str) -> list[str]:
    """The names called on the demonstration's Action lines, in order."""
    names = []
    for line in action_lines(demonstration):
        try:
            names.append(parse_call(line)[0])
        except ValueError:
            continue
    return names


def demo_calls(demonstration: str, library: ActionLibrary) -> list[str]:
    """Learned-action calls in a demonstration, in order (these are the smoke test)."""
    calls = []
    for line in action_lines(demonstration):
        try:
            name, _ = parse_call(line)
        except ValueError:
            continue
        if library.get(name) is not None:
            calls.append(line)
    return calls


def shows_lost_actions(demonstration: str, before: ActionLibrary, after: ActionLibrary) -> set[str]:
    """Actions the demonstration calls that were in ``before`` but are not in ``after`` (dropped by its check)."""
    return {n for n in demo_names(demonstration) if before.get(n) is not None and after.get(n) is None}


def executor_kwargs(ctx: Context) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"limits": ctx.episodes.limits} if ctx.episodes.limits is not None else {}
    if getattr(ctx.episodes, "learned_call_invalid", None):  # the rollouts' rule for an invalid primitive
        kwargs["invalid_primitive"] = ctx.episodes.learned_call_invalid
    return kwargs


def sandbox_check(env_name: str, instance: str, ctx: Context, demonstration: str | None, envs: TaskEnvs | None = None):
    """The check's calls, in the sandbox on ``envs``' environments (reset; None: made for each run): the
    demonstration's learned calls, and (aid ``creation_trials``) each action tried in the situations of the domain's
    example episode."""
    trials = assist.creation_trials(env_name, ctx, envs, **executor_kwargs(ctx)) if assist.trials_on(ctx) else None
    if not demonstration and trials is None:
        return None

    def run(library: ActionLibrary) -> dict[str, str]:
        failed: dict[str, str] = {}
        calls = demo_calls(demonstration, library) if demonstration else []
        if calls:
            with TaskEnvs(ctx.episodes) as own:  # no caller's environments: one made for this run
                env = (envs or own).get(env_name, instance)
                failed.update(smoke_failures(library, env, calls, ctx.sandbox, **executor_kwargs(ctx)))
        if trials is not None:
            for name, why in trials(library).items():
                failed.setdefault(name, why)
        return failed

    return run
