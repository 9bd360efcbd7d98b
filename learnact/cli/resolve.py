"""From the flags to the run's settings: every knob with its default filled in (settings.defaults), as
plain JSON (config.json). Its inputs are checked by learnact/cli/inputs.py before the run folder is made."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from environments import ENV_NAMES, canonical_env_name, list_instances
from environments.pddl.folder import is_folder_name, open_folder
from learnact.llm.config import ModelSpec
from learnact.settings.defaults import DEFAULTS, METHODS, default_score
from prompts import parse_override

from .errors import UserError
from .inputs import check_instances
from .ladder_flags import ladder_instances, ladder_settings
from .protocol import agent_model, protocol_settings, resolved, setting_values

# Counts checked in the settings, and the flag that sets each (where it is not the setting's name).
COUNTS = (
    "candidates",
    "max_rounds",
    "learn_max_steps",
    "max_steps",
    "runs",
    "concurrency",
    "history_window",
    "patience",
)
COUNT_FLAGS = {"learn_max_steps": "max-steps"}
ZERO_OK = ("max_rounds", "patience")


def _given(value, default):
    """A flag's value when given (0 included, so that validation can reject it), else the default."""
    return default if value is None else value


def _validate_counts(s: dict[str, Any]) -> None:
    for name in COUNTS:
        value, zero_ok = s.get(name), name in ZERO_OK
        if value is not None and value < (0 if zero_ok else 1):
            flag = COUNT_FLAGS.get(name, name.replace("_", "-"))
            raise UserError(f"--{flag} must be {'0 or more' if zero_ok else 'positive'}, got {value}")


def split_list(values: list[str] | None) -> list[str]:
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


# ---------------------------------------------------------------- one graph's settings


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Every knob of the run, with defaults filled in, as plain JSON (saved in config.json)."""
    default_run = args.env is None  # `run.py --graph learn` alone: embedded default, generated problems
    if args.env is not None and not args.env.strip():
        raise UserError("--env is empty; give an environment such as pddl/gripper or alfworld/put")
    if args.model_path and not Path(args.model_path).expanduser().is_file():
        raise UserError(f"--model-path {args.model_path}: no such file (a GGUF model file)")
    if getattr(args, "review", None) and args.graph != "learn":  # a person in the loop (issue 28)
        raise UserError(f"--review goes with --graph learn (this is --graph {args.graph})")
    if args.graph == "evaluate":
        return resolve_evaluate_settings(args, default_run)
    env_name = canonical_env_name(args.env or DEFAULTS.env)
    s: dict[str, Any] = {"graph": args.graph, "env": env_name, "data_dir": args.data_dir}
    if is_folder_name(env_name):
        s["domain_folder"] = folder_settings(env_name)
    ladder = ladder_settings(args)
    if ladder:
        s["ladder"] = ladder
    if args.graph == "learn":
        s.update(_learn_settings(args, env_name, ladder, default_run))
    else:
        s.update(_episode_settings(args, env_name, ladder, default_run))
    check_instances(env_name, s["train_instances"] if args.graph == "learn" else s["instances"], args.data_dir)
    s["history_window"] = resolved(args, "history_window", env_name)
    s["models"] = model_settings(args, learner_temperature=resolved(args, "learner_temperature", env_name))
    s["concurrency"] = _concurrency(args, s["models"])
    s.update(executor_settings(args))
    _validate_counts(s)
    s["prompts"] = {"dir": args.prompts, "overrides": dict(parse_override(spec) for spec in args.prompt)}
    s.update(protocol_settings(args))
    for name, value in setting_values(args, env_name, args.graph).items():
        s.setdefault(name, value)
    check_decoding(s, args)
    return s


def folder_settings(env_name: str) -> dict[str, Any]:
    """What config.json records of a domain folder: its domain file and its split (and where the split came from)."""
    folder = open_folder(env_name)
    try:
        folder.domain()
        split = folder.split()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return {"domain_file": str(folder.domain_file), "problems": list(folder.problems()), "split": split}


def _instances(
    args: argparse.Namespace, env_name: str, ladder: dict | None, default_run: bool, split: str
) -> list[str]:
    """The ``split`` instances the flags name: the ladder's, --instance, the small default run's generated
    problems, or LearnAct's split (act: --split, default test)."""
    if ladder:
        return ladder_instances(env_name, split, ladder)
    if args.instance:
        return split_list(args.instance)
    if default_run:
        return list(DEFAULTS.train_generated if split == "train" else DEFAULTS.test_generated)
    wanted = split if split == "train" else _test_split(args, env_name)
    names = list_instances(env_name, split=wanted, data_dir=args.data_dir)
    if not names and is_folder_name(env_name):
        raise UserError(
            f"{env_name}: its {wanted or 'whole'} split is empty (3 smallest problems train, the rest test, unless "
            f"split.json says otherwise); name problems with --instance or write split.json"
        )
    return names


def _test_split(args: argparse.Namespace, env_name: str) -> str | None:
    """The split tested: --split when given, else the test split, or every instance (None) with --test-set all."""
    return args.split or (None if resolved(args, "test_set", env_name) == "all" else "test")


def _learn_settings(args: argparse.Namespace, env_name: str, ladder: dict | None, default_run: bool) -> dict[str, Any]:
    train = _instances(args, env_name, ladder, default_run, "train")
    if args.train is not None:
        if args.train < 1:
            raise UserError("--train must be at least 1")
        train = train[: args.train] if len(train) >= args.train else train
    return {
        "train_instances": train,
        "candidates": resolved(args, "candidates", env_name, default_run),
        "max_rounds": resolved(args, "max_rounds", env_name, default_run),
        "patience": resolved(args, "patience", env_name),
        "learn_max_steps": _learn_max_steps(args, env_name, default_run),
        "score": args.score or default_score(env_name),
        "review": bool(getattr(args, "review", None) or DEFAULTS.review),  # a person in the loop (issue 28)
    }


def _learn_max_steps(args: argparse.Namespace, env_name: str, default_run: bool) -> int:
    """--learn-max-steps, else (learn) --max-steps, else the protocol's."""
    flag = (
        "learn_max_steps"
        if getattr(args, "learn_max_steps", None) is not None or args.graph != "learn"
        else "max_steps"
    )
    return resolved(args, "learn_max_steps", env_name, default_run, flag=flag)


def _episode_settings(
    args: argparse.Namespace, env_name: str, ladder: dict | None, default_run: bool
) -> dict[str, Any]:
    instances = _instances(args, env_name, ladder, default_run, "test")
    if args.actions and not Path(args.actions).exists():
        raise UserError(f"--actions {args.actions}: no such file or folder")
    runs = resolved(args, "runs", env_name)
    return {
        "instances": instances,
        "max_steps": resolved(args, "max_steps", env_name),
        "runs": runs,
        "actions": args.actions,
    }


# ---------------------------------------------------------------- the evaluation's settings


def expand_envs(spec: str) -> list[str]:
    """``pddl/*``, ``alfworld/*``, ``all`` or a comma-separated list -> environment names."""
    out: list[str] = []
    for part in split_list([spec]):
        if part in ("all", "*"):
            out += list(ENV_NAMES)
        elif part.endswith("/*"):
            family = part[:-2]
            matches = [n for n in ENV_NAMES if n.startswith(family + "/")]
            if not matches:
                raise UserError(f"--env {part}: no environment family {family!r}; families: pddl, alfworld")
            out += matches
        else:
            out.append(canonical_env_name(part))
    return list(dict.fromkeys(out))


def _evaluate_instances(args: argparse.Namespace, envs: list[str], ladder: dict | None, default_run: bool):
    """(training, test) instances per task type."""
    if ladder:
        train = {e: ladder_instances(e, "train", ladder)[: args.train or None] for e in envs}
        test = {e: ladder_instances(e, "test", ladder) for e in envs}
    elif default_run:
        train = {envs[0]: list(DEFAULTS.train_generated)}
        test = {envs[0]: split_list(args.instance) or list(DEFAULTS.test_generated)}
    else:
        train = {e: list_instances(e, split="train", data_dir=args.data_dir)[: args.train or None] for e in envs}
        test = {
            e: split_list(args.instance) or list_instances(e, split=_test_split(args, e), data_dir=args.data_dir)
            for e in envs
        }
    for e in envs:
        check_instances(e, train[e] + test[e], args.data_dir)
    return train, test


def resolve_evaluate_settings(args: argparse.Namespace, default_run: bool) -> dict[str, Any]:
    methods = split_list([args.methods])
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UserError(f"--methods: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(METHODS)}")
    envs = expand_envs(args.env or DEFAULTS.env)
    runs = resolved(args, "runs", envs[0])
    if runs < 1:
        raise UserError("--runs must be at least 1")
    ladder = ladder_settings(args)
    train, test = _evaluate_instances(args, envs, ladder, default_run)
    s: dict[str, Any] = {
        "graph": "evaluate",
        "env": ",".join(envs),
        "envs": envs,
        "methods": methods,
        "train": train,
        "test": test,
        "runs": runs,
        "data_dir": args.data_dir,
        "split": args.split or ("all" if resolved(args, "test_set", envs[0]) == "all" else "test"),
        "candidates": resolved(args, "candidates", envs[0], default_run),
        "max_rounds": resolved(args, "max_rounds", envs[0], default_run),
        "patience": resolved(args, "patience", envs[0]),
        "learn_max_steps": _learn_max_steps(args, envs[0], default_run),
        "max_steps": _given(args.max_steps, DEFAULTS.max_steps),
        # Per task type: ALFWorld episodes get 20 steps unless --max-steps says otherwise.
        "episode_max_steps": {e: resolved(args, "max_steps", e) for e in envs},
        "per_env": per_env_settings(args, envs),
        "models": model_settings(args, learner_temperature=resolved(args, "learner_temperature", envs[0])),
        "prompts": {"dir": args.prompts, "overrides": dict(parse_override(spec) for spec in args.prompt)},
    }
    if ladder:
        s["ladder"] = ladder
    folders = {e: folder_settings(e) for e in envs if is_folder_name(e)}
    if folders:
        s["domain_folders"] = folders
    s["concurrency"] = _concurrency(args, s["models"])
    s.update(executor_settings(args))
    s.update(protocol_settings(args))
    for name, value in setting_values(args, envs[0], "evaluate").items():
        s.setdefault(name, value)
    check_decoding(s, args)
    if s["models"]["learner"]["seed"] is not None:  # each run of a learning method learns with its own seed
        s["learning_seeds"] = [s["models"]["learner"]["seed"] + k for k in range(runs)]
    _validate_counts(s)
    for knobs in s["per_env"].values():
        _validate_counts(knobs)
    return s


def per_env_settings(args: argparse.Namespace, envs: list[str]) -> dict[str, dict[str, Any]]:
    """What differs per task type in one evaluation: the test step cap, the history window and the
    learning score (the paper's: call_ratio_success for ALFWorld, the sum of all three for PDDL)."""
    return {
        e: {
            "max_steps": resolved(args, "max_steps", e),
            "history_window": resolved(args, "history_window", e),
            "score": args.score or default_score(e),
        }
        for e in envs
    }


# ---------------------------------------------------------------- models, decoding, concurrency


def _concurrency(args: argparse.Namespace, models: dict[str, dict]) -> int:
    """Parallel episodes: 1 against the embedded server, which runs one request at a time and reuses
    the prompt prefix of the previous one; interleaved episodes would make it re-read each episode's
    history on every step (measured: benchmarks/bench_concurrency.py)."""
    if args.concurrency is not None:
        return args.concurrency
    return DEFAULTS.local_concurrency if models["agent"]["model"] == "local" else DEFAULTS.remote_concurrency


def executor_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Where the episodes run: ``executor`` and ``ray_address`` (checked here; the cluster is joined when the run starts)."""
    executor = getattr(args, "executor", None) or DEFAULTS.executor
    address = getattr(args, "ray_address", None)
    if address is not None and executor != "ray":
        raise UserError("--ray-address goes with --executor ray")
    if address is not None and not address.strip():
        raise UserError(
            "--ray-address is empty; give 'auto' or HOST:PORT of the cluster's head (`ray start --head` prints it)"
        )
    if executor == "ray" and importlib.util.find_spec("ray") is None:
        raise UserError("--executor ray needs the ray package: pip install -e '.[ray]'")
    return {"executor": executor, "ray_address": address.strip() if address else DEFAULTS.ray_address}


def check_decoding(s: dict[str, Any], args: argparse.Namespace) -> None:
    """The agent's decoding settings go together: --valid-actions-only works through the local model's grammar."""
    if s["valid_actions_only"]:
        local = s["models"]["agent"]["model"] == "local"
        if getattr(args, "grammar", None) is False or (local and not s["grammar"]):
            raise UserError("--valid-actions-only works through the grammar: it cannot go with --no-grammar")
        if not local:
            raise UserError(
                "--valid-actions-only constrains decoding with a grammar, which only the local model server takes"
                " (--agent-model local, optionally with --model-path)"
            )
    for name in ("recent_steps", "resample_refused", "create_tries", "max_retries"):
        if s[name] is not None and s[name] < 0:
            raise UserError(f"--{name.replace('_', '-')} must be 0 or more, got {s[name]}")


def model_settings(
    args: argparse.Namespace, learner_temperature: float = DEFAULTS.learner_temperature
) -> dict[str, dict]:
    """Both roles' model specs; ``learner_temperature`` applies unless --learner-temperature is given."""
    agent = agent_model(args)
    learner = args.learner_model_name or os.environ.get("LEARNACT_LEARNER_MODEL") or agent
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UserError(f"--max-tokens must be positive, got {args.max_tokens}")
    if args.rps is not None and not args.rps > 0:
        raise UserError(f"--rps must be positive, got {args.rps}")
    for flag, t in (
        ("--agent-temperature", args.agent_temperature),
        ("--learner-temperature", args.learner_temperature),
    ):
        if t is not None and not 0.0 <= t <= 2.0:
            raise UserError(f"{flag} must be between 0 and 2, got {t}")
    timeout, retries = getattr(args, "timeout", None), getattr(args, "max_retries", None)
    if timeout is not None and not timeout > 0:
        raise UserError(f"--timeout must be positive, got {timeout}")
    if retries is not None and retries < 0:
        raise UserError(f"--max-retries must be 0 or more, got {retries}")
    common = {
        "base_url": args.base_url,
        "model_path": args.model_path,
        "requests_per_second": args.rps,
        "seed": _given(args.seed, DEFAULTS.seed),
        "timeout_s": _given(timeout, DEFAULTS.timeout),
        "max_retries": _given(retries, DEFAULTS.max_retries),
    }
    agent_spec = ModelSpec(
        model=agent,
        temperature=_given(args.agent_temperature, DEFAULTS.agent_temperature),
        max_tokens=args.max_tokens or DEFAULTS.agent_max_tokens,
        **common,
    )
    learner_spec = ModelSpec(
        model=learner,
        temperature=_given(args.learner_temperature, learner_temperature),
        max_tokens=args.max_tokens or DEFAULTS.learner_max_tokens,
        **common,
    )
    return {"agent": asdict(agent_spec), "learner": asdict(learner_spec)}
