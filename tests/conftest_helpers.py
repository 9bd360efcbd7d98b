"""Shared helpers for graph tests (imported explicitly; pytest fixtures live in conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the project (this file stays in tests/; the tests sit in sub-folders)
TINY_GRIPPER = """(define (problem tiny-gripper)
   (:domain gripper-strips)
   (:objects rooma roomb ball1 left right)
   (:init (room rooma) (room roomb) (ball ball1) (gripper left) (gripper right)
          (at-robby rooma) (free left) (free right) (at ball1 rooma))
   (:goal (and (at ball1 roomb))))
"""
TINY_PLAN = ["pick('ball1', 'rooma', 'left')", "move('rooma', 'roomb')", "drop('ball1', 'roomb', 'left')"]
CARRY = '''def carry(obj, src, dst, gripper):
    """Carry a ball from one room to another with one gripper."""
    pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)
'''


def tiny_gripper(tmp_path: Path, name: str = "tiny.pddl") -> str:
    path = tmp_path / name
    path.write_text(TINY_GRIPPER)
    return str(path)


def actions_taken(user_text: str) -> int:
    """How many actions the agent has taken: the compact prompt's last "Step N." line, else the
    Action/Think lines of the paper prompt's history."""
    numbered = re.findall(r"^Step (\d+)\.$", user_text, re.MULTILINE)
    if numbered:
        return int(numbered[-1]) - 1
    return len(re.findall(r"^Action: \S", user_text, re.MULTILINE)) + len(
        re.findall(r"^Think: ", user_text, re.MULTILINE)
    )


def plan_agent(plan: list[str]):
    """An agent that replays ``plan``, one action per step, then repeats the last one."""

    def respond(system: str, user: str) -> str:
        n = actions_taken(user)
        return plan[min(n, len(plan) - 1)]

    return respond


def run_episode_graph(graph, ctx, instance: str, episode_id: str = "e1", **extra):
    """Invoke an episode graph (Act, ReAct, Code-as-Policies) on a gripper instance; close its env."""
    state = {"episode_id": episode_id, "env_name": "pddl/gripper", "instance": instance, **extra}
    try:
        return graph.invoke(state, context=ctx)
    finally:
        ctx.episodes.close_all()


def complete_jsonl(path: Path) -> list[dict]:
    """The records of a JSONL file another process is writing: a line still being written (or cut by a
    kill) is left out, as the program's own readers do."""
    import json

    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def kill_when(proc, ready, timeout_s: float = 240.0, poll_s: float = 0.02) -> None:
    """``kill -9`` the process group of ``proc`` as soon as ``ready()`` is true (fail if it exits first)."""
    import os
    import signal
    import time

    deadline = time.time() + timeout_s
    while time.time() < deadline and not ready():
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "the process exited"
        time.sleep(poll_s)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def learn_on_tiny_gripper(tmp_path: Path, agent_fn, learner_fn, **knobs):
    """Run the learning graph with scripted models on the tiny gripper problem; (final state, context)."""
    from fakes import ScriptedChatModel

    from graphs.act import build_act_graph
    from graphs.learn import build_learn_graph
    from learnact.llm.usage import UsageTracker
    from nodes.context import Context
    from nodes.episodes import EpisodeRegistry

    ctx = Context(
        agent_model=ScriptedChatModel(agent_fn),
        learner_model=ScriptedChatModel(learner_fn),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        run_dir=str(tmp_path / "run"),
        rollout_graph=build_act_graph(checkpointer=False),
        **knobs,
    )
    inputs = {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}
    try:
        return build_learn_graph().invoke(inputs, context=ctx), ctx
    finally:
        ctx.episodes.close_all()
