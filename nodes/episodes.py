"""Live episode resources (environment + sandbox executor), kept out of the graph state.

Graph state must be serialisable for the checkpointer, but an environment and a sandbox worker
are processes and objects. They live here, keyed by episode id, and are rebuilt on demand:
after a resume the environment is re-created and the primitive steps already recorded in the
state are replayed (the environments are deterministic), so a killed run continues exactly
where its last checkpoint left it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from environments import TextEnv, make_env
from learnact.actions import ActionLibrary, Executor

from .state import EpisodeState


@dataclass
class EpisodeRuntime:
    env: TextEnv
    executor: Executor
    library: ActionLibrary
    last_info: dict[str, Any] = field(default_factory=dict)
    few_shot: tuple[list[tuple[str, str]], str] | None = None  # compact prompt's worked turns and their source


class EpisodeRegistry:
    """Thread-safe map episode id -> :class:`EpisodeRuntime` (nodes run in parallel threads)."""

    def __init__(
        self,
        data_dir: str | None = None,
        env_options: dict | None = None,
        limits: Any = None,
        learned_call_invalid: str = "stop",
    ):
        self.data_dir = data_dir
        self.env_options = dict(env_options or {})
        self.limits = limits
        self.learned_call_invalid = (
            learned_call_invalid  # the executor's rule for an invalid primitive in a learned call
        )
        self._live: dict[str, EpisodeRuntime] = {}
        self._lock = threading.Lock()
        # Worked steps of the compact prompt per (environment, library code, demonstration, recent steps):
        # the same for every episode of a candidate, and costly to find (sandbox trials).
        self.worked_steps: dict[tuple, tuple[list[tuple[str, str]], str]] = {}
        # The learner's view of the primitives per (environment, instance, state queries): nodes/learning/checks.py.
        self.primitives: dict[tuple, tuple[str, str, dict[str, int]]] = {}

    def make_env(self, env_name: str, instance: str) -> TextEnv:
        """An environment of this run (its data folder and options), not reset yet."""
        return make_env(env_name, instance, data_dir=self.data_dir, **self.env_options)

    def _build(self, state: EpisodeState, sandbox: Callable[..., Executor]) -> tuple[EpisodeRuntime, str, dict]:
        env = self.make_env(state["env_name"], state["instance"])
        obs, info = env.reset()
        given = state.get("library")  # the value (a learning graph's candidate) or its record (JSON input, --actions)
        library = given if isinstance(given, ActionLibrary) else ActionLibrary.from_dict(given)
        kwargs = {"limits": self.limits} if self.limits is not None else {}
        executor = sandbox(env, library, invalid_primitive=self.learned_call_invalid, **kwargs)
        executor.__enter__()
        return EpisodeRuntime(env, executor, library, dict(info)), obs, info

    def start(self, state: EpisodeState, sandbox: Callable[..., Executor]) -> tuple[EpisodeRuntime, str, dict]:
        """A fresh episode: (runtime, first observation, reset info). Replaces a stale one. ``sandbox``: what makes
        the episode's executor (``Context.sandbox``)."""
        self.close(state["episode_id"])
        runtime, obs, info = self._build(state, sandbox)
        with self._lock:
            self._live[state["episode_id"]] = runtime
        return runtime, obs, info

    def get(self, state: EpisodeState, sandbox: Callable[..., Executor]) -> EpisodeRuntime:
        """The live runtime, rebuilt (its executor made by ``sandbox``) by replaying recorded primitive steps when missing."""
        with self._lock:
            runtime = self._live.get(state["episode_id"])
        if runtime is not None:
            return runtime
        runtime, _, _ = self._build(state, sandbox)
        for step in state.get("steps", []):
            for prim in step.get("trace", []):
                if prim.get("valid"):
                    _, _, _, _, info = runtime.env.step(prim["action"])
                    runtime.last_info = dict(info)
        with self._lock:
            self._live[state["episode_id"]] = runtime
        return runtime

    def close(self, episode_id: str) -> None:
        with self._lock:
            runtime = self._live.pop(episode_id, None)
        if runtime is not None:
            runtime.executor.__exit__(None, None, None)
            runtime.env.close()

    def close_all(self) -> None:
        with self._lock:
            ids = list(self._live)
        for episode_id in ids:
            self.close(episode_id)

    def sibling(self) -> EpisodeRegistry:
        """An empty registry with the same data, environment options, limits and executor rule."""
        return EpisodeRegistry(self.data_dir, self.env_options, self.limits, self.learned_call_invalid)


class TaskEnvs:
    """The environments one node's checks use (a candidate's checks, repairs and trials), made once per instance
    with the registry's settings and closed together: passed to the helpers, which reset one before each use,
    rather than made anew by each. Use as a context manager."""

    def __init__(self, registry: EpisodeRegistry) -> None:
        self.registry = registry
        self._envs: dict[tuple[str, str], TextEnv] = {}

    def get(self, env_name: str, instance: str) -> TextEnv:
        key = (env_name, instance)
        if key not in self._envs:
            self._envs[key] = self.registry.make_env(env_name, instance)
        return self._envs[key]

    def __enter__(self) -> TaskEnvs:
        return self

    def __exit__(self, *exc: object) -> None:
        envs, self._envs = list(self._envs.values()), {}
        for env in envs:
            env.close()
