"""The one way to run an episode with a library (an ``ActionLibrary`` value, its record, or none).

Every caller that plays a whole episode goes through :func:`play_episode`: the act command (one per test
instance and run, resumable from its own checkpoints), the evaluation's ``run_episode``, the learning loop's
``rollout`` and Reflexion's ``reflexion_rollout``; :func:`episode_inputs` makes what they give it. Where it runs is
``Context.executor``'s (``nodes/remote.py``: here, or on a Ray worker). An outside agent (any tool-calling LangGraph
agent) takes part in the same kind of episode through :func:`episode_tools`: the environment, the library and the
sandbox come from the run's episode registry (``nodes/episodes.py``) as for the episode graphs, and the LangChain
tools (``learnact.actions.ToolSet``) are an adapter over them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from learnact.actions import ToolSet

from .context import Context
from .events import stream_events
from .remote import invoke_episode
from .resume import finished
from .state import EpisodeInput

RECURSION_LIMIT = 10_000  # an episode's graph steps: two per agent step, far above any step cap


def episode_inputs(episode_id: str, env_name: str, instance: str, **given: Any) -> EpisodeInput:
    """An episode graph's input. ``given``: ``library``, ``examples``, ``lessons``, ``max_steps``; a value left
    None is the graph's default (no library, the domain's example, no lessons, the context's step cap)."""
    inputs = {"episode_id": episode_id, "env_name": env_name, "instance": instance}
    inputs.update({k: v for k, v in given.items() if v is not None})
    unknown = set(inputs) - set(EpisodeInput.__annotations__)
    if unknown:
        raise TypeError(f"not an episode input: {', '.join(sorted(unknown))}")
    return inputs  # type: ignore[return-value]


def thread_config(thread: str) -> dict[str, Any]:
    """The run config of an episode checkpointed as its own thread (the act command: one per episode)."""
    return {"configurable": {"thread_id": thread}, "recursion_limit": RECURSION_LIMIT}


def play_episode(
    graph: Any,
    inputs: EpisodeInput,
    ctx: Context,
    *,
    thread: str | None = None,
    on_event: Callable[[dict], None] | None = None,
) -> dict[str, Any]:
    """The episode's final state.

    ``graph``: an episode graph (Act, ReAct, Code-as-Policies). Without ``thread`` the episode runs from its start;
    its custom events stay its own (a Ray worker's go to ``on_event``). With ``thread`` (``graph`` compiled with a
    checkpointer) the episode is that checkpoint thread: a finished one gives its checkpointed final state and
    plays nothing, an unfinished one goes on from its last checkpoint (executor ``ray``: played from its start on a
    worker), and its custom events go to ``on_event``.
    """
    if thread is None:
        return invoke_episode(graph, dict(inputs), ctx, on_event=on_event)
    config = thread_config(thread)
    snapshot = graph.get_state(config)
    if finished(snapshot):  # not `not snapshot.next`: see nodes/resume.py
        # The episode ended and was checkpointed, but its caller did not record it: a kill came between the two.
        # The checkpoint holds the whole episode; playing it again on this thread would start from its final state.
        return snapshot.values
    if ctx.executor != "local":  # the whole episode on a worker (its job carries graph.builder, not the checkpointer)
        return invoke_episode(graph, dict(inputs), ctx, on_event=on_event)
    for chunk in stream_events(graph, None if snapshot.values else inputs, config, context=ctx):
        if on_event is not None:
            on_event(chunk)
    return graph.get_state(config).values


@contextlib.contextmanager
def episode_tools(inputs: EpisodeInput, ctx: Context, *, primitives: bool = False) -> Iterator[ToolSet]:
    """LangChain tools over one episode, opened as the episode graphs open theirs: ``ctx.episodes`` makes and
    resets the environment, takes the library (the value or its record) and starts the sandbox with
    ``ctx.sandbox`` (the run's limits and rule for an invalid primitive in a learned call); closed on exit.

    >>> with episode_tools(episode_inputs("e1", "pddl/gripper", "gen:seed=9", library=lib), ctx) as toolset:
    ...     create_react_agent(model, toolset.tools).invoke({"messages": [("user", toolset.env.goal)]})
    ...     toolset.steps, toolset.success
    """
    state = {**inputs, "episode_id": inputs.get("episode_id") or f"tools-{uuid.uuid4().hex[:8]}"}
    runtime, observation, info = ctx.episodes.start(state, ctx.sandbox)  # type: ignore[arg-type]
    try:
        toolset = ToolSet(runtime.library, runtime.env, primitives=primitives, executor=runtime.executor)
        toolset.first_observation, toolset.last_info = observation, dict(info)
        yield toolset
    finally:
        ctx.episodes.close(state["episode_id"])


__all__ = ["episode_inputs", "episode_tools", "play_episode", "thread_config"]
