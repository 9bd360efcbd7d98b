"""A small planner on the simulator itself: greedy best-first search on the number of unmet goal facts.

It runs what pyperplan cannot read (negative preconditions, equality, action costs, ``either`` types
pyperplan mistypes) for the worked example of a user's domain and ``run.py check``; it is bounded by a
number of states, so a hard problem gives up instead of eating the machine.
"""

from __future__ import annotations

import heapq
import itertools

from .simulator import GroundTask, State


def unmet_goals(ground: GroundTask, state: State) -> int:
    return sum(1 for a in ground.goal_pos if a not in state) + sum(1 for a in ground.goal_neg if a in state)


def find_plan(ground: GroundTask, max_states: int = 100_000) -> list[str] | None:
    """The calls of a plan from the initial state to the goal, or None (no plan, or ``max_states`` seen)."""
    start = ground.init
    if ground.is_goal(start):
        return []
    parent: dict[State, tuple[State, str] | None] = {start: None}
    tie = itertools.count()
    frontier = [(unmet_goals(ground, start), next(tie), start)]
    while frontier and len(parent) <= max_states:
        _, _, state = heapq.heappop(frontier)
        for call, action in ground.valid_actions(state).items():
            succ = action.apply(state)
            if succ in parent:
                continue
            parent[succ] = (state, call)
            if ground.is_goal(succ):
                return _path(parent, succ)
            heapq.heappush(frontier, (unmet_goals(ground, succ), next(tie), succ))
    return None


def _path(parent: dict, state: State) -> list[str]:
    calls = []
    while parent[state] is not None:
        state, call = parent[state]
        calls.append(call)
    return calls[::-1]
