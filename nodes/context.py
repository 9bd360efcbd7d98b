"""The run context every node receives as ``runtime.context``: models, prompts, knobs.

Nothing a node needs comes from a global: a graph is invoked with ``context=Context(...)``.

Every field but the live ones is plain data (str, number, bool, dict), so a context can come as JSON:
from ``langgraph dev`` / LangGraph Studio (the request's ``context``, Studio's context panel) or from a
user's ``graph.invoke(inputs, context=Context(model="gpt-4o-mini"))``. ``run.py`` also fills the live
fields (chat models, the episode registry, the usage tracker); a live field left None is made from the
plain ones: cheap ones here in ``__post_init__`` (the episode registry, a usage tracker), the chat models
on first use by ``ctx.agent`` and ``ctx.learner`` through ``nodes.resources`` (built once per process;
the embedded server started once). The graphs a node runs (rollouts, the evaluation's methods) come with
the graph that node belongs to (graphs/); ``rollout_graph`` and ``graphs`` only override them.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic.json_schema import SkipJsonSchema

from learnact.actions import Executor
from learnact.llm.config import ModelSpec
from learnact.llm.usage import UsageTracker
from learnact.settings.defaults import DEFAULTS as D
from learnact.settings.registry import check_assist, default_assist, default_model, settings_dataclass
from learnact.settings.table import SETTINGS
from prompts import PromptSet

from . import resources
from .episodes import EpisodeRegistry
from .learning.journal import RolloutJournal

# Plain fields that, left None, take a value from the environment (as in langchain-ai/react-agent's Context):
# set once where ``langgraph dev`` runs instead of in every request. `model` follows the one model rule
# (learnact.settings.registry.default_model), as run.py does.
ENV_DEFAULTS = {"learner_model_name": "LEARNACT_LEARNER_MODEL", "base_url": "LEARNACT_BASE_URL"}

# The plain fields of every setting (learnact.settings.table): type, default and the description Studio shows.
ContextSettings = settings_dataclass("ContextSettings", [s for s in SETTINGS.values() if s.context])


def _live(description: str, default: Any = None, **kw: Any) -> Any:
    """A live (not serialisable) field: left out of the JSON schema that Studio's context panel shows."""
    if "default_factory" in kw:
        return field(metadata={"description": description, "live": True}, **kw)
    return field(default=default, metadata={"description": description, "live": True}, **kw)


@dataclass
class Context(ContextSettings):
    # -- plain fields: the settings (ContextSettings, from learnact.settings.table) and these paths ---------
    prompts_dir: str | None = field(default=None, metadata={"description": "User folder overriding domain material."})
    run_dir: str | None = field(
        default=None, metadata={"description": "Where results of this run are written (None: nothing is written)."}
    )
    per_env: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={
            "description": "Evaluate: Context fields that differ per task type, env -> {field: value} "
            "(max_steps, history_window, score)."
        },
    )
    # -- live fields: run.py fills them; None means "made from the plain fields" ----------------------
    agent_model: SkipJsonSchema[Any] = _live("Chat model that acts (BaseChatModel); None: built from `model`.")
    learner_model: SkipJsonSchema[Any] = _live(
        "Chat model that writes and revises actions; defaults to the agent's (or to one built from the plain fields)."
    )
    prompts: SkipJsonSchema[Any] = _live(
        "Templates per node (prompts.PromptSet); None: the defaults with prompts_dir applied."
    )
    episodes: SkipJsonSchema[Any] = _live(
        "Live episodes (nodes.episodes.EpisodeRegistry); also holds the env options (feedback) and the executor's rule for an "
        "invalid primitive in a learned call (learned_call_invalid). None: one made from data_dir, feedback, learned_call_invalid."
    )
    sandbox: SkipJsonSchema[Any] = _live(
        "Makes the sandbox that runs learned code, as langgraph-codeact's eval_fn: (env, library, *, limits=None, "
        "invalid_primitive='stop') -> an actions.Executor (a context manager with run(line)). Every node runs agent lines "
        "and learned code through it.",
        default=Executor,
    )
    usage: SkipJsonSchema[Any] = _live(
        "learnact.llm.usage.UsageTracker for tokens and cost; None with no live model: a fresh tracker for this context."
    )
    journal: SkipJsonSchema[Any] = _live(
        "The run folder's journal of finished training rollouts (nodes.learning.journal.RolloutJournal), shared by the parallel "
        "rollout tasks; made from run_dir (None without one).",
        repr=False,
    )
    rollout_graph: SkipJsonSchema[Any] = _live(
        "Compiled episode graph the learning loop and Reflexion roll out; None: the one the graph was built with (Act)."
    )
    graphs: SkipJsonSchema[dict[str, Any]] = _live(
        "Graph builders by name (checkpointer=...) the evaluation runs; empty: the ones it was built with (graphs.registry).",
        default_factory=dict,
    )
    slots: SkipJsonSchema[Any] = _live("The semaphore behind slot(); made from concurrency.", repr=False)
    workers: SkipJsonSchema[Any] = _live(
        "executor 'ray': the pool of Ray workers (nodes.ray_pool.RayWorkers) the episodes run on; None: made on first use.",
        repr=False,
    )

    def __post_init__(self) -> None:
        for name, variable in ENV_DEFAULTS.items():
            if getattr(self, name) is None and os.environ.get(variable):
                setattr(self, name, os.environ[variable])
        self.model = self.model or default_model(self.base_url)
        # The small-model aids left None take their value from the assist level, itself from the agent's model.
        self.assist = check_assist(self.assist or default_assist(self.agent_model_name or self.model))
        for s in SETTINGS.values():
            if s.is_aid and s.context and getattr(self, s.name) is None:
                setattr(self, s.name, s.value(assist=self.assist))
        # The cheap live fields left None are made here (dataclasses.replace passes them on, so a sub-run
        # shares them; `slots` too: sub-runs share the bound with their parent).
        if self.slots is None and self.concurrency:
            self.slots = threading.BoundedSemaphore(self.concurrency)
        if self.prompts is None:
            self.prompts = PromptSet(self.prompts_dir, prompt_set=self.prompt_set)
        if self.episodes is None:
            self.episodes = EpisodeRegistry(
                data_dir=self.data_dir,
                env_options={"feedback": self.feedback},
                learned_call_invalid=self.learned_call_invalid,
            )
        if self.usage is None and self.agent_model is None and self.learner_model is None:
            self.usage = UsageTracker()
        if self.run_dir and (self.journal is None or not self.journal.belongs_to(self.run_dir)):
            self.journal = RolloutJournal(self.run_dir)  # a sub-run's own folder (dataclasses.replace) gets its own

    def slot(self) -> contextlib.AbstractContextManager:
        """Hold one of the run's work slots (``with ctx.slot(): ...``) in a leaf node that does real work.

        LangGraph's ``max_concurrency`` is not enough on its own: nested graphs (learning inside the
        evaluation) get their own executors, and a stream waiter shares the pool. With the embedded
        model one slot keeps one episode's requests consecutive, so the server reuses their prefix.
        """
        return self.slots if self.slots is not None else contextlib.nullcontext()

    def for_env(self, env_name: str) -> Context:
        """This context with the fields that differ for task type ``env_name`` (evaluate: per-task score,
        step cap and history window)."""
        fields = self.per_env.get(env_name)
        return dataclasses.replace(self, **fields) if fields else self

    def model_spec(self, role: str) -> ModelSpec:
        """The ``ModelSpec`` the plain fields give for ``role`` ("agent" or "learner"), as run.py makes them."""
        common = {
            "base_url": self.base_url,
            "model_path": self.model_path,
            "seed": self.seed,
            "timeout_s": self.timeout,
            "max_retries": self.max_retries,
            "requests_per_second": self.rps,
        }
        agent = self.agent_model_name or self.model
        if role == "agent":
            return ModelSpec(
                model=agent,
                temperature=self.agent_temperature,
                max_tokens=self.max_tokens or D.agent_max_tokens,
                **common,
            )
        return ModelSpec(
            model=self.learner_model_name or agent,
            temperature=self.learner_temperature,
            max_tokens=self.max_tokens or D.learner_max_tokens,
            **common,
        )

    def cache_dir(self) -> str | None:
        """Where ``cache`` keeps model replies: the run folder's llm-cache (None: no cache, or no run folder)."""
        return os.path.join(self.run_dir, "llm-cache") if self.cache and self.run_dir else None

    @property
    def agent(self) -> Any:
        """The agent's chat model: ``agent_model``, else the one the plain fields give (built once per process)."""
        if self.agent_model is not None:
            return self.agent_model
        return resources.chat_model(self.model_spec("agent"), cache_dir=self.cache_dir())

    @property
    def learner(self) -> Any:
        """The learner's chat model: ``learner_model``, else ``agent_model``, else the one the plain fields give."""
        if self.learner_model is not None:
            return self.learner_model
        if self.agent_model is not None:
            return self.agent_model
        return resources.chat_model(self.model_spec("learner"), cache_dir=self.cache_dir())


_IN_SLOT: contextvars.ContextVar[bool] = contextvars.ContextVar("learnact_in_slot", default=False)


def holds_slot(node: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a leaf node ``(task, runtime)`` so that it runs inside one of the run's work slots. A node of a graph
    that such a node runs (a revision's check-and-repair loop) works in its caller's slot."""

    @functools.wraps(node)
    def wrapper(task: Any, runtime: Any, **bound: Any) -> Any:
        if _IN_SLOT.get():
            return node(task, runtime, **bound)
        with runtime.context.slot():
            token = _IN_SLOT.set(True)
            try:
                return node(task, runtime, **bound)
            finally:
                _IN_SLOT.reset(token)

    return wrapper


def rollout_graph(ctx: Context, built_with: Any) -> Any:
    """The episode graph a training rollout runs: the context's ``rollout_graph`` (an override, e.g. ReAct for
    ReAct+Reflexion), else ``built_with``, the one the calling graph was built with."""
    graph = ctx.rollout_graph if ctx.rollout_graph is not None else built_with
    if graph is None:
        raise ValueError(
            "no episode graph to roll out: build the graph with graphs.registry, or give Context.rollout_graph"
        )
    return graph
