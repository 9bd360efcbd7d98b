"""The evaluation harness on ALFWorld task types (real alfworld games, scripted models): the same graph
that compares methods on PDDL plays ALFWorld episodes, one record each, one summary row per type.
Skips with the reason when the alfworld extra or the data is absent (see tests/unit/environments/test_alfworld_env.py)."""

from __future__ import annotations

from pathlib import Path

from conftest_helpers import actions_taken
from fakes import ScriptedChatModel
from test_alfworld_env import SCRIPTED_WINS, needs_data
from test_e2e_cli import read_jsonl

from graphs.registry import build_graph
from learnact.llm.usage import UsageTracker
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.evaluate import episode_id

TYPES = {"put": "saltshaker", "examine": "desklamp"}  # task type -> a word only its goal has


def plan_for(user: str) -> list[str]:
    goal = user[user.index("Goal:") :] if "Goal:" in user else user
    task = next(t for t, word in TYPES.items() if word in goal.lower())
    return SCRIPTED_WINS[task][1]


def agent(system: str, user: str, node: str | None) -> str:
    if node == "code_as_policy.write":  # Code-as-Policies: the agent model writes the program
        return program(system, user)
    plan = plan_for(user)
    return plan[min(actions_taken(user), len(plan) - 1)]


def program(system: str, user: str) -> str:
    return "```python\ndef solve():\n" + "".join(f"    {a}\n" for a in plan_for(user)) + "```"


@needs_data
def test_act_and_code_as_policy_win_scripted_alfworld_games_of_two_types(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    ctx = Context(
        agent_model=ScriptedChatModel(agent),
        learner_model=ScriptedChatModel(lambda s, u: "unused"),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        run_dir=str(run_dir),
        history_window=50,
    )
    test = {f"alfworld/{t}": [SCRIPTED_WINS[t][0]] for t in TYPES}
    inputs = {
        "methods": ["act", "code_as_policy"],
        "train": {},
        "test": test,
        "runs": 1,
        "max_steps": {e: 8 for e in test},
    }
    try:
        final = build_graph("evaluate").invoke(inputs, {"max_concurrency": 4}, context=ctx)
    finally:
        ctx.episodes.close_all()

    records = {r["episode_id"]: r for r in read_jsonl(run_dir / "episodes.jsonl")}
    assert len(records) == 4
    for task in TYPES:
        env, (game, plan) = f"alfworld/{task}", SCRIPTED_WINS[task]
        act = records[episode_id("act", env, game, 0)]
        assert act["success"] and act["stop_reason"] == "success" and act["steps"] == len(plan)
        assert [s["action"] for s in act["trajectory"]] == plan
        cap = records[episode_id("code_as_policy", env, game, 0)]
        assert cap["success"] and cap["steps"] == len(plan), cap["trajectory"]  # one step per primitive the program ran
    rows = {(r["method"], r["env"]): r for r in final["summary"]}
    assert set(rows) == {(m, f"alfworld/{t}") for m in ("act", "code_as_policy") for t in TYPES}
    assert all(r["success_mean"] == 1.0 and r["episodes"] == 1 for r in rows.values())
    assert "| act | alfworld/examine | 1 | 1.000 ± 0.000 | - | 3.0 |" in (run_dir / "summary.md").read_text()
