"""``run.py``'s flags. Every default they state comes from settings.defaults (and the protocols), so that
``--help``, config.json and the Context say the same."""
from __future__ import annotations

import argparse

from graphs.registry import COMMANDS, GRAPHS
from learnact.settings.defaults import DEFAULTS as D
from learnact.settings.defaults import METHODS
from learnact.settings.protocol import DEFAULT_PROTOCOL, PAPER_PROTOCOL, SMALL_RUN, render_value

from .errors import OneLineParser
from .ladder_flags import add_ladder_flags
from .protocol import add_protocol_flags


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="run.py",
        description="LearnAct as LangGraph workflows: learn actions as Python functions, then act with them.",
        epilog="Subcommands: `run.py prompts` lists templates, `run.py prompts show NODE` prints one, "
        "`run.py report RUN_DIR` writes the HTML report of a run, `run.py check PATH` checks a PDDL domain folder.",
    )
    _what_to_run(p.add_argument_group("what to run"))
    _models(p.add_argument_group("models"))
    _acting(p.add_argument_group("acting"))
    _learning(p.add_argument_group("learning"))
    add_ladder_flags(p)
    add_protocol_flags(p)
    _outputs(p.add_argument_group("outputs"))
    return p


def _what_to_run(g) -> None:
    g.add_argument(
        "--graph", choices=COMMANDS, default="learn",
        help="; ".join(f"{name}: {GRAPHS[name].what}" for name in COMMANDS) + " (default learn)",
    )  # fmt: skip
    g.add_argument(
        "--env",
        help=f"environment, e.g. pddl/gripper, alfworld/put, or pddl:PATH (a folder with domain.pddl and problem files); "
        f"evaluate also takes lists and pddl/*, alfworld/* "
        f"(default {D.env} on generated problems)",
    )
    g.add_argument("--methods", default=D.methods, help=f"evaluate: comma-separated, from {','.join(METHODS)}")
    g.add_argument("--instance", action="append", help="instance name or file (repeatable, or comma-separated); act default: the test split")
    g.add_argument("--split", choices=["train", "test"], help="act on LearnAct's split (default test)")
    g.add_argument("--data-dir", help="benchmark data folder laid out like ../shared/data (default: $LEARNACT_DATA or ../shared/data)")
    g.add_argument("--draw", choices=["mermaid", "png"], help="draw the graph instead of running it")


def _models(m) -> None:
    m.add_argument("--model", help="model for both roles: local (default without OPENAI_API_KEY), an OpenAI model, or provider:model")
    m.add_argument("--agent-model", help="model that acts")
    m.add_argument("--learner-model", help="model that writes and revises actions (default: the agent's)")
    m.add_argument("--base-url", help="OpenAI-compatible server URL (vLLM, Ollama, llama.cpp)")
    m.add_argument("--model-path", help="GGUF file served locally instead of the embedded Qwen2.5-Coder-1.5B")
    m.add_argument("--agent-temperature", type=float, default=D.agent_temperature)
    m.add_argument(
        "--learner-temperature", type=float,
        help=f"default {D.learner_temperature}, so that the K samples differ (--protocol paper: {PAPER_PROTOCOL['learner_temperature']})",
    )  # fmt: skip
    m.add_argument(
        "--seed", type=int, default=D.seed,
        help=f"sampling seed, varied per call so parallel samples differ but a re-run repeats them (default {D.seed})",
    )  # fmt: skip
    m.add_argument(
        "--max-tokens", type=int, default=None,
        help=f"reply token cap (default: {D.agent_max_tokens} for the agent, {D.learner_max_tokens} for the learner)",
    )  # fmt: skip
    m.add_argument(
        "--no-grammar", dest="grammar", action="store_const", const=False,
        help="do not constrain local-model replies to one call (default: constrained; --protocol paper: free text)",
    )  # fmt: skip
    m.add_argument("--grammar", dest="grammar", action="store_const", const=True, help="constrain local-model replies to one call")
    m.add_argument(
        "--valid-actions-only", action="store_true",
        help="local model: the grammar admits only the primitive calls valid in the current state (or a learned action);"
        " an experiment for small models, not the paper's setting",
    )  # fmt: skip
    m.add_argument(
        "--agent-prompt", choices=["compact", "paper"],
        help=f"the agent's prompt: compact (default {D.agent_prompt}: the state per object, the last steps, worked steps as chat "
        "turns, verified in the sandbox) or paper (the paper's: one system text with the example episode, then the transcript)",
    )  # fmt: skip
    m.add_argument("--recent-steps", type=int, help=f"compact prompt: at least this many of the agent's last steps are shown as chat turns, trimmed 8 at a time (default {D.recent_steps})")
    m.add_argument(
        "--untyped-grammar", dest="typed_grammar", action="store_const", const=False,
        help="local model: let the grammar admit any call over the offered names (default: well-typed primitive calls, "
        "minus calls refused since the state last changed, and learned calls over the object names)",
    )
    m.add_argument(
        "--resample-refused", type=int, metavar="N",
        help="an agent reply repeating a call already tried without effect in this state is sampled again, warmer, "
        f"up to N times (default {D.resample_refused}; 0 = never)",
    )
    m.add_argument("--cache", action="store_true", help="cache LLM replies on disk (re-runs are free and reproducible)")
    m.add_argument("--rps", type=float, help="rate limit: requests per second")
    m.add_argument("--timeout", type=float, help=f"seconds to wait for one model reply before retrying (default {D.model_timeout_s:g})")
    m.add_argument(
        "--max-retries", type=int,
        help=f"retries of a failed model request (429, 5xx, timeout, reset connection, empty or garbage reply; default {D.model_max_retries})",
    )  # fmt: skip


def _acting(a) -> None:
    steps, window = render_value(DEFAULT_PROTOCOL["max_steps"]), render_value(DEFAULT_PROTOCOL["history_window"])
    a.add_argument("--max-steps", type=int, help=f"agent steps per episode (act: {steps}; learn rollouts: {D.learn_max_steps})")
    a.add_argument(
        "--history-window", type=int,
        help=f"history entries shown to the agent, one entry = one Action with its Observation (default {window}); the paper's "
        f"window counts lines, 2 per entry: its 20 / 50 lines are --history-window {render_value(PAPER_PROTOCOL['history_window'])} "
        "(--protocol paper)",
    )  # fmt: skip
    a.add_argument("--actions", help="learned actions: a .py file or a run folder of `--graph learn`")
    a.add_argument(
        "--runs", type=int,
        help=f"repeat every episode this many times (default {D.runs}; --protocol paper: {PAPER_PROTOCOL['runs']}); evaluate: each "
        "run of a learning method learns anew with the seed --seed + run",
    )  # fmt: skip
    a.add_argument(
        "--test-set", choices=["split", "all"],
        help=f"the instances tested: split (default {D.test_set}: LearnAct's test split) or all (every instance, the training "
        f"ones included: the reference's --test_on_all; --protocol paper: {PAPER_PROTOCOL['test_set']})",
    )  # fmt: skip
    a.add_argument(
        "--history-trim", choices=["chunks", "last"],
        help=f"how the history window is cut: chunks (default {D.history_trim}: half a window at a time, a stable prompt prefix) "
        "or last (the last lines, one more each step: the reference's memory)",
    )  # fmt: skip
    a.add_argument(
        "--learned-observation", choices=["trace", "reference"],
        help=f"what the agent sees after a learned call: trace (default {D.learned_observation}: the last valid observation and "
        "the failing step) or reference (the last primitive's observation; ALFWorld: the valid ones joined)",
    )  # fmt: skip


def _learning(l) -> None:
    l.add_argument("--train", type=int, help="number of training instances (default: the LearnAct split's 3)")
    l.add_argument(
        "--candidates", type=int,
        help=f"K candidate action sets / revision samples (default {D.candidates}; {SMALL_RUN['candidates']} in the small run without --env)",
    )  # fmt: skip
    l.add_argument(
        "--max-rounds", type=int,
        help=f"cap on revision rounds (default {D.max_rounds}; {SMALL_RUN['max_rounds']} in the small run without --env; "
        f"--protocol paper: {PAPER_PROTOCOL['max_rounds']}); Reflexion gets as many rounds of training rollouts as LearnAct, max-rounds + 1",
    )  # fmt: skip
    l.add_argument(
        "--patience", type=int,
        help=f"stop when the best score has not improved for this many rounds (default {D.patience}; 0: never, the paper's fixed rounds)",
    )
    l.add_argument("--score", choices=["step_correction", "call_ratio_success", "step_correction_call_ratio_success"])
    l.add_argument(
        "--concurrency", type=int,
        help=f"parallel rollouts / episodes (default {D.local_concurrency} with the local model, else {D.remote_concurrency});"
        " with --executor ray, the number of Ray workers",
    )
    l.add_argument(
        "--executor", choices=["local", "ray"],
        help=f"where episodes and training rollouts run (default {D.executor}): local, threads of this process; ray, Ray "
        "workers, each with its own environments and sandboxes, on this machine or a cluster (pip install -e '.[ray]')",
    )  # fmt: skip
    # A person in the loop (issue 28): learnact/cli/review_prompt.py
    l.add_argument(
        "--review", action="store_true", default=None,
        help="pause learning for you to approve, reject (with a reason the learner is told) or edit ($EDITOR) each new or "
        "changed function, in this terminal (needs one); Studio: the context field review",
    )  # fmt: skip
    l.add_argument(
        "--ray-address", metavar="ADDRESS",
        help="with --executor ray: the running cluster to join, 'auto' or HOST:PORT of `ray start --head` "
        "(default: start Ray on this machine); workers elsewhere call the model themselves, so give --base-url",
    )  # fmt: skip


def _outputs(r) -> None:
    r.add_argument("--run-dir", help="run folder (default runs/<run-id>)")
    r.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    r.add_argument("--prompts", help="folder whose <node>.md files replace the built-in templates")
    r.add_argument("--prompt", action="append", default=[], metavar="NODE=FILE", help="replace one node's template")
    r.add_argument("-v", "--verbose", action="store_true", help="print every agent step")
