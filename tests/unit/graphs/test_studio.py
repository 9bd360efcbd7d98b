"""The graphs outside run.py: a Context of plain fields (models built from them once per process), the README's
`python -c` snippet, and `langgraph dev` running `act` and `learn` through its HTTP API, all against the
scripted OpenAI-compatible stub (benchmarks/stub_server.py) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest_helpers import CARRY, ROOT, TINY_PLAN, actions_taken, tiny_gripper
from fakes import node_of_prompt

from benchmarks.stub_server import StubOpenAI
from graphs.act import build_act_graph
from nodes.context import Context
from nodes.episodes import EpisodeRegistry

INSTANCE = "gen:seed=9,balls=2,rooms=3"  # Robby in roomc; ball1 roomb -> rooma, ball2 rooma -> roomb
PLAN = [
    "move('roomc', 'roomb')",
    "pick('ball1', 'roomb', 'left')",
    "move('roomb', 'rooma')",
    "drop('ball1', 'rooma', 'left')",
    "pick('ball2', 'rooma', 'left')",
    "move('rooma', 'roomb')",
    "drop('ball2', 'roomb', 'left')",
]
GOOD_CALL = "carry('ball1', 'rooma', 'roomb', 'left')"  # the tiny gripper problem in one learned call
DEMO = f"Goal: ball1 in roomb\nObservation: ...\nAction: {GOOD_CALL}\nObservation: done"


def _texts(body: dict) -> tuple[str, str]:
    """(system text, the other messages' text), as tests/fakes.ScriptedChatModel sees a prompt."""
    messages = body.get("messages", [])
    system = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") != "system")
    return system, user


def scripted(body: dict) -> str:
    """The stub's reply: the learner ("stub-learner") writes CARRY and a demonstration; the agent plays PLAN
    step by step on INSTANCE, or calls carry once when it is offered (the tiny problem of learn)."""
    system, user = _texts(body)
    if body.get("model") == "stub-learner":
        node = node_of_prompt(system)  # a request over HTTP carries no node tag: told from the prompt's template
        if node == "learn.demonstrate":
            return DEMO
        if node == "learn.revise":
            return f"Failed reason: none.\nImprove: Plan: carry\nContent: Use it.\nTest case: {GOOD_CALL}"
        return f"Here you go:\n```python\n{CARRY}\n```"
    if "carry(" in system:
        return GOOD_CALL
    plan = PLAN if "roomc" in user else TINY_PLAN
    return plan[min(actions_taken(user), len(plan) - 1)]


@pytest.fixture
def stub():
    with StubOpenAI(respond=scripted) as server:
        yield server


# -- the Context: plain fields ----------------------------------------------------------------------------


def test_the_context_schema_holds_the_plain_fields_and_not_the_live_ones():
    schema = build_act_graph().get_context_jsonschema()  # what Studio's context panel shows
    props = schema["properties"]
    assert {
        "model",
        "base_url",
        "learner_model_name",
        "agent_temperature",
        "max_tokens",
        "seed",
        "data_dir",
        "feedback",
        "max_steps",
        "candidates",
        "assist",
        "grammar",
        "timeout",
        "max_retries",
        "cache",
    } <= set(props)
    assert not {
        "agent_model",
        "learner_model",
        "episodes",
        "usage",
        "rollout_graph",
        "graphs",
        "slots",
        "prompts",
    } & set(props)
    assert props["model"]["default"] is None and "OpenAI" in props["model"]["description"]  # None: the model rule
    assert (
        props["assist"]["default"] is None and props["grammar"]["default"] is None
    )  # from the model, then the assist level
    json.dumps(schema)


def test_a_plain_context_makes_its_live_fields_and_keeps_given_ones(monkeypatch):
    monkeypatch.delenv("LEARNACT_MODEL", raising=False)
    ctx = Context(data_dir="/nowhere", feedback="generic", learned_call_invalid="continue")
    assert ctx.episodes.data_dir == "/nowhere" and ctx.episodes.env_options == {"feedback": "generic"}
    assert ctx.episodes.learned_call_invalid == "continue"
    assert (
        ctx.usage is not None and ctx.rollout_graph is None and not ctx.graphs
    )  # each graph brings the graphs it runs
    assert ctx.model_spec("agent").max_tokens == 64 and ctx.model_spec("learner").temperature == 0.7
    registry = EpisodeRegistry()
    given = Context(agent_model="A", episodes=registry)  # run.py's way: live fields are used as they are
    assert given.agent == "A" and given.learner == "A" and given.episodes is registry and given.usage is None
    monkeypatch.setenv("LEARNACT_MODEL", "from-env")
    assert Context().model == "from-env" and Context(model="given").model == "given"


def test_models_are_built_once_per_process_from_the_plain_fields(stub):
    ctx = Context(model="stub-agent", learner_model_name="stub-learner", base_url=stub.url, seed=3)
    agent, learner = ctx.agent, ctx.learner
    assert agent is Context(model="stub-agent", base_url=stub.url, seed=3).agent  # one per spec and process
    assert agent.model_name == "stub-agent" and learner.model_name == "stub-learner" and learner.temperature == 0.7
    from learnact.llm.errors import ModelConfigError

    with pytest.raises(ModelConfigError, match="give the name it serves"):
        Context(model="local", base_url=stub.url).agent  # noqa: B018 - never starts the embedded model


def test_the_act_graph_runs_with_a_plain_context_in_process(stub):
    ctx = Context(model="stub-agent", base_url=stub.url, max_steps=12)
    final = build_act_graph().invoke({"env_name": "pddl/gripper", "instance": INSTANCE}, context=ctx)
    assert final["success"] and [s["action"] for s in final["steps"]] == PLAN
    assert final["episode_id"].startswith("episode-")
    assert ctx.usage.totals()["calls"] == len(PLAN)


# -- the README ------------------------------------------------------------------------------------------


def readme_section() -> str:
    """docs/graphs.md (the README's "LangGraph Studio" points to it): a graph's input, context, Python and HTTP."""
    return (ROOT / "docs" / "graphs.md").read_text(encoding="utf-8")


def test_readme_python_snippet_runs_act_with_a_plain_context(stub):
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme_section(), re.DOTALL) if "python -c" in b)
    url = re.search(r'base_url="([^"]+)"', block).group(1)
    command = block.replace(url, stub.url).replace("python -c", f"{sys.executable} -c", 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEARNACT_", "OPENAI_"))}
    out = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == f"True 7 {PLAN[-1]}"


# -- langgraph dev ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(method: str, url: str, body: dict | None = None, timeout: float = 60) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.loads(reply.read().decode() or "null")


def _langgraph_cli() -> str | None:
    found = Path(sys.executable).with_name("langgraph")
    if not found.exists():
        return None
    try:
        import langgraph_api  # noqa: F401 - `langgraph dev` needs the in-memory server (langgraph-cli[inmem])
    except ImportError:
        return None
    return str(found)


@pytest.fixture
def langgraph_dev(stub, tmp_path):
    cli = _langgraph_cli()
    if cli is None:
        pytest.skip("langgraph-cli[inmem] is not installed (pip install -e '.[dev]')")
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LEARNACT_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_"))
    }
    # The stub's URL from the server's environment (the request's context could give it as well).
    env.update(
        LEARNACT_BASE_URL=stub.url,
        LEARNACT_MODEL="stub-agent",
        LANGSMITH_TRACING="false",
        LANGGRAPH_NO_VERSION_CHECK="1",
    )
    # The project's langgraph.json with its paths made absolute, so that the server's in-memory state
    # (.langgraph_api/) goes to tmp_path, not into the project.
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["dependencies"] = [str(ROOT / d) for d in config["dependencies"]]
    config["graphs"] = {name: str(ROOT / spec) for name, spec in config["graphs"].items()}
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    log = (tmp_path / "langgraph-dev.log").open("wb")
    proc = subprocess.Popen(
        [
            cli,
            "dev",
            "--config",
            str(tmp_path / "langgraph.json"),
            "--no-browser",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-reload",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _http("GET", base + "/ok", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"langgraph dev did not come up:\n{(tmp_path / 'langgraph-dev.log').read_text()[-3000:]}"
                    )
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _run(base: str, assistant: str, inputs: dict, context: dict) -> dict:
    thread = _http("POST", base + "/threads", {})
    return _http(
        "POST",
        f"{base}/threads/{thread['thread_id']}/runs/wait",
        {"assistant_id": assistant, "input": inputs, "context": context},
        timeout=120,
    )


def test_langgraph_dev_runs_act_and_learn_through_the_http_api(langgraph_dev, stub, tmp_path):
    graphs = {a["graph_id"] for a in _http("POST", langgraph_dev + "/assistants/search", {"limit": 20})}
    assert {"act", "learn", "react", "code_as_policy", "reflexion", "evaluate"} <= graphs

    final = _run(langgraph_dev, "act", {"env_name": "pddl/gripper", "instance": INSTANCE}, {"max_steps": 12})
    assert final.get("success") is True, final
    assert [s["action"] for s in final["steps"]] == PLAN
    assert {r.body["model"] for r in stub.chat_requests} == {"stub-agent"}  # LEARNACT_MODEL from the server's env
    thread = _http("POST", langgraph_dev + "/threads", {})  # no context at all: every field's default
    final = _http(
        "POST",
        f"{langgraph_dev}/threads/{thread['thread_id']}/runs/wait",
        {"assistant_id": "act", "input": {"env_name": "pddl/gripper", "instance": INSTANCE}},
        timeout=120,
    )
    assert final.get("success") is True and len(final["steps"]) == len(PLAN), final
    state = _http("GET", f"{langgraph_dev}/threads/{thread['thread_id']}/state")  # the server's checkpoint of the run
    assert state["values"]["success"] is True and state["next"] == []

    run_dir = tmp_path / "learn-run"
    context = {
        "learner_model_name": "stub-learner",
        "candidates": 1,
        "learn_max_steps": 4,
        "max_rounds": 1,
        "run_dir": str(run_dir),
    }
    final = _run(
        langgraph_dev, "learn", {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}, context
    )
    assert final.get("stop_reason") == "nothing_failed", final
    assert final["best"]["library"] and final["best_scores"]["success_rate"] == 1.0
    assert "def carry" in (run_dir / "candidates" / "r0s0.py").read_text()
    assert "stub-learner" in {r.body["model"] for r in stub.chat_requests}
