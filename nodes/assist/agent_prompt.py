"""The agent's compact prompt (an aid: ``agent_prompt="compact"``): the system message, worked steps as chat turns
(nodes/assist/worked_steps.py), the episode's turns and the current state view (nodes/assist/turns.py).
nodes/act.py asks for it through :func:`agent_messages`; without the aid the agent gets the paper's prompt."""

from __future__ import annotations

from environments import make_env

from ..events import emit
from .turns import compact_messages, episode_turns, refused_since_change
from .worked_steps import few_shot_turns


def current_view(rt, state) -> str:
    """The state as the compact prompt shows it: the environment's per-object view, or the goal and
    the last observation of a step that changed something."""
    view = rt.env.state_view()
    if view:
        return view
    last = next(
        (s["observation"] for s in reversed(state.get("steps", [])) if s.get("ok") and not s.get("thought")), None
    )
    return f"Goal: {state.get('goal', '')}\n{last if last is not None else state.get('first_observation', '')}"


def worked_turns(state, ctx, rt, material) -> list[tuple[str, str]]:
    """The worked turns of the episode's library (found once per library, demonstration and domain: sandbox trials)."""
    if rt.few_shot is None:
        env_name = state["env_name"]
        key = (env_name, rt.library.code, material.example, state.get("examples"))
        cached = ctx.episodes.worked_steps.get(key)
        rt.few_shot = cached or few_shot_turns(
            env_name,
            rt.library,
            material.example,
            state.get("examples"),
            make=lambda inst: make_env(env_name, inst, data_dir=ctx.episodes.data_dir, **ctx.episodes.env_options),
            limits=ctx.episodes.limits,
            sandbox=ctx.sandbox,
        )
        ctx.episodes.worked_steps[key] = rt.few_shot
        emit("worked_steps", episode_id=state["episode_id"], source=rt.few_shot[1], turns=len(rt.few_shot[0]))
    return rt.few_shot[0]


def agent_messages(state, ctx, node: str, rt, material, common: dict[str, str]) -> list[tuple[str, str]]:
    """The hook of the agent's prompt: template ``<node>_compact`` filled with ``common`` (the parts every agent
    prompt shows: instruction, actions, notes, lessons, format), as chat turns."""
    template = f"{node}_compact"
    steps = state.get("steps", [])
    episode, turn = episode_turns(steps, ctx.recent_steps, current_view(rt, state), refused_since_change(steps))
    system, current = ctx.prompts.render(template, turn=turn, **common)
    shots = [
        (ctx.prompts.render(template, turn=user, **common)[-1][1], call)
        for user, call in worked_turns(state, ctx, rt, material)
    ]
    return compact_messages(system[1], shots, current[1], episode)
