"""The driver's side of executor ``ray``: a pool of Ray workers (actors) that play whole episodes.

LangGraph stays in the driver: the graph that fans out episodes (the evaluation, the learning loop,
Reflexion) checkpoints and records as with the local executor; only the leaf, one episode, runs in a
worker (``nodes/ray_worker.py``). Each worker runs one episode at a time, so the pool has as many workers
as the run has work slots (``--concurrency``), each asking for its share of the cluster's CPUs.

A worker that dies mid-episode (killed, out of memory, its machine gone) is replaced and the episode is
played again from its start on another worker, up to ``worker_attempts`` times: the driver records an
episode only once it has its result, so a lost worker costs that episode's replay, never a duplicate or
a lost record. ``ray`` is an optional dependency (``pip install -e '.[ray]'``), imported on first use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import queue
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from learnact.settings.defaults import DEFAULTS as D

from .events import emit
from .ray_worker import EpisodeJob, EpisodeWorker, ModelRecipe, plain_fields

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The driver's environment a worker needs as well (model keys, data folders, prices).
FORWARDED_ENV = (
    "OPENAI_API_KEY",
    "LEARNACT_DATA",
    "ALFWORLD_DATA",
    "LEARNACT_PRICES",
    "LEARNACT_MODEL",
    "LEARNACT_BASE_URL",
)
CONNECT_TIMEOUT_S = 5.0


class WorkersError(Exception):
    """Ray cannot be used as asked (not installed, no cluster at the address, workers keep dying): one line."""


def _ray():
    try:
        import ray
    except ImportError:
        raise WorkersError("--executor ray needs the ray package: pip install -e '.[ray]'") from None
    return ray


def _check_address(address: str) -> None:
    """A HOST:PORT address answers at all (ray.init would wait for minutes on one that does not)."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError) as exc:
        raise WorkersError(
            f"--ray-address {address}: no Ray cluster answers there ({exc}); start one with `ray start --head` "
            "(its address is printed), or leave --ray-address out to start Ray on this machine"
        ) from None


def _runtime_env() -> dict[str, Any]:
    """Workers import this project (the same checkout) and see the driver's keys and data folders."""
    paths = [str(PROJECT_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
    env.update({name: os.environ[name] for name in FORWARDED_ENV if os.environ.get(name)})
    return {"env_vars": env}


def connect(address: str | None = None, cpus: int | None = None) -> bool:
    """Join the Ray cluster at ``address`` ("auto", HOST:PORT, ray://...), or start one on this machine with
    ``cpus`` CPUs (default: all); True when this call started or joined it (and should shut it down)."""
    ray = _ray()
    if address:
        _check_address(address)
    if ray.is_initialized():
        return False
    common = {"log_to_driver": False, "logging_level": logging.WARNING, "runtime_env": _runtime_env()}
    if address:
        try:
            ray.init(address=address, **common)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise WorkersError(
                f"--ray-address {address}: cannot join the Ray cluster ({' '.join(str(exc).split())[:300]})"
            ) from None
    else:
        ray.init(num_cpus=cpus or os.cpu_count() or 1, include_dashboard=False, **common)
    return True


def _died_errors(ray) -> tuple[type[BaseException], ...]:
    names = (
        "RayActorError",
        "WorkerCrashedError",
        "ActorUnavailableError",
        "NodeDiedError",
        "ObjectLostError",
        "OwnerDiedError",
    )
    return tuple(c for c in (getattr(ray.exceptions, n, None) for n in names) if isinstance(c, type))


class RayWorkers:
    """``size`` Ray workers (made on first need) that run episodes; ``recipes``: each role's model settings."""

    def __init__(
        self,
        size: int,
        recipes: dict[str, ModelRecipe] | None = None,
        address: str | None = None,
        attempts: int = D.worker_attempts,
    ):
        self.started = connect(address)
        self._ray = ray = _ray()
        total = float(ray.cluster_resources().get("CPU", 1.0))
        self.size = max(1, int(size or total))
        self.recipes = dict(recipes or {})
        self.attempts = max(1, attempts)
        self.cpus = max(0.01, min(1.0, math.floor(total / self.size * 100) / 100))  # each worker's share
        self.driver_ip = ray.util.get_node_ip_address()
        # The pool hands a worker one episode at a time; its second thread answers pid() meanwhile.
        self._actor_class = ray.remote(max_concurrency=2, max_restarts=0)(EpisodeWorker)
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._live: list[Any] = []
        self._lock = threading.Lock()
        self._died = _died_errors(ray)

    # -- the actors ----------------------------------------------------------------------------------
    def _acquire(self) -> Any:
        with self._lock:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            if len(self._live) < self.size:
                actor = self._actor_class.options(num_cpus=self.cpus, scheduling_strategy="SPREAD").remote()
                self._live.append(actor)
                return actor
        return self._idle.get()

    def _discard(self, actor: Any) -> None:
        with self._lock:
            if actor in self._live:
                self._live.remove(actor)
        with contextlib.suppress(Exception):
            self._ray.kill(actor, no_restart=True)

    def warm(self, modules: tuple[str, ...] = ()) -> list[int]:
        """Start every worker now and import ``modules`` in each (a benchmark times the episodes, not the
        start-up); their pids."""
        actors = [self._acquire() for _ in range(self.size)]
        try:
            return self._ray.get([a.warm.remote(tuple(modules)) for a in actors])
        finally:
            for actor in actors:
                self._idle.put(actor)

    def pids(self) -> list[int]:
        """The process ids of the live workers (a test kills one)."""
        with self._lock:
            actors = list(self._live)
        return self._ray.get([a.pid.remote() for a in actors])

    def close(self) -> None:
        with self._lock:
            actors, self._live = self._live, []
        for actor in actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor, no_restart=True)
        if self.started:
            self._ray.shutdown()

    # -- episodes ------------------------------------------------------------------------------------
    def job(self, graph: Any, inputs: dict[str, Any], context: Any) -> EpisodeJob:
        episodes = context.episodes
        registry = (
            (episodes.data_dir, episodes.env_options, episodes.limits, episodes.learned_call_invalid)
            if episodes is not None
            else ()
        )
        models = {role: self._recipe(role, context) for role in ("agent", "learner")}
        worked = dict(episodes.worked_steps) if episodes is not None else {}
        return EpisodeJob(
            graph.builder,
            graph.name,
            dict(inputs),
            plain_fields(context),
            context.prompts,
            models,
            registry,
            self.driver_ip,
            worked,
            sandbox=context.sandbox,
        )

    def _recipe(self, role: str, context: Any) -> ModelRecipe:
        """The role's recipe from the run's settings, with the live model's seed (a learning run k samples
        with seed + k); the live model itself when the run has no settings for it."""
        live = context.agent_model if role == "agent" else (context.learner_model or context.agent_model)
        base = self.recipes.get(role)
        if base is None or base.spec is None:
            return base if live is None else ModelRecipe(model=live)
        seed = getattr(live, "seed", None)
        return ModelRecipe({**base.spec, "seed": seed}, base.local_url) if isinstance(seed, int) else base

    def run(
        self, graph: Any, inputs: dict[str, Any], context: Any, on_event: Callable[[dict], None] | None = None
    ) -> dict[str, Any]:
        """The episode's final state, played on a worker; its events go to ``on_event`` as they come and its
        model usage into ``context.usage``. A worker that dies costs a replay on another, never a duplicate
        (an ``episode_retried`` event says so, in the calling graph's stream and to ``on_event``)."""
        job = dataclasses.replace(self.job(graph, inputs, context), stream_events=on_event is not None)
        episode, reason = inputs.get("episode_id"), ""
        for attempt in range(1, self.attempts + 1):
            actor = self._acquire()
            try:
                final = self._play(actor, job, context, on_event)
            except self._died as exc:
                self._discard(actor)
                reason = " ".join(str(exc).split())[:200]
                retried = {"episode_id": episode, "attempt": attempt, "reason": reason}
                emit("episode_retried", **retried)
                if on_event is not None:
                    on_event({"event": "episode_retried", **retried})
                continue
            except BaseException:
                self._discard(actor)  # a worker in an unknown state is not reused
                raise
            self._idle.put(actor)
            return final
        raise WorkersError(
            f"episode {episode}: its Ray worker died {self.attempts} times (killed, out of memory, its machine left the "
            f"cluster, or the worker cannot start there; last: {reason}); what finished is saved: continue with --resume RUN_DIR"
        )

    def _play(
        self, actor: Any, job: EpisodeJob, context: Any, on_event: Callable[[dict], None] | None
    ) -> dict[str, Any]:
        ray = self._ray
        try:
            stream = (
                actor.run.options(num_returns="streaming").remote(job)
                if job.stream_events
                else [actor.play.remote(job)]
            )
        except TypeError as exc:  # an argument Ray cannot serialise: a live model with no settings
            raise WorkersError(
                f"--executor ray sends models by their settings; this run's model cannot be sent to a worker ({exc})"
            ) from None
        for ref in stream:
            try:
                item = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                raise (cause if isinstance(cause, Exception) else exc) from None
            if item[0] == "event":
                if on_event is not None:
                    on_event(item[1])
                continue
            _, final, records, retried, found = item
            _merge_usage(context.usage, records, retried)
            if context.episodes is not None:
                context.episodes.worked_steps.update(found)
            return final
        raise ray.exceptions.RayActorError()  # the stream ended without a result: the worker went away


def _merge_usage(usage: Any, records: list[dict[str, Any]], retried: dict[str, int]) -> None:
    """A worker's model calls into the run's tracker (costs priced here, as for the local executor)."""
    if usage is None:
        return
    for r in records:
        usage.add(
            r["model"],
            r["prompt_tokens"],
            r["completion_tokens"],
            node=r["node"],
            key=r["key"],
            cache_hit=r["cache_hit"],
            seconds=r["seconds"],
        )
    for kind, n in retried.items():
        usage.retries.add(kind, n)
