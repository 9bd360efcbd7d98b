"""The paper's path on a real ALFWorld game (scripted agent): the agent's request has the reference's parts with
the ALFWorld material, and a learned call shows the reference's observation (the valid sub-observations joined).
Skips with the reason when the alfworld extra or the data is absent."""

from __future__ import annotations

from fakes import ScriptedChatModel, calls_of
from test_alfworld_env import SCRIPTED_WINS, needs_data

from graphs.registry import build_graph
from learnact.actions import ActionLibrary
from learnact.llm.usage import UsageTracker
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from prompts import load_domain_material, load_paper_material

GAME, PLAN = SCRIPTED_WINS["put"]
FETCH = '''def fetch(obj, src):
    """Go to src and take obj from it."""
    goto(src)
    take(obj, src)
'''
STEPS = ["fetch('saltshaker 1', 'countertop 3')", *PLAN[2:]]  # the plan's first two calls as one learned call


def agent(system: str, user: str) -> str:
    return STEPS[min(user.split("Your goal:")[-1].count("\nAction: "), len(STEPS) - 1)]


@needs_data
def test_a_paper_alfworld_episode_has_the_references_parts_and_observation(tmp_path):
    model = ScriptedChatModel(agent)
    ctx = Context(
        agent_model=model,
        learner_model=model,
        usage=UsageTracker(),
        episodes=EpisodeRegistry(learned_call_invalid="continue"),
        prompt_set="paper",
        agent_prompt="paper",
        grammar=False,
        resample_refused=0,
        history_trim="last",
        learned_observation="reference",
        history_window=25,
        max_steps=8,
    )
    inputs = {
        "episode_id": "e",
        "env_name": "alfworld/put",
        "instance": GAME,
        "library": ActionLibrary.from_code(FETCH),
        "max_steps": 8,
    }
    try:
        final = build_graph("act").invoke(inputs, context=ctx)
    finally:
        ctx.episodes.close_all()
    assert final["success"] and [s["action"] for s in final["steps"]] == STEPS
    learned = final["steps"][0]
    assert learned["is_learned"] and learned["observation"] == " ".join(t["observation"] for t in learned["trace"])
    material, paper = load_domain_material("alfworld/put", feedback="generic"), load_paper_material("alfworld/put")
    first = calls_of(model, "act.decide")[0]
    assert first["system"] == paper["system"]
    user = first["user"]
    parts = [
        material.instruction,
        "- fetch(obj, src): Go to src and take obj from it.",
        "Worked examples:",
        material.example,
        "Your goal: ",
        "Observation: ",
        "Action:",
    ]
    at = 0
    for part in parts:
        at = user.index(part, at) + len(part)
    assert "Reply with exactly one action" not in user and "Learned actions (each call" not in user
    second = calls_of(model, "act.decide")[1]["user"]
    assert f"Action: {STEPS[0]}\nObservation: {learned['observation']}\nAction:" in second
