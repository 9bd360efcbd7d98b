"""The run context every node receives as ``runtime.context``: models, prompts, knobs.

Nothing a node needs comes from a global: a graph is invoked with ``context=Context(...)``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prompts import PromptSet

from .episodes import EpisodeRegistry


@dataclass
class Context:
    agent_model: Any = field(default=None, metadata={"description": "Chat model that acts (BaseChatModel)."})
    learner_model: Any = field(
        default=None, metadata={"description": "Chat model that writes and revises actions; defaults to the agent's."}
    )
    prompts: PromptSet = field(default_factory=PromptSet, metadata={"description": "Templates per node."})
    prompts_dir: str | None = field(default=None, metadata={"description": "User folder overriding domain material."})
    episodes: EpisodeRegistry = field(
        default_factory=EpisodeRegistry,
        metadata={"description": "Live episodes; also holds the env options (feedback) and the executor's rule for an "
                  "invalid primitive in a learned call (learned_call_invalid: stop or continue)."},
    )
    usage: Any = field(default=None, metadata={"description": "llm.usage.UsageTracker for tokens and cost."})
    max_steps: int = field(default=30, metadata={"description": "Agent steps per test episode."})
    history_window: int = field(
        default=20,
        metadata={"description": "History entries shown to the agent; one entry = one Action with its Observation "
                  "(2 lines of the reference's window, which counts lines: its 20 lines = 10 entries)."},
    )
    use_grammar: bool = field(default=True, metadata={"description": "Constrain local-model replies to one call."})
    valid_actions_only: bool = field(
        default=False,
        metadata={"description": "The grammar admits only primitive calls valid in the current state, or a learned action."},
    )
    agent_prompt: str = field(
        default="compact",
        metadata={"description": "Agent prompt shape: compact (state per object, recent steps, worked steps as chat turns) "
                  "or paper (one system text with the example, goal and transcript)."},
    )
    recent_steps: int = field(default=3, metadata={"description": "Compact prompt: the agent's last steps shown with their outcome."})
    typed_grammar: bool = field(
        default=True,
        metadata={"description": "Grammar admits only well-typed primitive calls (minus calls refused since the state last "
                  "changed) and learned calls over the environment's objects, where the environment lists them (PDDL)."},
    )
    probe_unused: bool = field(
        default=True,
        metadata={"description": "When the agent made no learned call in a round's rollouts, revise from failed calls "
                  "the framework tries itself (nodes/probes.py) instead of stopping."},
    )
    creation_trials: bool = field(
        default=True,
        metadata={"description": "Creation drops a learned action none of whose calls works in any situation of the "
                  "domain's example episode, and the learner's repair is told why (nodes/probes.py, PDDL)."},
    )
    resample_refused: int = field(
        default=2,
        metadata={"description": "A reply repeating a call tried without effect since the state last changed is sampled "
                  "again (at temperature 0.8) up to this many times."},
    )
    run_dir: str | None = field(default=None, metadata={"description": "Where results of this run are written."})
    rollout_graph: Any = field(
        default=None, metadata={"description": "Compiled episode graph the learning loop rolls out (the Act graph)."}
    )
    graphs: dict[str, Any] = field(
        default_factory=dict, metadata={"description": "Graph builders by name (checkpointer=...) for the evaluation harness."}
    )
    concurrency: int | None = field(
        default=None,
        metadata={"description": "At most this many episodes, rollouts and learner tasks at once (None: unbounded)."},
    )
    slots: Any = field(default=None, repr=False, metadata={"description": "The semaphore behind slot(); made from concurrency."})
    # Learning knobs (graphs/learn.py).
    candidates: int = 4
    learn_max_steps: int = 10
    max_rounds: int = 5
    patience: int = 1  # rounds without improvement before stopping; 0: never (the paper's fixed rounds)
    score: str = "step_correction_call_ratio_success"
    revision: str = field(
        default="both", metadata={"description": "Revision kinds the learner may answer: update, plan or both (an ablation)."}
    )
    demonstration: bool = field(
        default=True,
        metadata={"description": "The learner writes a usage demonstration per candidate (off: the domain example only)."},
    )
    per_env: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={"description": "Evaluate: Context fields that differ per task type, env -> {field: value} "
                  "(max_steps, history_window, score)."},
    )
    create_tries: int = 4
    learner_temperature: float = 0.7
    program_max_tokens: int = field(
        default=2048, metadata={"description": "Reply cap for a Code-as-Policies program (a whole program is long)."}
    )
    program_wall_s: float | None = field(
        default=None,
        metadata={"description": "Wall-clock limit of one Code-as-Policies program run (None: max(30 s, 2 s per step))."},
    )

    def __post_init__(self) -> None:
        # dataclasses.replace passes `slots` on, so sub-runs share the bound with their parent.
        if self.slots is None and self.concurrency:
            self.slots = threading.BoundedSemaphore(self.concurrency)

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

    @property
    def learner(self) -> Any:
        return self.learner_model if self.learner_model is not None else self.agent_model


def holds_slot(node: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a leaf node ``(task, runtime)`` so that it runs inside one of the run's work slots."""

    @functools.wraps(node)
    def wrapper(task: Any, runtime: Any) -> Any:
        with runtime.context.slot():
            return node(task, runtime)

    return wrapper
