"""Worked steps for the compact prompt (an aid), checked by running them.

A small model uses a learned action only after it has seen one chosen in a situation like its own.
The learner's usage demonstration (the paper's) is free text that may call actions with wrong
arguments or invent observations. Here the worked steps are *verified*: calls are run on the
domain's example instance (the one ``example.md`` solves; never a training or test instance), through
the sandbox, and every user turn shows the real state the call was made in. Sources, first that works:

1. the learner's demonstration, replayed: kept if every call is valid and it reaches the goal;
2. a plan found with the library (PDDL): from each state the learned call that makes the most goal
   facts true, tried in the sandbox; where none does, the fewest steps (learned calls that change the
   state, or primitives) that make progress, learned calls preferred;
3. the example's primitive plan as it is.

Environments without worked instances (ALFWorld: no symbolic goal to plan towards) show the learner's
demonstration as text, else the example text as it is.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence

from environments import make_env, parse_call
from environments.pddl.derived import folder_material
from environments.pddl.folder import is_folder_name
from learnact.actions import ActionLibrary, Executor

from ..history import action_lines
from ..state import StepRecord
from .turns import turn_text

_OBSERVATION = re.compile(r"^\s*Observation\s*:\s*(.*)$")
PRIMITIVE_DEPTH = 6  # steps searched for progress where no single learned call makes any
MAX_TRIALS = 3000  # learned calls tried while planning one demonstration (each a sandbox call of a few ms)

Turns = list[tuple[str, str]]


def worked_instances(env_name: str) -> list[str]:
    """The instances worked steps are shown on (PDDL): the one the domain's example episode was
    written on, then a second one where the first move is different (e.g. the robot must first go to
    the ball), so that the agent sees more than one situation. Empty where states cannot be replayed."""
    if is_folder_name(env_name):  # the smallest training problem, where the example was derived on it
        try:
            instance = folder_material(env_name).example_instance
        except (ValueError, OSError):
            return []
        return [instance] if instance else []
    family, _, task = env_name.partition("/")
    if family != "pddl":
        return []
    from environments.pddl.prompt_material import EXAMPLE_INSTANCES, SECOND_WORKED_INSTANCES

    first = EXAMPLE_INSTANCES.get(task)
    return [i for i in (first, SECOND_WORKED_INSTANCES.get(task)) if i]


def _record(call: str, ok: bool, observation: str) -> StepRecord:
    return {"action": call, "ok": ok, "observation": observation, "trace": []}


def replay_turns(env, executor: Executor, calls: Sequence[str]) -> Turns | None:
    """The turns of ``calls`` run from the env's current state; None unless all are valid and the
    last one reaches the goal."""
    turns: Turns = []
    recent: list[StepRecord] = []
    for call in calls:
        view = env.state_view()
        result = executor.run(call)
        if not result.ok:
            return None
        turns.append((turn_text(view, recent[-1] if recent else None, len(recent) + 1), call))
        recent.append(_record(call, True, result.observation))
        if (result.info or {}).get("success"):
            return turns
    return None


def _pools(env, action) -> list[list[str]]:
    """The objects each parameter of ``action`` plausibly takes (``env.objects_for``), objects of the goal first."""
    rank = {o: i for i, o in enumerate(dict.fromkeys(env.goal_objects()))}
    return [sorted(env.objects_for(p), key=lambda o: (rank.get(o, len(rank)), o)) for p in action.params]


def _call(name: str, args) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


def learned_calls(env, library: ActionLibrary, limit: int | None = None) -> list[str] | None:
    """Learned calls over the objects each parameter plausibly takes (``env.objects_for``), objects of the
    goal first; arguments may repeat (``here`` and ``from_room`` are often the same room). None when there
    are more than ``limit``."""
    pools = {action.name: _pools(env, action) for action in library.actions}
    total = sum(math.prod(len(p) for p in ps) for ps in pools.values())
    if limit is not None and total > limit:
        return None
    return [_call(name, args) for name, ps in pools.items() for args in itertools.product(*ps)]


def action_calls(env, action, limit: int) -> list[str]:
    """At most ``limit`` calls of one learned action: all of :func:`learned_calls`' calls of it, in its order,
    when there are no more; else (ALFWorld's ~90 objects) those whose arguments rank best in sum (objects of
    the goal first), so that every parameter varies among its likeliest objects, not only the last one."""
    pools = _pools(env, action)
    if math.prod(len(p) for p in pools) <= limit:
        return [_call(action.name, args) for args in itertools.product(*pools)]
    best = itertools.islice(_by_rank_sum([len(p) for p in pools]), limit)
    return [_call(action.name, [pool[i] for pool, i in zip(pools, index)]) for index in best]


def _by_rank_sum(sizes: list[int]):
    """Index tuples into pools of ``sizes``, by increasing sum, each sum's in lexicographic order."""
    for total in range(sum(sizes) - len(sizes) + 1):
        yield from _with_sum(sizes, total)


def _with_sum(sizes: list[int], total: int):
    if not sizes:
        if total == 0:
            yield ()
        return
    for first in range(min(total, sizes[0] - 1) + 1):
        for rest in _with_sum(sizes[1:], total - first):
            yield (first, *rest)


class _Trials:
    """Learned calls tried from saved states, within a budget; actions that hit a time, memory or crash
    limit are not tried again."""

    def __init__(self, env, executor: Executor, calls: list[str], budget: int = MAX_TRIALS) -> None:
        self.env, self.executor, self.calls, self.left = env, executor, calls, budget
        self.hopeless: set[str] = set()

    def run(self, state, call: str):
        """(ok, state after) of ``call`` from ``state``; the env is put back in ``state``."""
        self.left -= 1
        self.env.restore(state)
        result = self.executor.run(call)
        after = self.env.state
        self.env.restore(state)
        if getattr(result.error, "kind", None) in ("timeout", "memory", "worker_crash", "primitive_limit"):
            self.hopeless.add(call.split("(", 1)[0])
        return result.ok, after

    def each(self, state):
        """(call, state after) for every learned call that runs without error from ``state``."""
        for call in self.calls:
            if self.left <= 0:
                return
            if call.split("(", 1)[0] in self.hopeless:
                continue
            ok, after = self.run(state, call)
            if ok and after != state:
                yield call, after

    def best_gain(self, state) -> tuple[str, object] | None:
        """The learned call from ``state`` that makes the most goal facts true (None if none does)."""
        base, best = self.env.ground.goal_share(state), None
        for call, after in self.each(state):
            gain = self.env.ground.goal_share(after) - base
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, call, after)
        return (best[1], best[2]) if best else None


def _steps_to_gain(trials: _Trials, env, depth: int = PRIMITIVE_DEPTH) -> list[str] | None:
    """The fewest agent steps after which more of the goal holds (breadth first over states), a step being
    a learned call that runs and changes the state or a valid primitive; learned calls are tried first,
    so of equally short paths the one with learned calls wins (an action that only prepares, such as
    picking up a ball and leaving the room, is shown where it saves steps)."""
    start = env.state
    base = env.ground.goal_share(start)
    frontier, seen = [(start, [])], {start}
    for _ in range(depth):
        nxt = []
        for state, path in frontier:
            steps = list(trials.each(state))
            steps += [(call, action.apply(state)) for call, action in env.ground.valid_actions(state).items()]
            for call, after in steps:
                if after in seen:
                    continue
                seen.add(after)
                if env.ground.goal_share(after) > base:
                    return path + [call]
                nxt.append((after, path + [call]))
        frontier = nxt
    return None


def _next_steps(trials: _Trials, env) -> list[str] | None:
    """The next calls of the learned plan from the env's state (see :func:`learned_plan`)."""
    if (one := trials.best_gain(env.state)) is not None:
        return [one[0]]
    return _steps_to_gain(trials, env)


def learned_plan(env, executor: Executor, library: ActionLibrary, max_calls: int = 12) -> list[str]:
    """A plan for the env's instance that uses learned calls wherever they make progress (PDDL).

    From each state: the learned call that makes the most goal facts true, else the fewest steps
    (learned calls and primitives) to progress, learned calls preferred among equally short ones (see
    :func:`_steps_to_gain`). Calls are tried in the sandbox, the state restored after each try. Needs
    ``env.state``/``env.restore`` and a symbolic goal.
    """
    env.reset()
    trials = _Trials(env, executor, learned_calls(env, library))
    plan: list[str] = []
    while len(plan) < max_calls and not env.ground.is_goal(env.state):
        steps = _next_steps(trials, env)
        if not steps:
            break
        for call in steps:
            executor.run(call)
        plan += steps
    env.reset()
    return plan


def text_turns(example: str, goal_fallback: str) -> Turns:
    """Turns read off an example episode's text (Goal/Observation/Action lines), for environments
    whose example cannot be replayed; the view is the goal and the last observation."""
    goal, observation, turns = goal_fallback, "", []
    recent: list[StepRecord] = []
    for line in (example or "").splitlines():
        if line.startswith("Goal:"):
            goal = line.removeprefix("Goal:").strip()
        elif (m := _OBSERVATION.match(line)) is not None:
            observation = m.group(1).strip()
            if recent:
                recent[-1]["observation"] = observation
        elif calls := action_lines(line):
            turns.append(
                (turn_text(f"Goal: {goal}\n{observation}", recent[-1] if recent else None, len(recent) + 1), calls[0])
            )
            recent.append(_record(calls[0], True, ""))
    return turns


def _instance_turns(env, executor, library, plan, demonstration) -> tuple[Turns, str] | None:
    """The worked turns on one instance: learned calls where they help, else primitives."""
    candidates: list[tuple[str, object]] = []
    if demonstration and library.actions:
        candidates.append(("demonstration", action_lines(demonstration)))
    if library.actions:
        candidates.append(("planned", lambda: learned_plan(env, executor, library)))
    primitives_only = ActionLibrary.empty()  # the same planner with no learned call: a primitive plan
    candidates.append(
        ("example", plan if plan is not None else (lambda: learned_plan(env, executor, primitives_only, 40)))
    )
    for source, calls in candidates:
        calls = calls() if callable(calls) else calls
        if source == "planned" and not any(library.get(parse_call(c)[0]) for c in calls):
            continue  # no learned call made progress: the primitive plan says the same
        env.reset()
        turns = replay_turns(env, executor, calls)
        if turns:
            return turns, source
    return None


def few_shot_turns(
    env_name: str,
    library: ActionLibrary,
    example: str,
    demonstration: str | None,
    make: Callable[[str], object] | None = None,
    limits=None,
    sandbox: Callable[..., Executor] = Executor,
) -> tuple[Turns, str]:
    """(turns, sources): the worked episodes, one per worked instance of the domain (the example's
    first); ``sources`` names which of the module docstring's sources gave each. ``sandbox`` makes the
    executor (a node passes ``Context.sandbox``)."""
    instances = worked_instances(env_name)
    if not instances:
        demo_turns = text_turns(demonstration or "", "") if demonstration else []
        return (demo_turns, "demonstration_text") if demo_turns else (text_turns(example, ""), "example_text")
    kwargs = {"limits": limits} if limits is not None else {}
    turns: Turns = []
    sources: list[str] = []
    for index, instance in enumerate(instances):
        env = make(instance) if make else make_env(env_name, instance)
        try:
            with sandbox(env, library, **kwargs) as executor:
                first = index == 0  # the example episode and the learner's demonstration are about this one
                got = _instance_turns(
                    env,
                    executor,
                    library,
                    action_lines(example) if first else None,
                    demonstration if first else None,
                )
        finally:
            env.close()
        if got:
            turns += got[0]
            sources.append(got[1])
    if not turns:
        return text_turns(example, ""), "example_text"
    return turns, "+".join(sources)
