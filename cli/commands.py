"""What ``run.py --graph ...`` does: resolve settings, open the run folder, run the graph."""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .ladder_flags import ladder_instances, ladder_settings
from .main import DEFAULT_ENV, DEFAULT_TEST_GENERATED, DEFAULT_TRAIN_GENERATED, UserError
from .protocol import protocol_settings, protocol_value, resolved
from .progress import ProgressPrinter
from .runs import RunDir, RunError, new_run_id


def _given(value, default):
    """A flag's value when given (0 included, so that validation can reject it), else the default."""
    return default if value is None else value


def _validate_counts(s: dict[str, Any]) -> None:
    flags = {"learn_max_steps": "max-steps"}
    for name in ("candidates", "max_rounds", "learn_max_steps", "max_steps", "runs", "concurrency", "history_window", "patience"):
        value = s.get(name)
        zero_ok = name in ("max_rounds", "patience")
        if value is not None and value < (0 if zero_ok else 1):
            raise UserError(f"--{flags.get(name, name.replace('_', '-'))} must be {'0 or more' if zero_ok else 'positive'}, got {value}")


def _split_list(values: list[str] | None) -> list[str]:
    """Comma-separated flag values; ``gen:seed=1,balls=2`` stays one item (its commas join key=value sizes)."""
    out: list[str] = []
    for item in values or []:
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            if out and out[-1].startswith("gen:") and re.fullmatch(r"\w+=[^:/\s]*", part):
                out[-1] += "," + part
            else:
                out.append(part)
    return out


def _check_instances(env_name: str, instances: list[str], data_dir) -> tuple[str, ...]:
    """Every named problem exists, parses and fits its domain before the run folder and the model
    start, not an hour in; returns the environment's primitive action names.

    PDDL problems are parsed and checked against the domain (cached: the episodes reuse them);
    ALFWorld games are located by :func:`check_inputs` when the run starts (loading one takes ~0.5 s)."""
    family, task = env_name.split("/", 1)
    if not instances:
        raise UserError(f"no instance to run on {env_name}: --instance was given without a name")
    if family != "pddl":
        from environments.alfworld_env import PRIMITIVES

        return tuple(p.name for p in PRIMITIVES)
    from environments import make_env

    names: tuple[str, ...] = ()
    for inst in instances:
        try:
            env = make_env(env_name, inst, data_dir=data_dir)
        except (ValueError, TypeError) as exc:  # a bad generator spec, a PDDL file that does not parse or fit the domain
            raise UserError(str(exc) if inst in str(exc) else f"--instance {inst}: {exc}") from None
        names = names or env.primitive_names
        env.close()
    return names


def check_inputs(settings: dict[str, Any]) -> None:
    """Before the run folder is made and the model starts, for a new run and a resumed one alike (a
    file may have moved or changed since): every instance exists and parses (PDDL) or is on disk
    (ALFWorld games: a file check, no game loaded), the ``--actions`` library loads and is safe, and the
    prompt files read and fit their nodes."""
    from environments.alfworld_env import resolve_game_file

    if settings["graph"] == "evaluate":
        named = {e: list(settings["train"].get(e, [])) + list(settings["test"].get(e, [])) for e in settings["envs"]}
    else:
        named = {settings["env"]: settings.get("train_instances") or settings.get("instances") or []}
    primitives: tuple[str, ...] = ()
    for env_name, instances in named.items():
        primitives = _check_instances(env_name, instances, settings.get("data_dir"))
        if env_name.startswith("alfworld/"):
            for inst in instances:
                try:
                    resolve_game_file(inst, settings.get("data_dir"))
                except ValueError as exc:
                    raise UserError(f"--instance {inst!r}: {exc}") from None
    _check_actions(settings.get("actions"), primitives)
    from prompts import PromptSet

    PromptSet(settings["prompts"]["dir"], settings["prompts"]["overrides"])  # every template file reads and fits its node


def _check_actions(spec: str | None, primitives: tuple[str, ...]) -> None:
    """``--actions``: the library loads, no function is one the sandbox refuses, no name is a primitive's."""
    if not spec:
        return
    from actions import ActionLibraryError

    from .act_cmd import load_library

    try:
        library, _ = load_library(spec)
        library.check_primitive_names(primitives)
        refused = library.safety_problems(primitives)
    except ActionLibraryError as exc:
        raise UserError(f"--actions {spec}: {exc}") from None
    if refused:
        name, why = next(iter(refused.items()))
        more = f" (and {len(refused) - 1} more function(s))" if len(refused) > 1 else ""
        raise UserError(f"--actions {spec}: the sandbox refuses function {name!r}: {'; '.join(why)}{more}")


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Every knob of the run, with defaults filled in, as plain JSON (saved in config.json)."""
    from environments import list_instances, split_env_name

    default_run = args.env is None  # `run.py --graph learn` alone: embedded default, generated problems
    if args.env is not None and not args.env.strip():
        raise UserError("--env is empty; give an environment such as pddl/gripper or alfworld/put")
    if args.model_path and not Path(args.model_path).expanduser().is_file():
        raise UserError(f"--model-path {args.model_path}: no such file (a GGUF model file)")
    if args.graph == "evaluate":
        return resolve_evaluate_settings(args, default_run)
    env_name = "/".join(split_env_name(args.env or DEFAULT_ENV))
    s: dict[str, Any] = {"graph": args.graph, "env": env_name, "data_dir": args.data_dir}
    ladder = ladder_settings(args)
    if ladder:
        s["ladder"] = ladder
    if args.graph == "learn":
        if ladder:
            train = ladder_instances(env_name, "train", ladder)
        elif args.instance:
            train = _split_list(args.instance)
        elif default_run:
            train = DEFAULT_TRAIN_GENERATED
        else:
            train = list_instances(env_name, split="train", data_dir=args.data_dir)
        if args.train is not None:
            if args.train < 1:
                raise UserError("--train must be at least 1")
            train = train[: args.train] if len(train) >= args.train else train
        s.update(
            train_instances=train,
            candidates=resolved(args, "candidates", env_name, default_run),
            max_rounds=resolved(args, "max_rounds", env_name, default_run),
            patience=resolved(args, "patience", env_name),
            learn_max_steps=resolved(args, "learn_max_steps", env_name, default_run, flag="max_steps"),
        )
        from nodes.scoring import default_score

        s["score"] = args.score or default_score(env_name)
    else:
        if ladder:
            instances = ladder_instances(env_name, "test", ladder)
        elif args.instance:
            instances = _split_list(args.instance)
        elif default_run:
            instances = DEFAULT_TEST_GENERATED
        else:
            instances = list_instances(env_name, split=args.split or "test", data_dir=args.data_dir)
        if args.actions and not Path(args.actions).exists():
            raise UserError(f"--actions {args.actions}: no such file or folder")
        s.update(instances=instances, max_steps=resolved(args, "max_steps", env_name), runs=args.runs, actions=args.actions)
    _check_instances(env_name, s["train_instances"] if args.graph == "learn" else s["instances"], args.data_dir)
    s["history_window"] = resolved(args, "history_window", env_name)
    s["models"] = model_settings(args, learner_temperature=resolved(args, "learner_temperature", env_name))
    s["concurrency"] = _concurrency(args, s["models"])
    _validate_counts(s)
    s["prompts"] = {"dir": args.prompts, "overrides": dict(_parse_prompt_overrides(args.prompt))}
    s.update(grammar_settings(args, s["models"]))
    s.update(protocol_settings(args, env_name, learning=args.graph == "learn"))
    s["cache"] = args.cache
    return s


def expand_envs(spec: str) -> list[str]:
    """``pddl/*``, ``alfworld/*``, ``all`` or a comma-separated list -> environment names."""
    from environments import ENV_NAMES, split_env_name

    out: list[str] = []
    for part in _split_list([spec]):
        if part in ("all", "*"):
            out += list(ENV_NAMES)
        elif part.endswith("/*"):
            family = part[:-2]
            matches = [n for n in ENV_NAMES if n.startswith(family + "/")]
            if not matches:
                raise UserError(f"--env {part}: no environment family {family!r}; families: pddl, alfworld")
            out += matches
        else:
            out.append("/".join(split_env_name(part)))
    return list(dict.fromkeys(out))


def resolve_evaluate_settings(args: argparse.Namespace, default_run: bool) -> dict[str, Any]:
    from environments import list_instances
    from nodes.evaluate import METHODS

    methods = _split_list([args.methods])
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UserError(f"--methods: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(METHODS)}")
    envs = expand_envs(args.env or DEFAULT_ENV)
    if args.runs < 1:
        raise UserError("--runs must be at least 1")
    ladder = ladder_settings(args)
    if ladder:
        train = {e: ladder_instances(e, "train", ladder)[: args.train or None] for e in envs}
        test = {e: ladder_instances(e, "test", ladder) for e in envs}
    elif default_run:
        train = {envs[0]: DEFAULT_TRAIN_GENERATED}
        test = {envs[0]: _split_list(args.instance) or DEFAULT_TEST_GENERATED}
    else:
        train = {e: list_instances(e, split="train", data_dir=args.data_dir)[: args.train or None] for e in envs}
        test = {e: _split_list(args.instance) or list_instances(e, split=args.split or "test", data_dir=args.data_dir) for e in envs}
    for e in envs:
        _check_instances(e, train[e] + test[e], args.data_dir)
    s: dict[str, Any] = {
        "graph": "evaluate", "env": ",".join(envs), "envs": envs, "methods": methods, "train": train, "test": test,
        "runs": args.runs, "data_dir": args.data_dir, "split": args.split or "test",
        "candidates": resolved(args, "candidates", envs[0], default_run),
        "max_rounds": resolved(args, "max_rounds", envs[0], default_run),
        "patience": resolved(args, "patience", envs[0]),
        "learn_max_steps": protocol_value(args.protocol, "learn_max_steps", envs[0], default_run),
        "max_steps": _given(args.max_steps, 30),
        # Per task type: ALFWorld episodes get 20 steps unless --max-steps says otherwise.
        "episode_max_steps": {e: resolved(args, "max_steps", e) for e in envs},
        "per_env": per_env_settings(args, envs),
        "models": model_settings(args, learner_temperature=resolved(args, "learner_temperature", envs[0])),
        "prompts": {"dir": args.prompts, "overrides": dict(_parse_prompt_overrides(args.prompt))},
        "cache": args.cache,
    }
    if ladder:
        s["ladder"] = ladder
    s.update(grammar_settings(args, s["models"]))
    s.update(protocol_settings(args, envs[0], learning=True))
    s["concurrency"] = _concurrency(args, s["models"])
    if s["models"]["learner"]["seed"] is not None:  # each run of a learning method learns with its own seed
        s["learning_seeds"] = [s["models"]["learner"]["seed"] + k for k in range(args.runs)]
    _validate_counts(s)
    for e, knobs in s["per_env"].items():
        _validate_counts(knobs)
    return s


def per_env_settings(args: argparse.Namespace, envs: list[str]) -> dict[str, dict[str, Any]]:
    """What differs per task type in one evaluation: the test step cap, the history window and the
    learning score (the paper's: call_ratio_success for ALFWorld, the sum of all three for PDDL)."""
    from nodes.scoring import default_score

    return {
        e: {
            "max_steps": resolved(args, "max_steps", e),
            "history_window": resolved(args, "history_window", e),
            "score": args.score or default_score(e),
        }
        for e in envs
    }


def _concurrency(args: argparse.Namespace, models: dict[str, dict]) -> int:
    """Parallel episodes: 1 against the embedded server, which runs one request at a time and reuses
    the prompt prefix of the previous one; interleaved episodes would make it re-read each episode's
    history on every step (measured: benchmarks/bench_concurrency.py)."""
    if args.concurrency is not None:
        return args.concurrency
    return 1 if models["agent"]["model"] == "local" else 4


def grammar_settings(args: argparse.Namespace, models: dict[str, dict]) -> dict[str, bool]:
    if args.valid_actions_only:
        if args.no_grammar:
            raise UserError("--valid-actions-only works through the grammar: it cannot go with --no-grammar")
        if models["agent"]["model"] != "local":
            raise UserError(
                "--valid-actions-only constrains decoding with a grammar, which only the local model server takes"
                " (--agent-model local, optionally with --model-path)"
            )
    recent, resample = getattr(args, "recent_steps", None), getattr(args, "resample_refused", None)
    for flag, value in (("--recent-steps", recent), ("--resample-refused", resample)):
        if value is not None and value < 0:
            raise UserError(f"{flag} must be 0 or more, got {value}")
    return {
        "grammar": not args.no_grammar,
        "valid_actions_only": bool(args.valid_actions_only),
        # The agent's decoding and compact prompt (nodes/agent_prompt.py); the prompt's shape (agent_prompt)
        # comes with the protocol (cli/protocol.py).
        "recent_steps": 3 if recent is None else recent,
        "typed_grammar": not getattr(args, "untyped_grammar", False),
        "resample_refused": 2 if resample is None else resample,
    }


def _parse_prompt_overrides(specs: list[str]):
    from prompts import parse_override

    return [parse_override(spec) for spec in specs]


def model_settings(args: argparse.Namespace, learner_temperature: float = 0.7) -> dict[str, dict]:
    """Both roles' model specs; ``learner_temperature`` applies unless --learner-temperature is given."""
    from llm.config import ModelSpec

    default = args.model or ("local" if not (os.environ.get("OPENAI_API_KEY") or args.base_url) else "gpt-4o-mini")
    agent = args.agent_model or default
    learner = args.learner_model or agent
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UserError(f"--max-tokens must be positive, got {args.max_tokens}")
    if args.rps is not None and not args.rps > 0:
        raise UserError(f"--rps must be positive, got {args.rps}")
    for flag, t in (("--agent-temperature", args.agent_temperature), ("--learner-temperature", args.learner_temperature)):
        if t is not None and not 0.0 <= t <= 2.0:
            raise UserError(f"{flag} must be between 0 and 2, got {t}")
    timeout, retries = getattr(args, "timeout", None), getattr(args, "max_retries", None)
    if timeout is not None and not timeout > 0:
        raise UserError(f"--timeout must be positive, got {timeout}")
    if retries is not None and retries < 0:
        raise UserError(f"--max-retries must be 0 or more, got {retries}")
    common = {"base_url": args.base_url, "model_path": args.model_path, "requests_per_second": args.rps, "seed": args.seed,
              **({"timeout_s": timeout} if timeout is not None else {}), **({"max_retries": retries} if retries is not None else {})}
    return {
        "agent": asdict(ModelSpec(model=agent, temperature=args.agent_temperature, max_tokens=args.max_tokens or 64, **common)),
        "learner": asdict(ModelSpec(model=learner, temperature=_given(args.learner_temperature, learner_temperature), max_tokens=args.max_tokens or 768, **common)),
    }


@contextlib.contextmanager
def open_models(settings: dict[str, Any], run: RunDir, retries=None):
    """Chat models for both roles; starts the shared local server when a role uses it. ``retries`` (a
    ``llm.retries.RetryCounter``) counts their failed attempts per kind."""
    from llm.config import ModelSpec
    from llm.local import LocalServer
    from llm.models import make_chat_model

    specs = {role: ModelSpec(**spec) for role, spec in settings["models"].items()}
    cache_dir = str(run.path / "llm-cache") if settings.get("cache") else None
    with contextlib.ExitStack() as stack:
        server = None
        if any(s.model == "local" for s in specs.values()):
            model_path = next((s.model_path for s in specs.values() if s.model == "local"), None)
            print("starting the local model server (first run assembles the model once) ...", file=sys.stderr, flush=True)
            server = stack.enter_context(LocalServer(model_path=model_path))
        models = {role: make_chat_model(spec, server=server, cache_dir=cache_dir, retries=retries) for role, spec in specs.items()}
        yield models, server


def make_context(settings: dict[str, Any], models: dict, usage, run: RunDir, actions_library=None):
    from graphs.act import build_act_graph
    from graphs.evaluate import METHOD_GRAPHS
    from nodes.context import Context
    from nodes.episodes import EpisodeRegistry
    from prompts import PromptSet

    prompts = PromptSet(settings["prompts"]["dir"], settings["prompts"]["overrides"])
    return Context(
        agent_model=models["agent"],
        learner_model=models["learner"],
        prompts=prompts,
        prompts_dir=settings["prompts"]["dir"],
        episodes=EpisodeRegistry(
            data_dir=settings.get("data_dir"),
            env_options={"feedback": settings.get("feedback", "named")},
            learned_call_invalid=settings.get("learned_call_invalid", "stop"),
        ),
        usage=usage,
        max_steps=settings.get("max_steps", 30),
        history_window=settings.get("history_window", 20),
        per_env=settings.get("per_env", {}),
        revision=settings.get("revision", "both"),
        demonstration=settings.get("demonstration", True),
        concurrency=settings.get("concurrency"),
        use_grammar=settings["grammar"],
        valid_actions_only=settings.get("valid_actions_only", False),
        agent_prompt=settings.get("agent_prompt", "compact"),
        recent_steps=settings.get("recent_steps", 3),
        typed_grammar=settings.get("typed_grammar", True),
        resample_refused=settings.get("resample_refused", 2),
        probe_unused=settings.get("probe_unused", True),
        creation_trials=settings.get("creation_trials", True),
        state_queries=settings.get("state_queries", True),
        run_dir=str(run.path),
        rollout_graph=build_act_graph(checkpointer=False),
        graphs=dict(METHOD_GRAPHS),
        candidates=settings.get("candidates", 4),
        learn_max_steps=settings.get("learn_max_steps", 10),
        max_rounds=settings.get("max_rounds", 3),
        patience=settings.get("patience", 1),
        score=settings.get("score", "step_correction_call_ratio_success"),
    )


def stream_config(thread_id: str, concurrency: int, orchestrators: int = 0) -> dict[str, Any]:
    """Run config for ``graph.stream(..., stream_mode="custom")`` with ``concurrency`` parallel tasks.

    LangGraph's sync stream parks one waiter for stream events on the graph's thread pool, whose size
    is ``max_concurrency``: with ``max_concurrency=1`` that waiter takes the only thread and the run
    hangs forever, and while every thread is busy the stream delivers nothing. The real bound on work
    in flight is ``Context.slots`` (held by the leaf nodes); the pool gets one thread per leaf slot,
    one per ``orchestrators`` (tasks that only wait on nested graphs, e.g. the evaluation's learning
    runs, which would otherwise fill the pool while their leaves wait for a slot) and one for the
    waiter, so that ``concurrency`` leaves really run and the live view stays live.
    """
    return {"configurable": {"thread_id": thread_id}, "max_concurrency": concurrency + orchestrators + 1, "recursion_limit": 100_000}


def pending_nodes(next_nodes) -> str:
    """The nodes a resumed graph will run, counted: ``run_episode ×68`` instead of the name 68 times."""
    return ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in Counter(next_nodes).items())


def stream_to_run(graph, inputs, config: dict[str, Any], ctx, run: RunDir, progress) -> dict[str, Any]:
    """Run ``graph`` to its end (or its next interrupt), logging every custom event; the final state."""
    for chunk in graph.stream(inputs, config, context=ctx, stream_mode="custom"):
        run.append("events.jsonl", chunk)
        progress(chunk)
    return graph.get_state(config).values


@contextlib.contextmanager
def sqlite_checkpointer(path: Path):
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def draw(args: argparse.Namespace) -> int:
    from viz.draw import draw_graph

    out = draw_graph(args.graph, args.draw, Path(args.run_dir or "."))
    print(out)
    return 0


def _money(cost) -> str:
    return "n/a (no price known for this model)" if cost is None else f"${cost:.4f}"


def _run_graph(settings: dict[str, Any], run: RunDir, models: dict, usage, args: argparse.Namespace) -> int:
    if settings["graph"] == "learn":
        from .learn_cmd import run_learn

        return run_learn(settings, run, models, usage, resume=bool(args.resume), verbose=args.verbose)
    if settings["graph"] == "evaluate":
        from .evaluate_cmd import run_evaluate

        return run_evaluate(settings, run, models, usage, verbose=args.verbose)
    from .act_cmd import run_act

    return run_act(settings, run, models, usage, verbose=args.verbose, method=settings["graph"])


def run_command(args: argparse.Namespace) -> int:
    if args.draw:
        return draw(args)
    if args.resume:
        run = RunDir(args.resume)
        settings = run.load_config()
        if settings.get("graph") != args.graph and "--graph" in sys.argv:
            raise UserError(f"{args.resume} is a run of --graph {settings.get('graph')}; resume it with --graph {settings.get('graph')}")
        run.check_resumable(needs_checkpoint=settings["graph"] == "learn")
        check_inputs(settings)
    else:
        settings = resolve_settings(args)
        check_inputs(settings)
        from prompts import PromptSet

        settings["prompt_hashes"] = PromptSet(settings["prompts"]["dir"], settings["prompts"]["overrides"]).fingerprint()
        run = RunDir(args.run_dir or Path("runs") / new_run_id(settings["graph"], settings["env"]))
        if (run.path / "config.json").exists():
            raise UserError(f"{run.path} already holds a run; continue it with --resume {run.path} or choose another --run-dir")
        run.create(settings)
    print(f"run folder: {run.path}", file=sys.stderr)
    from llm.usage import UsageTracker

    usage = UsageTracker()
    t0 = time.monotonic()
    from llm.errors import ServerError

    try:
        with open_models(settings, run, retries=usage.retries) as (models, server):
            code = _run_graph(settings, run, models, usage, args)
            if server is not None:
                with contextlib.suppress(Exception):
                    print(f"local model server memory: {server.rss_mb():.0f} MB", file=sys.stderr)
    except ServerError as exc:
        # The model server failed past every retry: stop now, say how to go on. What finished is on disk
        # (episodes, rollouts, checkpoints); usage.json keeps what was spent and retried until here.
        with contextlib.suppress(OSError):
            run.write_json("usage.json", usage.summary())
        raise type(exc)(f"{exc}; the work finished so far is saved: continue with python run.py --graph {settings['graph']} --resume {run.path}") from exc
    summary = usage.summary()
    run.write_json("usage.json", summary)
    try:
        from viz.report import write_report

        print(f"report: {write_report(run.path)}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - a report problem must not fail a finished run
        print(f"warning: the HTML report could not be written ({exc}); try: python run.py report {run.path}", file=sys.stderr)
    total = usage.totals()
    if summary.get("retries"):
        retried = ", ".join(f"{kind} {n}" for kind, n in summary["retries"].items())
        print(f"model requests retried: {sum(summary['retries'].values())} ({retried})", file=sys.stderr)
    print(
        f"done in {time.monotonic() - t0:.0f}s; tokens {total.get('total_tokens', 0):,} "
        f"(prompt {total.get('prompt_tokens', 0):,}, completion {total.get('completion_tokens', 0):,}), cost {_money(total.get('cost'))}; "
        f"results in {run.path}",
        file=sys.stderr,
    )
    return code
