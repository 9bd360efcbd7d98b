"""The one seam between a node and where its episodes run (``Context.executor``).

``invoke_episode(graph, inputs, context)`` is what the evaluation's episodes, the learning loop's
rollouts and Reflexion's rollouts call instead of ``graph.invoke``. With executor ``local`` (the default)
it is ``graph.invoke`` in this thread. With ``ray`` the whole episode runs on a Ray worker
(``nodes/ray_pool.py``, ``nodes/ray_worker.py``) and its final state is returned as ``graph.invoke`` would
(the episode's own custom events come back as they happen, for a caller that streams them: the act
command; a nested ``graph.invoke`` does not pass them to the calling graph's stream, so neither does this); the caller records it as it does locally (episodes.jsonl,
the rollout journal, the checkpoint of its own graph), so ``--resume`` works unchanged.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from . import resources
from .ray_pool import RayWorkers, WorkersError
from .ray_worker import ModelRecipe

__all__ = ["invoke_episode", "workers_for", "WorkersError"]
EXECUTORS = ("local", "ray")

_lock = threading.Lock()


def invoke_episode(
    graph: Any, inputs: dict[str, Any], context: Any, on_event: Callable[[dict], None] | None = None
) -> dict[str, Any]:
    """The episode's final state: ``graph.invoke(inputs, context=context)`` here, or the same on a Ray worker.
    ``on_event`` receives the episode's custom events (Ray only; the local executor's caller streams them itself)."""
    executor = getattr(context, "executor", "local")
    if executor == "local":
        return graph.invoke(inputs, context=context)
    if executor != "ray":
        raise WorkersError(f"unknown executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
    return workers_for(context).run(graph, inputs, context, on_event)


def workers_for(context: Any) -> RayWorkers:
    """The context's pool of Ray workers; made on first use when the context came without one (``langgraph dev``,
    a user's ``graph.invoke``), from its plain fields."""
    with _lock:
        if context.workers is None:
            context.workers = RayWorkers(
                context.concurrency or 0, recipes_from_context(context), address=context.ray_address
            )
        return context.workers


def recipes_from_context(context: Any) -> dict[str, ModelRecipe]:
    """Each role's model as a worker rebuilds it: the live model when the context carries one (it must pickle),
    else the model the plain fields name (the embedded one through this process's server)."""
    recipes = {}
    for role in ("agent", "learner"):
        live = context.agent_model if role == "agent" else (context.learner_model or context.agent_model)
        if live is not None:
            recipes[role] = ModelRecipe(model=live)
            continue
        spec = context.model_spec(role)
        url = resources.local_server(spec.model_path).base_url if spec.model == "local" else None
        recipes[role] = ModelRecipe(spec=dataclasses.asdict(spec), local_url=url)
    return recipes
