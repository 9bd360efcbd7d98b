"""Typed graph states. Lists that grow use ``operator.add``; everything else is replaced."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from typing_extensions import Required
from typing_extensions import (
    TypedDict as InputDict,  # input schemas: pydantic reads them (Studio's input form) on Python 3.11
)

from learnact.actions import ActionLibrary


class StepRecord(TypedDict, total=False):
    """One agent step: the line it wrote and what came of it."""

    index: int
    action: str  # the agent's line, as written
    observation: str  # what the agent sees next
    ok: bool
    is_learned: bool  # the line called one learned action
    name: str | None
    error_kind: str | None
    trace: list[dict[str, Any]]  # primitive steps: action, observation, valid
    thought: bool  # a ReAct "Think:" step
    no_change: bool  # valid, but the environment's state is the same as before the step


class EpisodeState(TypedDict, total=False):
    """State of one Act-style episode (the Act and ReAct graphs)."""

    episode_id: str
    env_name: str
    instance: str
    library: (
        ActionLibrary | dict[str, Any] | None
    )  # the value, or its record (ActionLibrary.to_dict()); None = primitives only
    lessons: list[str]  # Reflexion lessons injected into the prompt
    examples: str | None  # replaces the domain's example episode (e.g. a learned usage demonstration)
    max_steps: int | None  # overrides the context's cap (learning rollouts use a smaller one)
    goal: str
    first_observation: str
    pending_action: str
    pending_thought: bool  # pending_action is a ReAct thought (set by ReAct's decide only)
    program: str  # Code-as-Policies: the program the model wrote (kept in the episode record)
    steps: Annotated[list[StepRecord], operator.add]
    success: bool
    progress: float
    action_cost: float  # the episode's total action cost as the environment reports it (PDDL: info["cost"])
    done: bool
    stop_reason: str
    started_at: float  # wall-clock seconds (time.time) at the start and the end of the episode
    ended_at: float


class EpisodeInput(InputDict, total=False):
    """What a caller gives an episode graph (Act, ReAct, Code-as-Policies); the rest of the state is the graph's."""

    env_name: Required[str]  # e.g. "pddl/gripper", "alfworld/put"
    instance: Required[str]  # a generated problem ("gen:seed=9,balls=2"), a benchmark problem's name or a file
    episode_id: str  # default: a fresh one
    library: (
        dict[str, Any] | None
    )  # ActionLibrary.to_dict() (a caller in Python may give the value); None = primitives only
    examples: str | None  # replaces the domain's example episode (a learned usage demonstration)
    lessons: list[str]  # Reflexion lessons
    max_steps: int | None  # overrides the context's step cap
