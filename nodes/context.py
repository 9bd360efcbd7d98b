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
from prompts import PromptSet
from learnact.settings.defaults import DEFAULTS as D

from . import resources
from .episodes import EpisodeRegistry
from .learning.journal import RolloutJournal

# Plain model fields that, left at their default, take a value from the environment (as in
# langchain-ai/react-agent's Context): set once where ``langgraph dev`` runs instead of in every request.
ENV_DEFAULTS = {"model": "LEARNACT_MODEL", "learner_model_name": "LEARNACT_LEARNER_MODEL", "base_url": "LEARNACT_BASE_URL"}


def _knob(default: Any, description: str) -> Any:
    """A plain field: its default (settings.defaults) and the description Studio's context panel shows."""
    return field(default=default, metadata={"description": description})


def _live(description: str, default: Any = None, **kw: Any) -> Any:
    """A live (not serialisable) field: left out of the JSON schema that Studio's context panel shows."""
    if "default_factory" in kw:
        return field(metadata={"description": description, "live": True}, **kw)
    return field(default=default, metadata={"description": description, "live": True}, **kw)


@dataclass
class Context:
    # -- plain fields: what a run is made from (JSON from Studio or an HTTP request) --------------------
    model: str = field(
        default="local",
        metadata={"description": "Chat model of both roles: 'local' (the embedded GGUF, started once per process), an "
                  "OpenAI name such as 'gpt-4o-mini' (OPENAI_API_KEY from the environment), the model name served at "
                  "base_url, or 'provider:model'. Default: $LEARNACT_MODEL, else 'local'."},
    )
    learner_model_name: str | None = field(
        default=None,
        metadata={"description": "Chat model of the learner, when it differs from `model` ($LEARNACT_LEARNER_MODEL)."},
    )
    base_url: str | None = field(
        default=None,
        metadata={"description": "OpenAI-compatible server (vLLM, Ollama, llama.cpp) serving `model` ($LEARNACT_BASE_URL)."},
    )
    model_path: str | None = field(default=None, metadata={"description": "A GGUF that replaces the embedded model (model 'local')."})
    temperature: float = field(default=D.agent_temperature, metadata={"description": "Agent sampling temperature (the learner's: learner_temperature)."})
    max_tokens: int | None = field(
        default=None, metadata={"description": f"Reply cap of both roles (None: {D.agent_max_tokens} agent, {D.learner_max_tokens} learner)."}
    )
    seed: int | None = field(default=D.seed, metadata={"description": "Sampling seed, varied per call by node and key (None: unseeded)."})
    data_dir: str | None = field(
        default=None, metadata={"description": "Benchmark data (None: $LEARNACT_DATA or ../shared/data; generated problems need none)."}
    )
    feedback: str = field(default=D.feedback, metadata={"description": "Refused PDDL action: 'named' (which precondition failed) or 'generic'."})
    learned_call_invalid: str = field(
        default=D.learned_call_invalid, metadata={"description": "A learned call's invalid primitive: 'stop' (the call failed) or 'continue'."}
    )
    # -- live fields: run.py fills them; None means "made from the plain fields" ----------------------
    agent_model: SkipJsonSchema[Any] = _live("Chat model that acts (BaseChatModel); None: built from `model`.")
    learner_model: SkipJsonSchema[Any] = _live(
        "Chat model that writes and revises actions; defaults to the agent's (or to one built from the plain fields)."
    )
    prompts: SkipJsonSchema[Any] = _live("Templates per node (prompts.PromptSet); None: the defaults with prompts_dir applied.")
    prompts_dir: str | None = field(default=None, metadata={"description": "User folder overriding domain material."})
    episodes: SkipJsonSchema[Any] = _live(
        "Live episodes (nodes.episodes.EpisodeRegistry); also holds the env options (feedback) and the executor's rule for an "
        "invalid primitive in a learned call (learned_call_invalid). None: one made from data_dir, feedback, learned_call_invalid."
    )
    sandbox: SkipJsonSchema[Any] = _live(
        "Makes the sandbox that runs learned code, as langgraph-codeact's eval_fn: (env, library, *, limits=None, "
        "invalid_primitive='stop') -> an actions.Executor (a context manager with run(line)). Every node runs agent lines "
        "and learned code through it.", default=Executor,
    )
    usage: SkipJsonSchema[Any] = _live(
        "learnact.llm.usage.UsageTracker for tokens and cost; None with no live model: a fresh tracker for this context."
    )
    max_steps: int = field(default=D.max_steps, metadata={"description": "Agent steps per test episode."})
    history_window: int = field(
        default=D.history_window,
        metadata={"description": "History entries shown to the agent; one entry = one Action with its Observation "
                  "(2 lines of the reference's window, which counts lines: its 20 lines = 10 entries)."},
    )
    use_grammar: bool = field(default=D.grammar, metadata={"description": "Constrain local-model replies to one call."})
    valid_actions_only: bool = field(
        default=D.valid_actions_only,
        metadata={"description": "The grammar admits only primitive calls valid in the current state, or a learned action."},
    )
    agent_prompt: str = field(
        default=D.agent_prompt,
        metadata={"description": "Agent prompt shape: compact (state per object, recent steps, worked steps as chat turns) "
                  "or paper (one system text with the example, goal and transcript)."},
    )
    recent_steps: int = field(default=D.recent_steps, metadata={"description": "Compact prompt: at least this many of the episode's last steps are shown as chat turns (trimmed 8 at a time)."})
    typed_grammar: bool = field(
        default=D.typed_grammar,
        metadata={"description": "Grammar admits only well-typed primitive calls (minus calls refused since the state last "
                  "changed) and learned calls over the environment's objects, where the environment lists them (PDDL)."},
    )
    probe_unused: bool = field(
        default=D.probe_unused,
        metadata={"description": "When the agent made no learned call in a round's rollouts, revise from failed calls "
                  "the framework tries itself (nodes/learning/probes.py) instead of stopping."},
    )
    creation_trials: bool = field(
        default=D.creation_trials,
        metadata={"description": "Creation drops a learned action none of whose calls works in any situation of the "
                  "domain's example episode, and the learner's repair is told why (nodes/learning/probes.py, PDDL)."},
    )
    state_queries: bool = field(
        default=D.state_queries,
        metadata={"description": "The learner is told that a learned action may read the state with find(fact, *known), "
                  "and shown the environment's changing facts (PDDL)."},
    )
    resample_refused: int = field(
        default=D.resample_refused,
        metadata={"description": "A reply repeating a call tried without effect since the state last changed is sampled "
                  f"again (at temperature {D.resample_temperature}) up to this many times."},
    )
    history_trim: str = _knob(
        D.history_trim, "How the history window is cut: 'chunks' (half a window at a time, a stable prompt prefix) or 'last' "
        "(the last lines, as the reference's memory)."
    )
    learned_observation: str = _knob(
        D.learned_observation, "What the agent sees after a learned call: 'trace' (the last valid observation and the failing "
        "step) or 'reference' (the last primitive's observation; ALFWorld: the valid ones joined)."
    )
    prompt_set: str = _knob(D.prompt_set, "The templates: 'default' (prompts/templates) or 'paper' (prompts/paper: the reference's parts).")
    describe_actions: bool = _knob(D.describe_actions, "A separate learner request describes each new or updated function.")
    redemonstrate: bool = _knob(D.redemonstrate, "An Update gets a new usage demonstration (else the parent's is kept).")
    revise_target: str = _knob(
        D.revise_target, "The failures revised: 'most_failed' (the action that failed most, cycling over its failures) or "
        "'first_failure' (the first failed learned call, the same for all K samples)."
    )
    plan_note: str = _knob(
        D.plan_note, "A Plan note: 'named_kept' (to the function the learner names, kept across Updates) or 'failing_cleared' "
        "(to the failing function; an Update of it clears its notes)."
    )
    reroll_best: bool = _knob(D.reroll_best, "Roll the previous best out again with each round's new candidates.")
    tie_break: str = _knob(D.tie_break, "Equal scores: 'success_then_first' or 'first' (the reference's argmax).")
    reflexion: str = _knob(
        D.reflexion, "Reflexion: 'per_failure' (a lesson per failed episode every round) or 'first_failure' (one reflection "
        "per round from the first failed task, none after the last round)."
    )
    program_cap: str = _knob(D.program_cap, "Code-as-Policies: 'step_cap' (primitives up to the step cap) or 'none'.")
    run_dir: str | None = field(
        default=None, metadata={"description": "Where results of this run are written (None: nothing is written)."}
    )
    journal: SkipJsonSchema[Any] = _live(
        "The run folder's journal of finished training rollouts (nodes.learning.journal.RolloutJournal), shared by the parallel "
        "rollout tasks; made from run_dir (None without one).", repr=False,
    )
    rollout_graph: SkipJsonSchema[Any] = _live(
        "Compiled episode graph the learning loop and Reflexion roll out; None: the one the graph was built with (Act)."
    )
    graphs: SkipJsonSchema[dict[str, Any]] = _live(
        "Graph builders by name (checkpointer=...) the evaluation runs; empty: the ones it was built with (graphs.registry).",
        default_factory=dict,
    )
    concurrency: int | None = field(
        default=None,
        metadata={"description": "At most this many episodes, rollouts and learner tasks at once (None: unbounded)."},
    )
    slots: SkipJsonSchema[Any] = _live("The semaphore behind slot(); made from concurrency.", repr=False)
    executor: str = field(
        default=D.executor,
        metadata={"description": "Where episodes and training rollouts run: 'local' (threads of this process) or 'ray' "
                  "(Ray workers, each with its own environments and sandboxes; nodes/remote.py)."},
    )
    ray_address: str | None = field(
        default=D.ray_address,
        metadata={"description": "executor 'ray': the cluster to join ('auto', HOST:PORT); None: a Ray started on this machine."},
    )
    workers: SkipJsonSchema[Any] = _live(
        "executor 'ray': the pool of Ray workers (nodes.ray_pool.RayWorkers) the episodes run on; None: made on first use.",
        repr=False,
    )
    # Learning knobs (graphs/learn.py).
    candidates: int = _knob(D.candidates, "K: candidate action sets, and revision samples per round.")
    learn_max_steps: int = _knob(D.learn_max_steps, "Agent steps per training rollout.")
    max_rounds: int = _knob(D.max_rounds, "Cap on revision rounds (Reflexion: max_rounds + 1 rounds of rollouts).")
    patience: int = _knob(D.patience, "Stop after this many rounds without improvement of the best score (0: never, the paper's fixed rounds).")
    score: str = _knob(D.score, "Score that selects the best candidate (ALFWorld: call_ratio_success, per_env).")
    revision: str = field(
        default=D.revision, metadata={"description": "Revision kinds the learner may answer: update, plan or both (an ablation)."}
    )
    demonstration: bool = field(
        default=D.demonstration,
        metadata={"description": "The learner writes a usage demonstration per candidate (off: the domain example only)."},
    )
    per_env: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={"description": "Evaluate: Context fields that differ per task type, env -> {field: value} "
                  "(max_steps, history_window, score)."},
    )
    create_tries: int = _knob(D.create_tries, "Repairs over one candidate's creation.")
    # A person in the loop (issue 28, nodes/review.py).
    review: bool = _knob(D.review, "Learning pauses (interrupt) after creation and after each revision that changes code: a "
                         "person approves, rejects (with a reason the learner is told) or edits each new or changed function.")
    learner_temperature: float = _knob(D.learner_temperature, "Learner sampling temperature (K samples that differ).")
    program_max_tokens: int = field(
        default=D.program_max_tokens, metadata={"description": "Reply cap for a Code-as-Policies program (a whole program is long)."}
    )
    program_wall_s: float | None = field(
        default=None,
        metadata={"description": "Wall-clock limit of one Code-as-Policies program run (None: max(30 s, 2 s per step))."},
    )

    def __post_init__(self) -> None:
        for name, variable in ENV_DEFAULTS.items():
            if getattr(self, name) == type(self).__dataclass_fields__[name].default and os.environ.get(variable):
                setattr(self, name, os.environ[variable])
        # The cheap live fields left None are made here (dataclasses.replace passes them on, so a sub-run
        # shares them; `slots` too: sub-runs share the bound with their parent).
        if self.slots is None and self.concurrency:
            self.slots = threading.BoundedSemaphore(self.concurrency)
        if self.prompts is None:
            self.prompts = PromptSet(self.prompts_dir, prompt_set=self.prompt_set)
        if self.episodes is None:
            self.episodes = EpisodeRegistry(
                data_dir=self.data_dir, env_options={"feedback": self.feedback}, learned_call_invalid=self.learned_call_invalid
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
        if role == "agent":
            return ModelSpec(
                model=self.model, base_url=self.base_url, temperature=self.temperature,
                max_tokens=self.max_tokens or D.agent_max_tokens, model_path=self.model_path, seed=self.seed,
            )  # fmt: skip
        return ModelSpec(
            model=self.learner_model_name or self.model, base_url=self.base_url, temperature=self.learner_temperature,
            max_tokens=self.max_tokens or D.learner_max_tokens, model_path=self.model_path, seed=self.seed,
        )  # fmt: skip

    @property
    def agent(self) -> Any:
        """The agent's chat model: ``agent_model``, else the one the plain fields give (built once per process)."""
        if self.agent_model is not None:
            return self.agent_model
        return resources.chat_model(self.model_spec("agent"))

    @property
    def learner(self) -> Any:
        """The learner's chat model: ``learner_model``, else ``agent_model``, else the one the plain fields give."""
        if self.learner_model is not None:
            return self.learner_model
        if self.agent_model is not None:
            return self.agent_model
        return resources.chat_model(self.model_spec("learner"))


def holds_slot(node: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a leaf node ``(task, runtime)`` so that it runs inside one of the run's work slots."""

    @functools.wraps(node)
    def wrapper(task: Any, runtime: Any, **bound: Any) -> Any:
        with runtime.context.slot():
            return node(task, runtime, **bound)

    return wrapper


def rollout_graph(ctx: Context, built_with: Any) -> Any:
    """The episode graph a training rollout runs: the context's ``rollout_graph`` (an override, e.g. ReAct for
    ReAct+Reflexion), else ``built_with``, the one the calling graph was built with."""
    graph = ctx.rollout_graph if ctx.rollout_graph is not None else built_with
    if graph is None:
        raise ValueError("no episode graph to roll out: build the graph with graphs.registry, or give Context.rollout_graph")
    return graph
