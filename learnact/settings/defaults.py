"""Every default of a run, in one place: :data:`DEFAULTS`.

``run.py``'s flags say these values in ``--help`` (learnact/cli/flags.py), the flags' resolution writes them into
``config.json`` (learnact/cli/resolve.py), and :class:`nodes.context.Context`'s fields default to them, so that a
graph run from ``langgraph dev`` or from Python behaves as ``run.py`` does. Where the paper's protocol and
this project's differ, the value comes from :data:`settings.protocol.DEFAULT_PROTOCOL`, the one source of
the protocols' values (``--protocol paper`` takes :data:`~settings.protocol.PAPER_PROTOCOL`'s).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .protocol import env_family, protocol_value


def _ours(name: str, family: str = "pddl") -> Any:
    """This project's protocol value of setting ``name`` (for task family ``family`` where the families differ)."""
    return protocol_value("default", name, f"{family}/")


# The methods an evaluation compares (nodes/evaluate.py maps each to the graphs it learns and acts with).
METHODS = ("act", "react", "reflexion", "react_reflexion", "code_as_policy", "learnact")


def default_score(env_name: str) -> str:
    """The paper's choice: ALFWorld uses call_ratio_success, robotic planning the sum of all three."""
    return "call_ratio_success" if env_name.startswith("alfworld/") else "step_correction_call_ratio_success"


@dataclass(frozen=True)
class Defaults:
    """The defaults, typed; the ones that depend on the task family are the PDDL ones (see :meth:`for_env`)."""

    # -- what to run: `run.py --graph learn` alone learns on small generated gripper problems
    env: str = "pddl/gripper"
    train_generated: tuple[str, ...] = ("gen:seed=1,balls=2", "gen:seed=2,balls=3")
    test_generated: tuple[str, ...] = ("gen:seed=11,balls=2", "gen:seed=12,balls=3", "gen:seed=13,balls=4")
    methods: str = "act,learnact"
    runs: int = _ours("runs")
    test_set: str = _ours("test_set")  # split: the test split; all: every instance, the training ones included
    ladder_train_seeds: tuple[int, int] = (1, 999)
    ladder_test_seeds: tuple[int, int] = (1000, 9999)
    # ground actions a PDDL problem may have (every well-typed call, estimated before grounding): a bigger one is refused
    ground_budget: int = 1_000_000
    # -- models
    agent_temperature: float = 0.0
    learner_temperature: float = _ours("learner_temperature")  # K samples that differ
    seed: int = 0  # varied per call by node and key: parallel samples differ, a re-run repeats them
    agent_max_tokens: int = 64  # one call per reply
    learner_max_tokens: int = 768  # a set of functions
    program_max_tokens: int = 2048  # a whole Code-as-Policies program
    model_timeout_s: float = 120  # seconds to wait for one model reply before retrying
    model_max_retries: int = 4  # retries of a failed model request (429, 5xx, timeout, reset, empty or garbage reply)
    local_concurrency: int = 1  # the embedded server answers one request at a time, reusing the last prefix
    remote_concurrency: int = 4
    # -- where episodes run: "local" (threads of this process) or "ray" (Ray workers, nodes/remote.py)
    executor: str = "local"
    ray_address: str | None = None  # None: start a Ray on this machine; "auto" or HOST:PORT: join a running cluster
    worker_attempts: int = 3  # attempts of one episode whose Ray worker died (killed, out of memory)
    # -- acting
    max_steps: int = _ours("max_steps")  # per test episode
    history_window: int = _ours("history_window")  # entries: one Action with its Observation
    feedback: str = _ours("feedback")
    learned_call_invalid: str = _ours("learned_call_invalid")
    agent_prompt: str = _ours("agent_prompt")
    history_trim: str = _ours("history_trim")  # chunks (a stable prompt prefix) or last (the reference's last lines)
    learned_observation: str = _ours("learned_observation")
    recent_steps: int = 3  # compact prompt: at least this many last steps shown as chat turns (trimmed 8 at a time)
    grammar: bool = _ours("grammar")
    typed_grammar: bool = _ours("typed_grammar")
    valid_actions_only: bool = False
    resample_refused: int = _ours("resample_refused")  # times a reply that repeats a call tried without effect is sampled again
    resample_temperature: float = 0.8  # the temperature of those samples
    # -- learning
    candidates: int = _ours("candidates")
    max_rounds: int = _ours("max_rounds")
    patience: int = _ours("patience")
    learn_max_steps: int = _ours("learn_max_steps")  # per training rollout
    create_tries: int = 4  # repairs over one candidate's creation
    score: str = default_score("pddl/")
    revision: str = "both"
    demonstration: bool = True
    state_queries: bool = _ours("state_queries")
    creation_trials: bool = _ours("creation_trials")
    probe_unused: bool = _ours("probe_unused")
    prompt_set: str = _ours("prompt_set")
    describe_actions: bool = _ours("describe_actions")
    redemonstrate: bool = _ours("redemonstrate")
    revise_target: str = _ours("revise_target")
    plan_note: str = _ours("plan_note")
    reroll_best: bool = _ours("reroll_best")
    tie_break: str = _ours("tie_break")
    reflexion: str = _ours("reflexion")
    program_cap: str = _ours("program_cap")
    # -- a person in the loop (issue 28, nodes/review.py)
    review: bool = False  # learning pauses (interrupt) for a person to approve, reject or edit new and changed code

    def for_env(self, env_name: str) -> dict[str, Any]:
        """The defaults that differ by the task family of ``env_name`` (e.g. ``alfworld/put``)."""
        family = env_family(env_name)
        return {
            "max_steps": _ours("max_steps", family),
            "history_window": _ours("history_window", family),
            "score": default_score(env_name),
        }


DEFAULTS = Defaults()
