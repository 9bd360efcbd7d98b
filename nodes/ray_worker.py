"""What runs inside one Ray worker process (executor ``ray``): whole episodes, one at a time.

A worker (:class:`EpisodeWorker`, made a Ray actor by ``nodes/ray_pool.py``) owns its episode registry,
so the environments and the sandbox processes of its episodes live in its own process; TextWorld's
process-wide lock then holds only that process. It calls the model endpoint itself: the chat models
are rebuilt here from their settings (:class:`ModelRecipe`), never shipped as live objects. An episode
runs the episode graph the driver sent (compiled here, without a checkpointer); its custom events are yielded
as they come, then the final state with the model usage it cost (:class:`EpisodeJob` in, ``("event",
chunk)``... ``("done", final, usage records, retry counts, worked steps found)`` out). Nothing is written here: the driver
records the result, so a worker that dies mid-episode leaves no trace to duplicate.
"""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import os
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from learnact.llm.config import ModelSpec
from learnact.llm.errors import ModelConfigError
from learnact.llm.models import make_chat_model
from learnact.llm.retries import RetryCounter
from learnact.llm.usage import UsageTracker

from .context import Context
from .episodes import EpisodeRegistry


@dataclass(frozen=True)
class ModelRecipe:
    """How a worker gets one role's chat model: built from ``spec`` (a ``ModelSpec`` as a dict), against
    ``local_url`` for the embedded model (``spec["model"] == "local"``, served by the driver), or, for a
    model with no settings (a test's fake), ``model`` itself, pickled."""

    spec: dict[str, Any] | None = None
    local_url: str | None = None
    model: Any = None


@dataclass(frozen=True)
class EpisodeJob:
    """One episode for a worker: the episode graph's builder (a ``StateGraph``: a compiled graph does not survive
    pickling, its sentinels do not keep their identity) and name, its inputs, the context's plain fields and
    prompts, the models' recipes and the episode registry's settings."""

    builder: Any
    graph_name: str
    inputs: dict[str, Any]
    plain: dict[str, Any]
    prompts: Any
    models: dict[str, ModelRecipe]
    registry: tuple = ()  # (data_dir, env_options, limits, learned_call_invalid)
    driver_ip: str | None = None
    worked_steps: dict = field(default_factory=dict)  # the compact prompt's worked steps the driver knows already
    stream_events: bool = False  # yield the episode's custom events (a caller wants them: the act command)
    sandbox: Any = None  # the driver's Context.sandbox (a live field, so not among ``plain``); None: the default


@dataclass
class _Endpoint:
    """What ``make_chat_model`` needs of a ``LocalServer``: its URL (the driver's embedded server)."""

    base_url: str
    model_path: str | None = None
    resolved_model_file: str | None = field(default=None)


def plain_fields(ctx: Context) -> dict[str, Any]:
    """The context's plain (JSON-able) fields: what a worker rebuilds its ``Context`` from."""
    return {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx) if not f.metadata.get("live")}


def _is_loopback(host: str | None) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_embedded_reachable(url: str, driver_ip: str | None, worker_ip: str | None, timeout_s: float = 5.0) -> None:
    """Raise ``ModelConfigError`` (one line: use --base-url) when this worker cannot reach the driver's
    embedded model server at ``url``: a loopback URL seen from another machine, or no answer."""
    parsed = urlparse(url)
    advice = (
        "serve the model where every Ray machine can reach it (vLLM, llama.cpp's server, Ollama) and give "
        "--base-url http://HOST:PORT/v1 --model NAME"
    )
    if _is_loopback(parsed.hostname) and driver_ip and worker_ip and driver_ip != worker_ip:
        raise ModelConfigError(
            f"the embedded model is served by the driver machine ({driver_ip}) at {url}, which a Ray worker on {worker_ip} "
            f"cannot reach: {advice}"
        )
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 80), timeout=timeout_s).close()
    except OSError as exc:
        raise ModelConfigError(
            f"a Ray worker on {worker_ip or 'this machine'} cannot reach the embedded model server at {url} ({exc}): {advice}"
        ) from None


class EpisodeWorker:
    """One Ray worker: its episode registries, its chat models (built once per recipe), one episode at a time."""

    def __init__(self) -> None:
        self._registries: dict[str, EpisodeRegistry] = {}
        self._models: dict[str, Any] = {}
        self._checked: set[str] = set()
        self._retries = RetryCounter()  # failed model requests of this worker's models (one episode at a time)

    def pid(self) -> int:
        return os.getpid()

    def warm(self, modules: tuple[str, ...] = ()) -> int:
        """Import ``modules`` now (e.g. the environments), not in the first episode; this worker's pid."""
        for name in modules:
            importlib.import_module(name)
        return os.getpid()

    def _registry(self, settings: tuple) -> EpisodeRegistry:
        key = repr(settings)
        if key not in self._registries:
            self._registries[key] = EpisodeRegistry(*settings) if settings else EpisodeRegistry()
        return self._registries[key]

    def _model(self, recipe: ModelRecipe, driver_ip: str | None) -> Any:
        if recipe.spec is None:
            return recipe.model
        key = repr((sorted(recipe.spec.items()), recipe.local_url))
        if key not in self._models:
            spec = ModelSpec(**recipe.spec)
            server = None
            if spec.model == "local":
                if recipe.local_url not in self._checked:
                    check_embedded_reachable(recipe.local_url or "", driver_ip, _node_ip())
                    self._checked.add(recipe.local_url or "")
                server = _Endpoint(recipe.local_url or "", spec.model_path)
            self._models[key] = make_chat_model(spec, server=server, retries=self._retries)
        return self._models[key]

    def play(self, job: EpisodeJob) -> tuple:
        """``run`` without its events, in one reply (cheaper than a stream when nobody wants the events)."""
        return next(item for item in self.run(job) if item[0] == "done")

    def run(self, job: EpisodeJob):
        """Play ``job``'s episode: ``("event", chunk)`` for each custom event, then ``("done", final state,
        usage records, retry counts, the worked steps it found)``: the driver passes those on to the next jobs, so
        the sandbox trials behind them run once per run, as with the local executor, not once per worker."""
        usage, retried_before = UsageTracker(), self._retries.counts()
        registry = self._registry(job.registry)
        registry.worked_steps.update(job.worked_steps)
        sandbox = {"sandbox": job.sandbox} if job.sandbox is not None else {}
        ctx = Context(
            **{**job.plain, "run_dir": None, "executor": "local"},
            **sandbox,
            prompts=job.prompts,
            episodes=registry,
            usage=usage,
            agent_model=self._model(job.models["agent"], job.driver_ip),
            learner_model=self._model(job.models["learner"], job.driver_ip),
        )
        graph = job.builder.compile(checkpointer=False, name=job.graph_name)
        final: dict[str, Any] = {}
        try:
            modes = ["custom", "values"] if job.stream_events else ["values"]
            for mode, chunk in graph.stream(job.inputs, context=ctx, stream_mode=modes):
                if mode == "custom":
                    yield ("event", chunk)
                else:
                    final = chunk
        finally:
            registry.close(str(job.inputs.get("episode_id")))
        retried = {
            k: n - retried_before.get(k, 0) for k, n in self._retries.counts().items() if n > retried_before.get(k, 0)
        }
        found = {k: v for k, v in registry.worked_steps.items() if k not in job.worked_steps}
        yield ("done", final, [dataclasses.asdict(r) for r in usage.records()], retried, found)


def _node_ip() -> str | None:
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - outside Ray (a direct call in a test): no address to compare
        return None
