"""The run context every node receives as ``runtime.context``: models, prompts, knobs.

Nothing a node needs comes from a global: a graph is invoked with ``context=Context(...)``.
"""
from __future__ import annotations

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
    episodes: EpisodeRegistry = field(default_factory=EpisodeRegistry)
    usage: Any = field(default=None, metadata={"description": "llm.usage.UsageTracker for tokens and cost."})
    max_steps: int = field(default=30, metadata={"description": "Agent steps per test episode."})
    history_window: int = field(default=20, metadata={"description": "History entries shown to the agent."})
    use_grammar: bool = field(default=True, metadata={"description": "Constrain local-model replies to one call."})
    run_dir: str | None = field(default=None, metadata={"description": "Where results of this run are written."})
    rollout_graph: Any = field(
        default=None, metadata={"description": "Compiled episode graph the learning loop rolls out (the Act graph)."}
    )
    graphs: dict[str, Any] = field(
        default_factory=dict, metadata={"description": "Graph builders by name (checkpointer=...) for the evaluation harness."}
    )
    # Learning knobs (graphs/learn.py).
    candidates: int = 4
    learn_max_steps: int = 10
    max_rounds: int = 5
    patience: int = 1
    score: str = "step_correction_call_ratio_success"
    create_tries: int = 4
    learner_temperature: float = 0.7

    @property
    def learner(self) -> Any:
        return self.learner_model if self.learner_model is not None else self.agent_model
