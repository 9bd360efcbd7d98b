"""The evaluation harness: learn where a method learns, then run every test episode.

Learning artefacts (a LearnAct library, Reflexion lessons) are produced once per method and
task type; episodes fan out with ``Send`` and each writes one JSONL record. A re-run skips
episodes already recorded, so an interrupted evaluation neither redoes nor duplicates one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypedDict

import jsonlines
from langgraph.runtime import Runtime
from langgraph.types import Send
from typing_extensions import Required
from typing_extensions import TypedDict as InputDict  # pydantic reads input schemas (Studio) on Python 3.11

from environments.pddl.ladder import instance_size
from learnact.llm.models import with_seed_offset
from learnact.llm.usage import ScopedUsage

from .checkpoint import sqlite_checkpointer
from .context import Context, holds_slot
from .episodes import EpisodeRegistry
from .events import emit, stream_events
from .jsonl import append_line
from .records import BRIEF, EpisodeBrief, EpisodeRecord, episode_record
from .resume import finished
from .runner import episode_inputs, play_episode
from .summary import size_csv, size_markdown, summarize_by_size, summarize_records, to_csv, to_markdown

LEARNING = {"learnact": "learn", "reflexion": "reflexion", "react_reflexion": "reflexion"}
EPISODE_GRAPH = {
    "act": "act",
    "learnact": "act",
    "reflexion": "act",
    "react": "react",
    "react_reflexion": "react",
    "code_as_policy": "code_as_policy",
}
RECORDS = "episodes.jsonl"
GraphBuilders = dict[str, Callable[..., Any]]  # graph name -> builder(checkpointer=...)


def _merge(a: dict, b: dict) -> dict:
    return {**(a or {}), **(b or {})}


class EvalState(TypedDict, total=False):
    methods: list[str]
    train: dict[str, list[str]]  # env -> training instances
    test: dict[str, list[str]]  # env -> test instances
    runs: int
    max_steps: dict[str, int]  # env -> agent steps per test episode
    learned: Annotated[dict[str, dict[str, Any]], _merge]  # learned_key(method, env, run) -> artefact
    learning: Annotated[dict[str, dict[str, Any]], _merge]  # learned_key -> outcome: seed, stop reason, library or not
    results: Annotated[list[EpisodeBrief], lambda a, b: (a or []) + (b or [])]
    summary: list[dict[str, Any]]
    summary_by_size: list[dict[str, Any]]  # per (method, env, size): the difficulty ladder's view


class EvalInput(InputDict, total=False):
    """What a caller gives the evaluation graph."""

    methods: Required[list[str]]  # from settings.defaults.METHODS
    train: Required[dict[str, list[str]]]  # env -> training instances (for the methods that learn)
    test: Required[dict[str, list[str]]]  # env -> test instances
    runs: int  # default 1
    max_steps: dict[str, int]  # env -> agent steps per test episode (default: the context's, per task type)


class LearnTask(TypedDict, total=False):
    method: str
    env: str
    train: list[str]
    run: int  # each run of a learning method learns anew, with the seed offset by the run


class EpisodeTask(TypedDict):
    method: str
    env: str
    instance: str
    run: int
    max_steps: int
    artefact: dict[str, Any]


def episode_id(method: str, env: str, instance: str, run: int) -> str:
    return f"{method}|{env}|{instance}#run{run}"


def recorded_ids(run_dir: str | None) -> set[str]:
    path = Path(run_dir or ".") / RECORDS
    if not path.is_file():
        return set()
    with jsonlines.open(path) as reader:
        return {r["episode_id"] for r in reader.iter(skip_invalid=True, type=dict)}


def recorded_record(run_dir: str | None, eid: str) -> EpisodeRecord | None:
    """The record of episode ``eid`` in the run's episodes.jsonl, or None."""
    path = Path(run_dir or ".") / RECORDS
    if not path.is_file():
        return None
    with jsonlines.open(path) as reader:
        return next((r for r in reader.iter(skip_invalid=True, type=dict) if r.get("episode_id") == eid), None)


def learning_runs(methods, envs, runs: int = 1) -> list[tuple[str, str, int]]:
    """(method, env, run) of every learning sub-run an evaluation of ``methods`` on ``envs`` needs: a
    learning method learns anew for each of the ``runs``, so the spread over runs covers learning."""
    return [(m, env, k) for k in range(runs) for m in methods if m in LEARNING for env in envs]


def plan_learning(state: EvalState) -> list[Send] | str:
    learned = state.get("learned", {})
    sends = [
        Send("learn_method", LearnTask(method=m, env=env, train=state["train"][env], run=k))
        for m, env, k in learning_runs(state["methods"], state["test"], state.get("runs", 1))
        if learned_key(m, env, k) not in learned
    ]
    return sends or "plan_episodes_node"


@contextlib.contextmanager
def _closing_all(episodes: EpisodeRegistry):
    try:
        yield episodes
    finally:
        episodes.close_all()


def learned_key(method: str, env: str, run: int = 0) -> str:
    """Key of one learning sub-run: ``learnact|pddl/gripper`` for run 0 (as before runs learned anew),
    ``learnact|pddl/gripper#run1`` for the next."""
    return f"{method}|{env}" + (f"#run{run}" if run else "")


def learning_folder(run_dir: str | None, method: str, env: str, run: int = 0) -> Path:
    name = f"{method}-{env.replace('/', '-')}" + (f"-run{run}" if run else "")
    return Path(run_dir or ".") / "learning" / name


def graph_builders(ctx: Context, graphs: GraphBuilders | None) -> GraphBuilders:
    """The builders of the graphs the evaluation runs: the context's (an override), else the ones the
    evaluation graph was built with (graphs.registry)."""
    builders = ctx.graphs or graphs
    if not builders:
        raise ValueError(
            "the evaluation runs the other graphs: build it with graphs.registry.build_graph('evaluate'), or give Context.graphs"
        )
    return builders


def learning_context(ctx: Context, task: LearnTask, folder: Path, usage, graphs: GraphBuilders) -> Context:
    """The sub-run's context: the task type's own score, step caps and history window, the run's own
    seed, its own folder, usage scope and live episodes (learning runs go in parallel and their rollouts'
    episode ids repeat across runs: a shared registry would hand one run's environment to the other)."""
    env_ctx = ctx.for_env(task["env"])
    offset = task.get("run", 0)
    return dataclasses.replace(
        env_ctx,
        run_dir=str(folder),
        usage=usage,
        episodes=ctx.episodes.sibling(),
        graphs=graphs,
        rollout_graph=graphs["react" if task["method"] == "react_reflexion" else "act"](checkpointer=False),
        agent_model=with_seed_offset(ctx.agent, offset),
        learner_model=with_seed_offset(ctx.learner, offset),
    )


def learn_method(task: LearnTask, runtime: Runtime[Context], graphs: GraphBuilders | None = None) -> dict:
    """Run the method's learning graph in its own sub-folder with its own checkpoints (one per run)."""
    ctx = runtime.context
    builders = graph_builders(ctx, graphs)
    run = task.get("run", 0)
    key = learned_key(task["method"], task["env"], run)
    folder = learning_folder(ctx.run_dir, task["method"], task["env"], run)
    folder.mkdir(parents=True, exist_ok=True)
    usage = ScopedUsage(ctx.usage, f"learning/{key}") if ctx.usage is not None else None
    sub_ctx = learning_context(ctx, task, folder, usage, builders)
    emit("learning_start", method=task["method"], env=task["env"], run=run)
    started = time.time()
    final, reused = _run_learning(task, key, folder, sub_ctx)
    artefact = _artefact(task["method"], final)
    outcome = {
        "method": task["method"],
        "env": task["env"],
        "run": run,
        "seed": getattr(sub_ctx.learner, "seed", None),
        "stop_reason": final.get("stop_reason") or None,
        "library": artefact.get("library") is not None if LEARNING[task["method"]] == "learn" else None,
    }
    (folder / "learning_run.json").write_text(json.dumps(outcome, indent=1))
    cost = _record_cost(folder / "learning_cost.json", reused, started, usage)
    emit("learning_end", method=task["method"], env=task["env"], run=run, **cost)
    return {"learned": {key: artefact}, "learning": {key: outcome}}


def _run_learning(task: LearnTask, key: str, folder: Path, sub_ctx: Context) -> tuple[dict, bool]:
    """The sub-run's final state, and whether it had finished in an earlier process (then nothing is run)."""
    graph_name = LEARNING[task["method"]]
    config = {"configurable": {"thread_id": key}, "recursion_limit": 100_000}
    with sqlite_checkpointer(folder / "checkpoints.sqlite") as saver, _closing_all(sub_ctx.episodes):
        graph = sub_ctx.graphs[graph_name](checkpointer=saver)
        snapshot = graph.get_state(config)
        if finished(snapshot):  # not `not snapshot.next`: see nodes/resume.py
            return snapshot.values, True
        # Reflexion's rounds come from the context's max_rounds (nodes.reflexion).
        inputs = None if snapshot.values else {"env_name": task["env"], "train_instances": task["train"]}
        for chunk in stream_events(graph, inputs, config, context=sub_ctx):
            _log_event(folder, chunk)  # the sub-run's events go to its own log ...
            # ... and up to the evaluation's stream, so its live view shows the learning too.
            emit(
                str(chunk.get("event", "?")),
                **{k: v for k, v in chunk.items() if k not in ("event", "scope")},
                scope=key,
            )
        return graph.get_state(config).values, False


def _artefact(method: str, final: dict) -> dict[str, Any]:
    if LEARNING[method] == "learn":
        best = final.get("best")
        return {
            "library": best.get("library") if best else None,
            "demonstration": best.get("demonstration") if best else None,
        }
    return {"lessons": final.get("lessons", [])}


def _record_cost(cost_file: Path, reused: bool, started: float, usage) -> dict[str, Any]:
    if reused:  # learned by an earlier process: its recorded cost stands, nothing was spent here
        return _read_cost(cost_file)
    spent = {"wall_s": round(time.time() - started, 1), **(usage.totals() if usage is not None else {})}
    cost = _add_cost(_read_cost(cost_file), spent)  # a resumed run adds what it redid to the earlier part
    tmp = cost_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(cost, indent=1))
    tmp.replace(cost_file)
    return cost


def _read_cost(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _add_cost(earlier: dict[str, Any], spent: dict[str, Any]) -> dict[str, Any]:
    """Learning cost over every process that worked on the sub-run (``processes`` counts them)."""
    total = dict(earlier)
    for key, value in spent.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            total[key] = round(earlier.get(key, 0) + value, 6)
        else:
            total[key] = value
    total["processes"] = int(earlier.get("processes", 1 if earlier else 0)) + 1
    return total


def _log_event(folder: Path, chunk: dict) -> None:
    append_line(folder / "events.jsonl", chunk)


def plan_episodes(state: EvalState, runtime: Runtime[Context]) -> list[Send] | str:
    done = recorded_ids(runtime.context.run_dir) | {r["episode_id"] for r in state.get("results", [])}
    max_steps = state.get("max_steps") or {}
    sends = []
    for run in range(state.get("runs", 1)):
        for method in state["methods"]:
            for env, instances in state["test"].items():
                artefact = state.get("learned", {}).get(learned_key(method, env, run), {}) if method in LEARNING else {}
                for inst in instances:
                    if episode_id(method, env, inst, run) not in done:
                        sends.append(
                            Send(
                                "run_episode",
                                EpisodeTask(
                                    method=method,
                                    env=env,
                                    instance=inst,
                                    run=run,
                                    max_steps=max_steps.get(env, runtime.context.for_env(env).max_steps),
                                    artefact=artefact,
                                ),
                            )
                        )
    return sends or "summarize"


@holds_slot
def run_episode(task: EpisodeTask, runtime: Runtime[Context], graphs: GraphBuilders | None = None) -> dict:
    ctx = runtime.context
    eid = episode_id(task["method"], task["env"], task["instance"], task["run"])
    # A resumed step re-runs every task whose result was not checkpointed, including episodes that
    # finished and were recorded before the kill (their writes can wait behind running tasks): take
    # those from episodes.jsonl, never play them again.
    previous = recorded_record(ctx.run_dir, eid) if ctx.run_dir else None
    if previous is not None:
        brief: EpisodeBrief = {k: previous.get(k) for k in BRIEF}  # type: ignore[assignment]
        emit("episode_reused", **brief)
        return {"results": [brief]}
    art = task["artefact"] or {}
    env_ctx = ctx.for_env(task["env"])  # this task type's step cap and history window
    graph = graph_builders(ctx, graphs)[EPISODE_GRAPH[task["method"]]](checkpointer=False)
    inputs = episode_inputs(
        eid,
        task["env"],
        task["instance"],
        library=art.get("library"),
        examples=art.get("demonstration"),
        lessons=art.get("lessons", []),
        max_steps=task.get("max_steps") or env_ctx.max_steps,
    )
    final = play_episode(graph, inputs, env_ctx)
    usage = ctx.usage.totals(key=eid) if ctx.usage is not None else {}
    record = episode_record(final, method=task["method"], usage=usage, run=task["run"])
    if ctx.run_dir and eid not in recorded_ids(ctx.run_dir):
        append_line(Path(ctx.run_dir) / RECORDS, record)
    brief: EpisodeBrief = {k: record[k] for k in BRIEF}  # type: ignore[assignment]
    emit("episode_recorded", **brief)
    return {"results": [brief]}


def summarize(state: EvalState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    records: list[EpisodeRecord] = []
    path = Path(ctx.run_dir or ".") / RECORDS
    if path.is_file():
        with jsonlines.open(path) as reader:
            records = list(reader.iter(skip_invalid=True, type=dict))
    wanted = {(m, e) for m in state["methods"] for e in state["test"]}
    rows = [r for r in summarize_records(records, state.get("learning")) if (r["method"], r["env"]) in wanted]
    by_size = summarize_by_size(
        (r for r in records if (r.get("method"), r.get("env")) in wanted),
        partial(instance_size, data_dir=getattr(ctx.episodes, "data_dir", None)),
    )
    if ctx.run_dir:
        sized = size_markdown(by_size)
        (Path(ctx.run_dir) / "summary.md").write_text(
            to_markdown(rows) + (f"\n{sized}" if sized else ""), encoding="utf-8"
        )
        (Path(ctx.run_dir) / "summary.csv").write_text(to_csv(rows), encoding="utf-8")
        (Path(ctx.run_dir) / "summary_by_size.csv").write_text(size_csv(by_size), encoding="utf-8")
    emit("evaluation_done", rows=rows)
    return {"summary": rows, "summary_by_size": by_size}
