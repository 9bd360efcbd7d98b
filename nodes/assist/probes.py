"""Failure cases for actions the agent never called (an aid: ``probe_unused``), and the creation trials' search
(``creation_trials``, nodes/assist/creation_trials.py).

Revision learns from failed learned calls in the training rollouts. A small agent
calls a learned action only after seeing it work (the compact prompt's worked steps show learned calls
that make progress). A broken action is therefore never called, never fails, and learning would stop
at once with ``no_failed_learned_call``, keeping broken code. Instead, when the best candidate's
rollouts made no learned call at all, each of its actions is *probed*: called in the sandbox from the
start of a training instance with the arguments the instance suggests (``nodes.assist.worked_steps.action_calls``), and an
action none of whose calls runs and changes the world yields its most telling failed call as a failure
case for revision. It needs an environment whose state can be restored (:func:`can_try_calls`: PDDL,
ALFWorld); elsewhere nothing is probed. ``probe_unused=False`` (``--protocol paper``) turns this off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from environments import make_env, parse_call
from learnact.actions import ActionLibrary, Executor

from ..events import emit
from .worked_steps import action_calls

PROBES_PER_ACTION = 200


def can_try_calls(env) -> bool:
    """Whether calls can be tried from a state and the state put back: the env has ``state`` and ``restore``
    (PDDL; ALFWorld, by replaying the game's commands) and lists the objects a parameter takes (``objects_for``)."""
    return all(hasattr(env, name) for name in ("state", "restore", "objects_for"))


NOTE = "the agent never called the learned actions in training; this call was tried from the start of a training task"


def _failure(env, name: str, call: str, result, first_observation: str) -> dict[str, Any]:
    kind = getattr(result.error, "kind", None) or ("no_effect" if not result.trace else "no_progress")
    return {
        "name": name,
        "call": call,
        "instance": env.instance,
        "goal": env.goal,
        "before": f"Observation: {first_observation}",
        "trace": result.as_step(0, call)["trace"],
        "observation": result.observation,
        "error_kind": kind,
        "note": NOTE,
    }


def _rank(result) -> int:
    """How telling a failed call is: it ran some primitives and then failed > failed at once > no progress."""
    if result.error is not None:
        return 2 if any(t.valid for t in result.trace) else 1
    return 0


def probe_action(
    env, executor: Executor, library: ActionLibrary, name: str, first_observation: str, limit: int = PROBES_PER_ACTION
) -> dict[str, Any] | None:
    """The most telling failed call of action ``name`` from the env's current state, or None when one of
    its calls runs and changes the world."""
    start = env.state
    worst: tuple[tuple[int, bool], str, Any] | None = None
    calls = action_calls(env, library.get(name), limit)
    for call in calls:
        env.restore(start)
        result = executor.run(call)
        changed = env.state != start
        env.restore(start)
        if result.ok and changed:
            return None  # it works from here (it may only prepare: not every action makes goal progress alone)
        args = parse_call(call)[1]
        rank = (_rank(result), len(set(args)) == len(args))  # distinct arguments: a call an agent would make
        if worst is None or rank > worst[0]:
            worst = (rank, call, result)
    return _failure(env, name, worst[1], worst[2], first_observation) if worst else None


def probe_failures(
    library: ActionLibrary,
    env_name: str,
    instance: str,
    *,
    data_dir=None,
    env_options=None,
    limits=None,
    sandbox: Callable[..., Executor] = Executor,
) -> list[dict[str, Any]]:
    """A failure case per learned action none of whose calls works from the start of ``instance`` (in the
    executor ``sandbox`` makes: a node passes ``Context.sandbox``)."""
    env = make_env(env_name, instance, data_dir=data_dir, **(env_options or {}))
    try:
        first_observation, _ = env.reset()
        if not can_try_calls(env):
            return []
        kwargs = {"limits": limits} if limits is not None else {}
        with sandbox(env, library, **kwargs) as executor:
            found = (probe_action(env, executor, library, a.name, first_observation) for a in library.actions)
            return [f for f in found if f is not None]
    finally:
        env.close()


def unused_action_failures(state, ctx, failures: list) -> list[dict[str, Any]]:
    """The hook of error identification (nodes/learn.py ``identify_errors``, with ``probe_unused`` on): where the best
    candidate's rollouts made no learned call at all (and so none failed), a failure case per action that works
    nowhere from the start of the first training instance; ``failures`` as they are otherwise."""
    best = state["best"]
    if failures or (state.get("best_scores") or {}).get("C", 0) != 0:
        return failures
    found = probe_failures(
        best["library"],
        state["env_name"],
        state["train_instances"][0],
        data_dir=ctx.episodes.data_dir,
        env_options=ctx.episodes.env_options,
        limits=ctx.episodes.limits,
        sandbox=ctx.sandbox,
    )
    if found:
        emit("actions_probed", round=state.get("round", 0), candidate_id=best["id"], failures=len(found))
    return found


TRIALS_PER_STATE = 60  # calls of one action tried from each state of the example episode


def example_states(env, calls) -> list:
    """The states of the example episode: from the start, after each of ``calls`` that is valid."""
    env.reset()
    states = [env.state]
    for call in calls:
        env.step(call)
        states.append(env.state)
    env.reset()
    return list(dict.fromkeys(states))


def trial_failures(
    library: ActionLibrary, env, example_calls, sandbox: Callable[..., Executor] = Executor, **executor_kwargs
) -> dict[str, str]:
    """{action: why} for each learned action none of whose calls runs and changes the world from any state
    of the domain's example episode (``env``: its instance, ``example_calls``: its actions). Creation drops
    such an action (and the learner's repair sees why): it would fail wherever the agent called it.

    Needs :func:`can_try_calls`; elsewhere nothing is tried.
    """
    if not can_try_calls(env):
        return {}
    states = example_states(env, example_calls)
    first_observation = env.reset()[0]
    failed: dict[str, str] = {}
    with sandbox(env, library, **executor_kwargs) as executor:
        for action in library.actions:
            shown = None  # the failure from the start (probe_action leaves the env in the state it was given)
            for state in states:
                env.restore(state)
                found = probe_action(env, executor, library, action.name, first_observation, TRIALS_PER_STATE)
                if found is None:
                    break
                shown = shown or {**found, "facts": env.facts() or None}  # none where the state is not symbolic
            else:
                failed[action.name] = _why(
                    shown, len(states), reads_facts="facts(" in action.source or "find(" in action.source
                )
    env.reset()
    return failed


def _why(failure: dict[str, Any], n_states: int, reads_facts: bool = False) -> str:
    """The creation check's message: the failed call, step by step (done, or why not), and for an action
    that reads the state (find, facts), the true facts there (a small learner copies fact names from examples)."""
    steps = [f"  {t['action']}: " + ("done" if t["valid"] else t["observation"]) for t in failure["trace"]]
    if not steps or failure["trace"][-1]["valid"]:
        steps.append(f"  -> {failure['observation']}")
    if reads_facts and failure.get("facts") is not None:
        steps.append("  the true facts there: [" + ", ".join(repr(tuple(f)) for f in failure["facts"]) + "]")
    return (
        f"no call of it worked in any of the {n_states} situations of the example episode; for instance "
        f"{failure['call']} from the start:\n" + "\n".join(steps)
    )
