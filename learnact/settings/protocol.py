"""The protocol: this project's settings (:data:`DEFAULT_PROTOCOL`) and the paper's (:data:`PAPER_PROTOCOL`).

:data:`PAPER_PROTOCOL` holds every setting where the paper and its reference code differ from this
project's default. These two tables are the one source of those values: :data:`settings.defaults.DEFAULTS`
takes this project's from here, ``run.py --protocol paper`` the paper's (learnact/cli/protocol.py, which also
exposes both tables), and the README's protocol table shows both (tests/unit/cli/test_protocol.py checks it,
and that a ``--protocol paper`` run records exactly these values in config.json).
"""
from __future__ import annotations

from typing import Any

PROTOCOLS = ("default", "paper")

# setting -> value, or {"pddl": ..., "alfworld": ...} where the task families differ.
DEFAULT_PROTOCOL: dict[str, Any] = {
    "feedback": "named",  # a refused PDDL action names the precondition that failed
    "history_window": {"pddl": 20, "alfworld": 50},  # entries: one Action with its Observation
    "max_steps": {"pddl": 30, "alfworld": 20},  # agent steps per test episode
    "learn_max_steps": 10,  # agent steps per training rollout (LearnAct and Reflexion)
    "learner_temperature": 0.7,  # K samples that differ
    "candidates": 4,
    "max_rounds": 3,
    "patience": 1,  # stop after a round without improvement of the best score
    "agent_prompt": "compact",
    "learned_call_invalid": "stop",
    "state_queries": True,  # the learner may read the state in an action: find(fact, *known)
    "creation_trials": True,  # creation drops an action that works in no situation of the example episode
    "probe_unused": True,  # revise actions the agent never called from calls the framework tries (nodes/learning/probes.py)
    # -- decoding of the agent (small-model aids)
    "grammar": True,  # the local model's reply is constrained to one call by a GBNF grammar
    "typed_grammar": True,  # ... to well-typed calls, minus calls refused since the state last changed
    "resample_refused": 2,  # a reply repeating a refused call is sampled again, warmer, up to N times
    "history_trim": "chunks",  # the history window drops half a window at a time (a stable prompt prefix)
    # -- prompts and learning mechanics
    "prompt_set": "default",  # prompts/templates; "paper": prompts/paper (the reference's parts and material)
    "describe_actions": False,  # a separate learner request describes each new function
    "redemonstrate": False,  # an Update gets a new usage demonstration
    "revise_target": "most_failed",  # the failures revised: every failure of the action that failed most
    "plan_note": "named_kept",  # a Plan note goes to the function the learner names and survives Updates
    "reroll_best": False,  # the previous best's rollouts are reused in the next round
    "tie_break": "success_then_first",  # equal scores: the higher training success, then the earlier candidate
    "learned_observation": "trace",  # after a learned call: the last valid observation and the failing step
    # -- test set, runs and baselines
    "test_set": "split",  # the test split only
    "runs": 1,
    "reflexion": "per_failure",  # a lesson from every failed training episode, every round
    "program_cap": "step_cap",  # Code-as-Policies: the program may run as many primitives as the step cap
}
PAPER_PROTOCOL: dict[str, Any] = {
    "feedback": "generic",  # "The action is not valid and therefore takes no effect. ..."
    "history_window": {"pddl": 10, "alfworld": 25},  # the reference's 20 / 50 lines, 2 lines per entry
    "max_steps": {"pddl": 30, "alfworld": 20},
    "learn_max_steps": 10,
    "learner_temperature": 0.0,  # the reference samples everything at temperature 0
    "candidates": 4,
    "max_rounds": 2,
    "patience": 0,  # off: a fixed number of revision rounds
    "agent_prompt": "paper",
    "learned_call_invalid": "continue",  # run on; the call succeeded iff its last primitive step was valid
    "state_queries": False,  # actions see only what their primitives return
    "creation_trials": False,  # creation checks that the code runs, not what it does
    "probe_unused": False,  # learning stops when no learned call failed
    "grammar": False,  # free text, parsed
    "typed_grammar": False,
    "resample_refused": 0,
    "history_trim": "last",  # the last lines, one more each step (the reference's memory[-20:])
    "prompt_set": "paper",
    "describe_actions": True,  # the reference's wrap_tool_description, one request per function
    "redemonstrate": True,  # the reference's wrap_tool_usage_together after an Update
    "revise_target": "first_failure",  # the first failed learned call of the first failing episode, for all K samples
    "plan_note": "failing_cleared",  # the note goes to the failing function; an Update of it clears its notes
    "reroll_best": True,  # the previous best is rolled out again with the new candidates
    "tie_break": "first",  # np.argmax: the first candidate with the highest score (the previous best)
    "learned_observation": "reference",  # the last primitive's observation (ALFWorld: the valid ones joined)
    "test_set": "all",  # --test_on_all / unsplit: every instance, the training ones included
    "runs": 3,
    "reflexion": "first_failure",  # one reflection per round from the first failed task, at most max_rounds
    "program_cap": "none",  # no cap on the program's primitives
}
# `run.py --graph learn|evaluate` without --env (generated gripper problems): small settings, unless
# --protocol paper asks for the paper's.
SMALL_RUN = {"candidates": 2, "max_rounds": 2, "learn_max_steps": 8}


def protocol_value(protocol: str, name: str, env: str, small_run: bool = False) -> Any:
    """The protocol's value of setting ``name`` for task type ``env`` (e.g. pddl/gripper)."""
    if protocol != "paper" and small_run and name in SMALL_RUN:
        return SMALL_RUN[name]
    value = (PAPER_PROTOCOL if protocol == "paper" else DEFAULT_PROTOCOL)[name]
    return value[env_family(env)] if isinstance(value, dict) else value


def env_family(env: str) -> str:
    """The task family whose protocol values apply: ``alfworld`` for ``alfworld/put``, ``pddl`` for ``pddl/gripper``
    and a user's domain folder ``pddl:PATH`` (and for any other text environment: PDDL's step caps)."""
    return "alfworld" if env.startswith("alfworld/") else "pddl"


def render_value(value: Any) -> str:
    """A protocol value as the README's protocol table writes it: ``10 PDDL / 25 ALFWorld``, ``0.7``, ``stop``."""
    if isinstance(value, dict):
        return f"{value['pddl']} PDDL / {value['alfworld']} ALFWorld"
    return str(value)
