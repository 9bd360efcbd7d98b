"""The one table of a run's settings (:class:`~learnact.settings.registry.Setting`); see :mod:`.registry`.

Add a setting here and it has a flag with ``--help``, a config.json key, a ``Context`` field and (with a
``paper`` value or as an aid) a row in the README's protocol table.
"""
from __future__ import annotations

from .registry import Setting

CHOICES_SCORE = ("step_correction", "call_ratio_success", "step_correction_call_ratio_success")
_ON = {"small": True, "none": False}

_MODELS = [
    Setting("model", str, None, "Chat model of both roles: 'local' (the embedded GGUF, started once per process), an OpenAI "
            "name such as 'gpt-4o-mini' (OPENAI_API_KEY from the environment), the model name served at base_url, or "
            "'provider:model'", group="models", nullable=True,
            default_text="$LEARNACT_MODEL; else gpt-4o-mini with OPENAI_API_KEY or a base URL; else local"),
    Setting("agent_model_name", str, None, "Chat model of the agent, when it differs from `model`", group="models",
            nullable=True, aliases=("--agent-model",), default_text="the model"),
    Setting("learner_model_name", str, None, "Chat model of the learner, when it differs from the agent's", group="models",
            nullable=True, aliases=("--learner-model",), default_text="$LEARNACT_LEARNER_MODEL, else the agent's"),
    Setting("base_url", str, None, "OpenAI-compatible server (vLLM, Ollama, llama.cpp) serving the model ($LEARNACT_BASE_URL)",
            group="models", nullable=True),
    Setting("model_path", str, None, "A GGUF file served locally instead of the embedded Qwen2.5-Coder-1.5B (model 'local')",
            group="models", nullable=True),
    Setting("agent_temperature", float, 0.0, "Agent sampling temperature", group="models"),
    Setting("learner_temperature", float, 0.7, "Learner sampling temperature, so that the K samples differ", group="models",
            paper=0.0, why="K samples that are not copies"),
    Setting("max_tokens", int, None, "Reply token cap of both roles", group="models", nullable=True,
            default_text="64 for the agent, 768 for the learner"),
    Setting("program_max_tokens", int, 2048, "Reply cap for a Code-as-Policies program (a whole program is long)", group="models"),
    Setting("seed", int, 0, "Sampling seed, varied per call by node and key, so parallel samples differ but a re-run repeats "
            "them (None: unseeded)", group="models", nullable=True),
    Setting("timeout", float, 120.0, "Seconds to wait for one model reply before retrying", group="models"),
    Setting("max_retries", int, 4, "Retries of a failed model request (429, 5xx, timeout, reset connection, empty or garbage "
            "reply)", group="models"),
    Setting("rps", float, None, "Rate limit: model requests per second (None: unlimited)", group="models", nullable=True),
    Setting("cache", bool, False, "Cache model replies on disk (re-runs are free and reproducible): in the run folder's "
            "llm-cache", group="models"),
]

_ASSIST = [
    Setting("assist", str, None, "Small-model aids: small (the compact prompt with worked steps, the grammar, resampling, "
            "creation trials, probes, state queries) or none (the paper's method); each aid's own setting still wins",
            group="assist", nullable=True, choices=("small", "none"), paper="none",
            default_text="small with the local model, none with any other model and with --protocol paper",
            why="the aids let the 1.5B embedded model act and learn; a large model does not need them"),
    Setting("agent_prompt", str, None, "The agent's prompt: compact (the state per object, the last steps, worked steps as "
            "chat turns, verified in the sandbox) or paper (one system text with the example episode, then the transcript)",
            group="assist", choices=("compact", "paper"), assist={"small": "compact", "none": "paper"},
            why="the 1.5B embedded model copies the example and repeats itself with the paper's shape"),
    Setting("grammar", bool, None, "Constrain local-model replies to one call with a GBNF grammar", group="assist",
            assist=_ON, why="the 1.5B model otherwise repeats one refused call for the whole episode"),
    Setting("typed_grammar", bool, None, "The grammar admits only well-typed primitive calls (minus calls refused since the "
            "state last changed) and learned calls over the environment's objects, where it lists them (PDDL)",
            group="assist", assist=_ON, negations=("--untyped-grammar",)),
    Setting("resample_refused", int, None, "A reply repeating a call tried without effect since the state last changed is "
            "sampled again, warmer (temperature 0.8), up to this many times", group="assist",
            assist={"small": 2, "none": 0}, metavar="N"),
    Setting("creation_trials", bool, None, "Creation drops a learned action none of whose calls works in any situation of "
            "the domain's example episode, and the learner's repair is told why", group="assist", assist=_ON,
            why="the 1.5B learner often writes an action that would fail wherever the agent called it"),
    Setting("probe_unused", bool, None, "When the agent made no learned call in a round's rollouts, revise from failed "
            "calls the framework tries itself instead of stopping", group="assist", assist=_ON, negations=("--no-probe",),
            why="a small agent never calls a broken action, so nothing would fail and learning would stop"),
    Setting("state_queries", bool, None, "The learner is told that a learned action may read the state with "
            "find(fact, *known), and shown the environment's changing facts (PDDL)", group="assist", assist=_ON,
            why="an action that finds where things are needs fewer arguments"),
]

_ACTING = [
    Setting("max_steps", int, {"pddl": 30, "alfworld": 20}, "Agent steps per test episode (learn: --max-steps sets "
            "learn_max_steps)", paper={"pddl": 30, "alfworld": 20}),
    Setting("history_window", int, {"pddl": 20, "alfworld": 50}, "History entries shown to the agent, one entry = one "
            "Action with its Observation (the reference's window counts lines, 2 per entry: its 20 / 50 lines are 10 / 25)",
            paper={"pddl": 10, "alfworld": 25}),
    Setting("history_trim", str, "chunks", "How the history window is cut: chunks (half a window at a time, a stable "
            "prompt prefix) or last (the last lines, one more each step: the reference's memory)", paper="last",
            choices=("chunks", "last"), why="a stable prompt prefix"),
    Setting("recent_steps", int, 3, "Compact prompt: at least this many of the agent's last steps are shown as chat turns, "
            "trimmed 8 at a time"),
    Setting("valid_actions_only", bool, False, "Local model: the grammar admits only the primitive calls valid in the "
            "current state (or a learned action); an experiment for small models, not the paper's setting"),
    Setting("feedback", str, "named", "A refused PDDL action: named (which precondition failed) or generic (the paper's "
            "'not valid' sentence)", paper="generic", choices=("named", "generic"),
            why="the agent and the learner can act on the reason"),
    Setting("learned_call_invalid", str, "stop", "An invalid primitive inside a learned call: stop (the call ends there, "
            "failed) or continue (it runs on and succeeds iff its last primitive step was valid)", paper="continue",
            choices=("stop", "continue"), why="the trace ends at the failure, what revision needs"),
    Setting("learned_observation", str, "trace", "What the agent sees after a learned call: trace (the last valid "
            "observation and the failing step) or reference (the last primitive's observation; ALFWorld: the valid ones "
            "joined)", paper="reference", choices=("trace", "reference")),
    Setting("runs", int, 1, "Repeat every episode this many times; evaluate: each run of a learning method learns anew "
            "with the seed --seed + run", paper=3, context=False),
    Setting("test_set", str, "split", "The instances tested: split (LearnAct's test split) or all (every instance, the "
            "training ones included: the reference's --test_on_all)", paper="all", choices=("split", "all"), context=False),
    Setting("program_cap", str, "step_cap", "Code-as-Policies: step_cap (the program runs at most the step cap's "
            "primitives) or none", paper="none", choices=("step_cap", "none")),
    Setting("program_wall_s", float, None, "Wall-clock limit of one Code-as-Policies program run", nullable=True,
            default_text="max(30 s, 2 s per step)"),
]

_LEARNING = [
    Setting("candidates", int, 4, "K: candidate action sets, and revision samples per round (2 in the small run without "
            "--env)", group="learning", paper=4),
    Setting("max_rounds", int, 3, "Cap on revision rounds (2 in the small run without --env); Reflexion gets as many "
            "rounds of training rollouts as LearnAct, max_rounds + 1", group="learning", paper=2),
    Setting("patience", int, 1, "Stop when the best score has not improved for this many rounds (0: never, a fixed "
            "number of rounds)", group="learning", paper=0, why="a round costs K x instances rollouts"),
    Setting("learn_max_steps", int, 10, "Agent steps per training rollout (8 in the small run without --env; "
            "--graph learn's --max-steps sets it too)", group="learning", paper=10),
    Setting("score", str, {"pddl": CHOICES_SCORE[2], "alfworld": CHOICES_SCORE[1]}, "The score that selects the best "
            "candidate", group="learning", choices=CHOICES_SCORE),
    Setting("create_tries", int, 4, "Repairs over one candidate's creation", group="learning"),
    Setting("revision", str, "both", "Ablation: the revision kinds the learner may answer (Update = new code, Plan = a "
            "usage note)", group="learning", choices=("both", "update", "plan")),
    Setting("review", bool, False, "A person in the loop: learning pauses (LangGraph interrupt) after creation and after each "
            "revision that changes code, for a person to approve, reject (with a reason the learner is told) or edit each "
            "new or changed function; run.py asks in the terminal (it needs one), Studio shows a form", group="learning"),
    Setting("demonstration", bool, True, "The learner writes a usage demonstration per candidate (off, an ablation: the "
            "domain example only)", group="learning"),
    Setting("prompt_set", str, "default", "The templates: default (prompts/templates) or paper (prompts/paper: the "
            "reference's prompts' parts, in order, with each task's own worked material)", group="method", paper="paper",
            choices=("default", "paper")),
    Setting("describe_actions", bool, False, "A separate learner request describes each new or updated function",
            group="method", paper=True),
    Setting("redemonstrate", bool, False, "An Update gets a new usage demonstration (else the parent's is kept)",
            group="method", paper=True),
    Setting("revise_target", str, "most_failed", "The failures revised: most_failed (the action that failed most, cycling "
            "over its failures) or first_failure (the first failed learned call, the same for all K samples)",
            group="method", paper="first_failure", choices=("most_failed", "first_failure")),
    Setting("plan_note", str, "named_kept", "A Plan note goes to: named_kept (the function the learner names, kept across "
            "Updates) or failing_cleared (the failing function; an Update of it clears its notes)", group="method",
            paper="failing_cleared", choices=("named_kept", "failing_cleared")),
    Setting("reroll_best", bool, False, "Roll the previous best out again with each round's new candidates", group="method",
            paper=True),
    Setting("tie_break", str, "success_then_first", "Equal scores: success_then_first (the higher training success, then "
            "the earlier candidate) or first (the reference's argmax)", group="method", paper="first",
            choices=("success_then_first", "first")),
    Setting("reflexion", str, "per_failure", "Reflexion: per_failure (a lesson per failed episode every round) or "
            "first_failure (one reflection per round from the first failed task, none after the last)", group="method",
            paper="first_failure", choices=("per_failure", "first_failure")),
]

_RUNNING = [
    Setting("data_dir", str, None, "Benchmark data folder laid out like ../shared/data (generated problems need none)",
            group="running", nullable=True, default_text="$LEARNACT_DATA or ../shared/data"),
    Setting("concurrency", int, None, "At most this many episodes, rollouts and learner tasks at once; with executor ray, "
            "the number of Ray workers", group="running", nullable=True,
            default_text="run.py: 1 with the local model, else 4; a Context: unbounded"),
    Setting("executor", str, "local", "Where episodes and training rollouts run: local (threads of this process) or ray "
            "(Ray workers, each with its own environments and sandboxes; pip install -e '.[ray]')", group="running",
            choices=("local", "ray")),
    Setting("ray_address", str, None, "Executor ray: the running cluster to join, 'auto' or HOST:PORT of `ray start --head` "
            "(None: start Ray on this machine); workers elsewhere call the model themselves, so give a base URL",
            group="running", nullable=True, metavar="ADDRESS"),
]

SETTINGS: dict[str, Setting] = {s.name: s for s in _MODELS + _ASSIST + _ACTING + _LEARNING + _RUNNING}
GROUPS = {
    "models": "models",
    "assist": "small-model aids (--assist; each aid's flag overrides it)",
    "acting": "acting",
    "learning": "learning",
    "method": "the method's variants (--protocol chooses them together)",
    "running": "running",
}
