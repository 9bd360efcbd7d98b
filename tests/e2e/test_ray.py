"""Executor ray (nodes/remote.py, nodes/ray_pool.py, nodes/ray_worker.py): the same records as the local
executor for the same seeds with a deterministic scripted model (PDDL, with learning's rollouts; a real
ALFWorld game), a killed worker costs a replay of its episode and no duplicate, clear one-line errors for an
unreachable Ray address and an embedded model server a worker cannot reach.

One Ray per module, on this machine's CPUs (2 in CI), shut down at the end. The model is the scripted
OpenAI-compatible stub server (benchmarks/stub_server.py) on 127.0.0.1: the workers call it themselves."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

from conftest_helpers import CARRY, actions_taken, tiny_gripper  # noqa: E402
from fakes import ScriptedChatModel  # noqa: E402
from test_e2e_cli import by_prompt, read_jsonl  # noqa: E402

from benchmarks.scripted_model import ScriptedModel  # noqa: E402
from benchmarks.stub_server import StubOpenAI  # noqa: E402
from graphs.registry import build_graph  # noqa: E402
from learnact.actions import ActionLibrary, Executor  # noqa: E402
from learnact.cli.main import main  # noqa: E402
from learnact.llm.config import ModelSpec  # noqa: E402
from learnact.llm.errors import ModelConfigError  # noqa: E402
from learnact.llm.models import make_chat_model  # noqa: E402
from learnact.llm.usage import UsageTracker  # noqa: E402
from nodes.context import Context  # noqa: E402
from nodes.ray_pool import RayWorkers, connect  # noqa: E402
from nodes.ray_worker import EpisodeJob, EpisodeWorker, ModelRecipe, check_embedded_reachable, plain_fields  # noqa: E402

GRIPPER = ["gen:seed=11,balls=2", "gen:seed=12,balls=3", "gen:seed=13,balls=2"]
TRAIN = ["gen:seed=1,balls=2", "gen:seed=2,balls=2"]
VARYING = ("elapsed_s",)  # what differs between two runs of the same episode: its wall time


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    started = connect(None, cpus=2)
    yield
    if started:
        ray.shutdown()


def specs(url: str) -> dict[str, ModelSpec]:
    return {
        "agent": ModelSpec(model="stub", base_url=url, temperature=0.0, max_tokens=64, seed=0, max_retries=0),
        "learner": ModelSpec(model="stub", base_url=url, temperature=0.7, max_tokens=768, seed=0, max_retries=0),
    }


def evaluate(
    executor: str, run_dir: Path, url: str, inputs: dict, concurrency: int = 2, on_workers=None, **knobs
) -> tuple[list[dict], list[dict]]:
    """One evaluation with ``executor``; (its records, its stream's events)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    model_specs = specs(url)
    recipes = {role: ModelRecipe(spec=dataclasses.asdict(s)) for role, s in model_specs.items()}
    workers = RayWorkers(concurrency, recipes) if executor == "ray" else None
    ctx = Context(
        agent_model=make_chat_model(model_specs["agent"]),
        learner_model=make_chat_model(model_specs["learner"]),
        usage=UsageTracker(),
        run_dir=str(run_dir),
        executor=executor,
        workers=workers,
        concurrency=concurrency,
        **knobs,
    )
    if on_workers is not None:
        on_workers(workers)
    try:
        events = list(
            build_graph("evaluate").stream(
                inputs, {"max_concurrency": 2 * concurrency + 2}, context=ctx, stream_mode="custom"
            )
        )
    finally:
        ctx.episodes.close_all()
        if workers is not None:
            workers.close()
    return read_jsonl(run_dir / "episodes.jsonl"), events


def comparable(records: list[dict]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if k not in VARYING}, sort_keys=True) for r in records)


def test_pddl_evaluation_with_learning_gives_the_same_records_on_ray_as_locally(tmp_path: Path) -> None:
    inputs = {
        "methods": ["act", "learnact", "reflexion"],
        "train": {"pddl/gripper": TRAIN},
        "test": {"pddl/gripper": GRIPPER},
        "runs": 1,
    }
    knobs = {"candidates": 2, "max_rounds": 1, "learn_max_steps": 8, "max_steps": 12}
    with StubOpenAI(respond=ScriptedModel(noise=0.2), record=False) as stub:
        local, _ = evaluate("local", tmp_path / "local", stub.url, inputs, **knobs)
        remote, _ = evaluate("ray", tmp_path / "ray", stub.url, inputs, **knobs)
    assert len(local) == 9 and comparable(remote) == comparable(local)
    assert {r["method"] for r in remote} == {"act", "learnact", "reflexion"} and any(r["success"] for r in remote)
    assert any(r["learned_calls"] for r in remote if r["method"] == "learnact")  # the learned library was used
    # LearnAct's training rollouts, journalled by the driver, and what was learned from them
    rollouts = [
        read_jsonl(tmp_path / run / "learning" / "learnact-pddl-gripper" / "rollouts.jsonl") for run in ("local", "ray")
    ]
    assert rollouts[0] and sorted(map(json.dumps, rollouts[1])) == sorted(map(json.dumps, rollouts[0]))
    libraries = [
        sorted(p.name for p in (tmp_path / run / "learning" / "learnact-pddl-gripper" / "library").rglob("*.py"))
        for run in ("local", "ray")
    ]
    assert libraries[0] and libraries[1] == libraries[0]
    assert (
        sum(r["tokens"] for r in remote) == sum(r["tokens"] for r in local) > 0
    )  # the workers' usage reached the driver


def test_a_killed_worker_costs_a_replay_of_its_episode_never_a_duplicate(tmp_path: Path) -> None:
    inputs = {"methods": ["act"], "train": {}, "test": {"pddl/gripper": GRIPPER + ["gen:seed=14,balls=3"]}, "runs": 1}
    killed: list[int] = []

    def kill_one_busy_worker(workers: RayWorkers) -> None:
        def kill() -> None:
            deadline = time.monotonic() + 120
            while stub.chat_count < 3 and time.monotonic() < deadline:  # both workers are inside an episode by now
                time.sleep(0.05)
            pids = workers.pids()
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

        threading.Thread(target=kill, daemon=True).start()

    with StubOpenAI(respond=ScriptedModel(noise=0.2, delay_s=0.2), record=False) as stub:
        remote, events = evaluate(
            "ray", tmp_path / "ray", stub.url, inputs, on_workers=kill_one_busy_worker, max_steps=12
        )
        local, _ = evaluate("local", tmp_path / "local", stub.url, inputs, max_steps=12)
    assert killed
    retried = [e for e in events if e.get("event") == "episode_retried"]
    assert len(retried) == 1 and retried[0]["attempt"] == 1
    ids = [r["episode_id"] for r in remote]
    assert len(ids) == len(set(ids)) == 4  # every episode once: none lost, none twice
    assert comparable(remote) == comparable(local)  # the replayed episode is the episode


def alfworld_agent(system: str, user: str) -> str:
    from test_alfworld_env import SCRIPTED_WINS

    plan = SCRIPTED_WINS["put"][1]
    return plan[min(actions_taken(user), len(plan) - 1)]


def test_a_real_alfworld_game_gives_the_same_record_on_ray_as_locally(tmp_path: Path) -> None:
    pytest.importorskip("textworld", reason="the alfworld extra is not installed")
    from test_alfworld_env import ALF_DIR, SCRIPTED_WINS

    if ALF_DIR is None:
        pytest.skip("ALFWorld data absent (see tests/unit/environments/test_alfworld_env.py)")
    games = [SCRIPTED_WINS["put"][0], SCRIPTED_WINS["clean"][0]]  # the put plan wins the first, not the second
    test = {"alfworld/put": games[:1], "alfworld/clean": games[1:]}
    inputs = {
        "methods": ["act"],
        "train": {},
        "test": test,
        "runs": 1,
        "max_steps": {"alfworld/put": 6, "alfworld/clean": 6},
    }
    with StubOpenAI(respond=by_prompt(alfworld_agent), record=False) as stub:
        local, _ = evaluate("local", tmp_path / "local", stub.url, inputs, history_window=50)
        remote, _ = evaluate("ray", tmp_path / "ray", stub.url, inputs, history_window=50)
    assert comparable(remote) == comparable(local) and len(remote) == 2
    assert [r["success"] for r in sorted(remote, key=lambda r: r["instance"] != games[0])] == [True, False]


def test_act_command_on_ray_records_what_the_local_executor_records(tmp_path: Path, capsys) -> None:
    with StubOpenAI(respond=ScriptedModel(noise=0.2), record=False) as stub:
        common = [
            "--graph",
            "act",
            "--env",
            "pddl/gripper",
            "--instance",
            ",".join(GRIPPER),
            "--model",
            "stub",
            "--base-url",
            stub.url,
            "--concurrency",
            "2",
        ]
        assert main([*common, "--run-dir", str(tmp_path / "local")]) == 0
        assert main([*common, "--run-dir", str(tmp_path / "ray"), "--executor", "ray"]) == 0
    local, remote = read_jsonl(tmp_path / "local" / "episodes.jsonl"), read_jsonl(tmp_path / "ray" / "episodes.jsonl")
    assert len(remote) == 3 and comparable(remote) == comparable(local)
    config = json.loads((tmp_path / "ray" / "config.json").read_text())
    assert config["executor"] == "ray" and config["ray_address"] is None
    events = read_jsonl(tmp_path / "ray" / "events.jsonl")
    assert sum(e.get("event") == "episode_end" for e in events) == 3  # the workers' events reach the run's log


def test_an_unreachable_ray_address_is_one_clear_line(tmp_path: Path, capsys) -> None:
    args = [
        "--graph",
        "act",
        "--env",
        "pddl/gripper",
        "--instance",
        GRIPPER[0],
        "--model",
        "stub",
        "--base-url",
        "http://127.0.0.1:9/v1",
    ]
    assert main([*args, "--run-dir", str(tmp_path / "a"), "--executor", "ray", "--ray-address", "127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "error: --ray-address 127.0.0.1:9: no Ray cluster answers there" in err and "ray start --head" in err
    assert "Traceback" not in err
    assert main([*args, "--run-dir", str(tmp_path / "b"), "--ray-address", "auto"]) == 2
    assert "--ray-address goes with --executor ray" in capsys.readouterr().err


def test_a_worker_that_cannot_reach_the_embedded_server_is_told_to_use_base_url() -> None:
    with pytest.raises(ModelConfigError, match="--base-url"):
        check_embedded_reachable("http://127.0.0.1:8080/v1", driver_ip="10.0.0.1", worker_ip="10.0.0.2")
    local = ModelSpec(model="local", max_tokens=64, seed=0)
    recipes = {
        role: ModelRecipe(spec=dataclasses.asdict(local), local_url="http://127.0.0.1:9/v1")
        for role in ("agent", "learner")
    }
    workers = RayWorkers(1, recipes)
    ctx = Context(agent_model=object(), usage=UsageTracker(), executor="ray", workers=workers)
    graph = build_graph("act", checkpointer=False)
    try:
        with pytest.raises(
            ModelConfigError, match="cannot reach the embedded model server at http://127.0.0.1:9/v1.*--base-url"
        ):
            workers.run(graph, {"episode_id": "e", "env_name": "pddl/gripper", "instance": GRIPPER[0]}, ctx)
    finally:
        workers.close()


def test_a_worker_runs_learned_code_through_the_drivers_sandbox(tmp_path: Path) -> None:
    """Context.sandbox is a live field (not among the plain ones a worker rebuilds its Context from): the job
    carries it, so a worker runs the agent's lines through the driver's sandbox, not a default one."""
    lines: list[str] = []

    def sandbox(env, library, **options) -> Executor:
        class Spy(Executor):
            def run(self, line):
                lines.append(line)
                return super().run(line)

        return Spy(env, library, **options)

    call = "carry('ball1', 'rooma', 'roomb', 'left')"
    model = ScriptedChatModel(lambda system, user: call)
    ctx = Context(agent_model=model, learner_model=model, usage=UsageTracker(), sandbox=sandbox, max_steps=3)
    graph = build_graph("act")
    inputs = {
        "episode_id": "tiny#run0",
        "env_name": "pddl/gripper",
        "instance": tiny_gripper(tmp_path),
        "library": ActionLibrary.from_code(CARRY),
    }
    recipes = {"agent": ModelRecipe(model=model), "learner": ModelRecipe(model=model)}
    job = EpisodeJob(graph.builder, graph.name, inputs, plain_fields(ctx), ctx.prompts, recipes, sandbox=ctx.sandbox)
    final = EpisodeWorker().play(job)[1]  # the worker's code in this process: what a Ray actor runs
    assert call in lines and final["success"]


def test_a_local_run_killed_midway_resumes_on_ray_without_redoing_an_episode(tmp_path: Path, capsys) -> None:
    """``--resume DIR --executor ray``: where the rest runs may change. A local act run is SIGKILLed after its
    first episode; the resume plays the others on Ray workers; every episode is recorded once, and the ones
    finished before the kill are kept, not replayed."""
    import subprocess

    from conftest_helpers import ROOT, complete_jsonl, kill_when
    from test_e2e_cli import cli, cli_env

    instances = GRIPPER + ["gen:seed=14,balls=3"]
    run_dir = tmp_path / "run"
    with StubOpenAI(respond=ScriptedModel(noise=0.2, delay_s=0.1), record=False) as stub:
        args = [
            "--graph",
            "act",
            "--env",
            "pddl/gripper",
            "--instance",
            ",".join(instances),
            "--model",
            "stub",
            "--base-url",
            stub.url,
            "--concurrency",
            "1",
            "--max-steps",
            "12",
            "--run-dir",
            str(run_dir),
        ]
        proc = subprocess.Popen(
            cli(*args),
            env=cli_env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        events = run_dir / "events.jsonl"
        recorded = run_dir / "episodes.jsonl"
        kill_when(
            proc, lambda: recorded.exists() and complete_jsonl(recorded)
        )  # an episode is recorded, not only ended
        logged = len(complete_jsonl(events))
        before = {r["episode_id"] for r in complete_jsonl(recorded)}
        assert 1 <= len(before) < len(instances), "the kill came after the run had finished"
        capsys.readouterr()
        assert main(["--graph", "act", "--resume", str(run_dir), "--executor", "ray", "--concurrency", "2"]) == 0
    assert "starting Ray workers" in capsys.readouterr().err
    records = read_jsonl(run_dir / "episodes.jsonl")
    ids = [r["episode_id"] for r in records]
    assert len(ids) == len(set(ids)) == len(instances)  # none lost, none twice
    resumed = complete_jsonl(events)[logged:]
    started = {e["episode_id"] for e in resumed if e.get("event") == "episode_start"}
    assert started and not started & before  # the finished episodes were kept, not replayed
