"""One run's live session: the chat models, the ``Context`` made from the settings, the checkpointer, and
the graph streamed into the run folder."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

from learnact.llm.config import ModelSpec
from learnact.llm.local import LocalServer
from learnact.llm.models import make_chat_model
from learnact.settings.table import SETTINGS
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.events import stream_events
from nodes.ray_pool import RayWorkers
from nodes.ray_worker import ModelRecipe
from prompts import PromptSet

from .runs import RunDir

# config.json's keys that are Context fields of the same name: every setting of the table (learnact.settings.table)
# and the evaluation's per-task fields. One missing from config.json (an older run) takes the Context's default.
CONTEXT_KEYS = (*(s.name for s in SETTINGS.values() if s.context), "per_env")


@contextlib.contextmanager
def open_models(
    settings: dict[str, Any], run: RunDir, retries=None
) -> Iterator[tuple[dict[str, Any], LocalServer | None]]:
    """Chat models for both roles; starts the shared local server when a role uses it. ``retries`` (a
    ``llm.retries.RetryCounter``) counts their failed attempts per kind."""
    specs = {role: ModelSpec(**spec) for role, spec in settings["models"].items()}
    cache_dir = str(run.path / "llm-cache") if settings.get("cache") else None
    with contextlib.ExitStack() as stack:
        server = None
        if any(s.model == "local" for s in specs.values()):
            model_path = next((s.model_path for s in specs.values() if s.model == "local"), None)
            print(
                "starting the local model server (first run assembles the model once) ...", file=sys.stderr, flush=True
            )
            server = stack.enter_context(LocalServer(model_path=model_path))
        models = {
            role: make_chat_model(spec, server=server, cache_dir=cache_dir, retries=retries)
            for role, spec in specs.items()
        }
        yield models, server


@contextlib.contextmanager
def open_workers(settings: dict[str, Any], server: LocalServer | None) -> Iterator[RayWorkers | None]:
    """With ``executor`` ray, the pool of Ray workers the episodes run on (Ray joined or started here, shut down
    at the end); None with the local executor. Workers rebuild the models from the run's specs, the embedded
    one through this process's server."""
    if settings.get("executor", "local") != "ray":
        yield None
        return
    recipes = {
        role: ModelRecipe(
            spec=dict(spec), local_url=server.base_url if spec["model"] == "local" and server is not None else None
        )
        for role, spec in settings["models"].items()
    }
    print("starting Ray workers ...", file=sys.stderr, flush=True)
    workers = RayWorkers(settings.get("concurrency") or 0, recipes, address=settings.get("ray_address"))
    try:
        yield workers
    finally:
        workers.close()


def make_context(
    settings: dict[str, Any], models: dict, usage, run: RunDir, workers: RayWorkers | None = None
) -> Context:
    """The run's Context: its live models, episodes and usage, the Ray workers (executor ray), and every knob
    the settings hold."""
    knobs = {name: settings[name] for name in CONTEXT_KEYS if name in settings}
    for name, value in _model_fields(settings.get("models", {})).items():
        knobs.setdefault(name, value)
    return Context(
        agent_model=models["agent"],
        learner_model=models["learner"],
        prompts=PromptSet(
            settings["prompts"]["dir"],
            settings["prompts"]["overrides"],
            prompt_set=settings.get("prompt_set", "default"),
        ),
        prompts_dir=settings["prompts"]["dir"],
        episodes=EpisodeRegistry(
            data_dir=knobs.get("data_dir"),
            env_options={"feedback": knobs.get("feedback", Context.feedback)},
            learned_call_invalid=knobs.get("learned_call_invalid", Context.learned_call_invalid),
        ),
        usage=usage,
        run_dir=str(run.path),
        workers=workers,
        **knobs,
    )


def _model_fields(models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The Context's sampling fields as config.json's model specs give them (the live models are made from
    the same specs), so that the context says what the run samples with."""
    agent, learner = models.get("agent"), models.get("learner")
    if not agent or not learner:
        return {}
    return {
        "agent_temperature": agent["temperature"],
        "learner_temperature": learner["temperature"],
        "seed": agent.get("seed"),
    }


def stream_config(thread_id: str, concurrency: int, orchestrators: int = 0) -> dict[str, Any]:
    """Run config for ``graph.stream(..., stream_mode="custom")`` with ``concurrency`` parallel tasks.

    LangGraph's sync stream parks one waiter for stream events on the graph's thread pool, whose size
    is ``max_concurrency``: with ``max_concurrency=1`` that waiter takes the only thread and the run
    hangs forever, and while every thread is busy the stream delivers nothing. The real bound on work
    in flight is ``Context.slots`` (held by the leaf nodes); the pool gets one thread per leaf slot,
    one per ``orchestrators`` (tasks that only wait on nested graphs, e.g. the evaluation's learning
    runs, which would otherwise fill the pool while their leaves wait for a slot) and one for the
    waiter, so that ``concurrency`` leaves really run and the live view stays live.
    """
    return {
        "configurable": {"thread_id": thread_id},
        "max_concurrency": concurrency + orchestrators + 1,
        "recursion_limit": 100_000,
    }


def pending_nodes(next_nodes) -> str:
    """The nodes a resumed graph will run, counted: ``run_episode ×68`` instead of the name 68 times."""
    return ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in Counter(next_nodes).items())


def stream_to_run(graph, inputs, config: dict[str, Any], ctx: Context, run: RunDir, progress) -> dict[str, Any]:
    """Run ``graph`` to its end (or its next interrupt), logging every custom event; the final state."""
    for chunk in stream_events(graph, inputs, config, context=ctx):
        run.append("events.jsonl", chunk)
        progress(chunk)
    return graph.get_state(config).values
