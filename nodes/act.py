"""Nodes of the test-time Act agent: start an episode, decide one call, execute it, finish.

The Act graph (graphs/act.py) loops decide -> execute until success or the step cap. A learned
call counts as one agent step however many primitives it runs.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from langgraph.runtime import Runtime

from learnact.actions import ActionLibrary
from learnact.llm.models import invoke_text
from prompts import load_domain_material

from . import assist
from .context import Context
from .events import emit as _emit
from .history import render_history
from .paper_prompt import (  # noqa: F401 (demonstration_fits: re-exported)
    CALL_NO_CHANGE,
    demonstration_fits,
    paper_examples,
    previous_observation,
    reference_messages,
    reference_observation,
)
from .state import EpisodeState, StepRecord

ACTION_FORMAT = (
    "Reply with exactly one action call on one line, such as {example}, and nothing else. Quote every argument."
)
_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*\(.*\)")


_THINK = re.compile(r"^(?:>\s*)?think\s*[:：]\s*", re.IGNORECASE)


def clean_action_line(text: str, allow_think: bool = False) -> str:
    """The call in a model reply: first non-empty line, without 'Action:' or code fences.

    With ``allow_think`` (ReAct), a line starting with ``Think:`` is kept as a thought.
    """
    for line in (text or "").splitlines():
        line = line.strip().strip("`").strip()
        if not line or line.startswith("python"):
            continue
        if allow_think and _THINK.match(line):
            return "Think: " + _THINK.sub("", line).strip()
        line = re.sub(r"^(>\s*)?(action|act)\s*[:：]\s*", "", line, flags=re.IGNORECASE)
        match = _CALL.search(line)
        return match.group(0).strip() if match else line
    return ""


def render_actions(env, library: ActionLibrary) -> str:
    lines = [f"- {p.signature}: {p.description}" if p.description else f"- {p.signature}" for p in env.primitives]
    learned = library.render_actions().strip()
    if learned:
        lines.append(
            "\nLearned actions (each call runs several primitive actions as one step; call one whenever it does what you need):"
        )
        lines.append(learned)
    return "\n".join(lines)


def example_call(env) -> str:
    prim = env.primitives[0]
    return f"{prim.name}({', '.join(repr(p) for p in prim.params)})"


def start_episode(state: EpisodeState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    # An input without an episode id (Studio, a user's invoke) gets a fresh one; the later nodes read it from the state.
    episode_id = state.get("episode_id") or f"episode-{uuid.uuid4().hex[:8]}"
    state = {**state, "episode_id": episode_id}
    _, obs, info = ctx.episodes.start(state, ctx.sandbox)
    _emit("episode_start", episode_id=episode_id, instance=state["instance"], goal=info.get("goal", ""))
    return {
        "episode_id": episode_id,
        "goal": info.get("goal", ""),
        "first_observation": obs,
        "success": bool(info.get("success", False)),
        "progress": float(info.get("progress", 0.0)),
        "done": False,
        "started_at": time.time(),
    }


def act_messages(state: EpisodeState, ctx: Context, node: str = "act") -> list[tuple[str, str]]:
    """The agent's prompt: the paper's (the reference's parts under its prompt set), or the compact aid's."""
    if assist.compact_prompt(ctx):  # the aid (nodes/assist/agent_prompt.py)
        rt = ctx.episodes.get(state, ctx.sandbox)
        material = load_domain_material(state["env_name"], ctx.prompts_dir, ctx.feedback)
        return assist.agent_messages(state, ctx, node, rt, material, agent_values(state, rt, material))
    if ctx.prompt_set == "paper":  # the reference's parts (nodes/paper_prompt.py)
        return reference_messages(state, ctx, node)
    return paper_act_messages(state, ctx, node)


def _lessons_text(state: EpisodeState) -> str:
    lessons = state.get("lessons") or []
    return ("\nLessons from earlier attempts:\n" + "\n".join(f"- {l}" for l in lessons) + "\n") if lessons else ""


def agent_values(state: EpisodeState, rt, material) -> dict[str, str]:
    """The parts every shape of the agent's prompt shows: instruction, actions, usage notes, lessons, reply format."""
    notes = rt.library.render_notes().strip()
    return dict(
        instruction=material.instruction,
        actions=render_actions(rt.env, rt.library),
        notes=f"\nUsage notes:\n{notes}\n" if notes else "",
        lessons=_lessons_text(state),
        format=ACTION_FORMAT.format(example=example_call(rt.env)),
    )


def paper_act_messages(state: EpisodeState, ctx: Context, node: str = "act") -> list[tuple[str, str]]:
    rt = ctx.episodes.get(state, ctx.sandbox)
    material = load_domain_material(state["env_name"], ctx.prompts_dir, ctx.feedback)
    return ctx.prompts.render(
        node,
        **agent_values(state, rt, material),
        examples=paper_examples(state.get("examples"), material.example, rt.library, rt.env.primitive_names),
        goal=state.get("goal", ""),
        history=render_history(
            state.get("first_observation", ""), state.get("steps", []), ctx.history_window, ctx.history_trim
        ),
    )


def _decide(state: EpisodeState, runtime: Runtime[Context], template: str, allow_think: bool) -> dict:
    ctx = runtime.context
    messages = act_messages(state, ctx, template)

    def ask(grammar: str | None = None, key_suffix: str = "", temperature: float | None = None) -> str:
        """One request of the agent, as its reply's call line (the decoding aids pass a grammar, and a
        resample's key suffix and temperature)."""
        reply = invoke_text(
            ctx.agent,
            messages,
            stop=["\n"],
            grammar=grammar,
            usage=ctx.usage,
            node=f"{template}.decide",
            key=state["episode_id"] + key_suffix,
            temperature=temperature,
        )
        return clean_action_line(reply, allow_think=allow_think)

    line = assist.decode(state, ctx, ask, allow_think) if assist.decoding_on(ctx) else ask()
    # Only ReAct's decide may turn a line into a thought; in Act "Think: ..." is an (invalid) action.
    return {"pending_action": line, "pending_thought": allow_think and line.startswith("Think:")}


def decide(state: EpisodeState, runtime: Runtime[Context]) -> dict:
    """Act: one call per step."""
    return _decide(state, runtime, "act", allow_think=False)


def react_decide(state: EpisodeState, runtime: Runtime[Context]) -> dict:
    """ReAct: one call or one ``Think:`` line per step (a thought counts as a step)."""
    return _decide(state, runtime, "react", allow_think=True)


def finish_update(state: EpisodeState, ctx: Context, step: StepRecord, info: dict) -> dict:
    """The state update after one step: success, progress and whether the episode is over."""
    n_steps = len(state.get("steps", [])) + 1
    success = bool(state.get("success")) or bool(info.get("success"))
    progress = max(float(state.get("progress", 0.0)), float(info.get("progress", 0.0)))
    cap = state.get("max_steps") or ctx.max_steps
    stop_reason = "success" if success else ("max_steps" if n_steps >= cap else "")
    _emit(
        "step",
        episode_id=state["episode_id"],
        step=n_steps,
        action=step["action"],
        ok=step["ok"],
        success=success,
        progress=progress,
    )
    update = {
        "steps": [step],
        "success": success,
        "progress": progress,
        "done": bool(stop_reason),
        "stop_reason": stop_reason,
    }
    if info.get("cost") is not None:  # cumulative over the episode (environments/pddl/env.py)
        update["action_cost"] = float(info["cost"])
    return update


def execute(state: EpisodeState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rt = ctx.episodes.get(state, ctx.sandbox)
    line = state.get("pending_action", "")
    if state.get("pending_thought"):
        thought: StepRecord = {
            "index": len(state.get("steps", [])),
            "action": line,
            "observation": "Ok." if ctx.prompt_set == "paper" else "OK.",
            "ok": True,
            "is_learned": False,
            "name": None,
            "error_kind": None,
            "trace": [],
            "thought": True,
        }
        return finish_update(state, ctx, thought, rt.last_info)
    before = _world(rt.env)
    result = rt.executor.run(line)
    info = dict(getattr(result, "info", None) or {})
    rt.last_info.update(info)
    step: StepRecord = result.as_step(len(state.get("steps", [])), line)  # type: ignore[assignment]
    if step["is_learned"] and ctx.learned_observation == "reference":
        step["observation"] = reference_observation(result, previous_observation(state), state["env_name"])
        if (
            step["observation"] == CALL_NO_CHANGE and step["ok"]
        ):  # the reference judges it by "not valid" in its observation
            step.update(ok=False, error_kind="no_change")
    if before is not None and result.ok and _world(rt.env) == before:
        step["no_change"] = True  # valid, but the world is as it was (e.g. a ball delivered twice)
    return finish_update(state, ctx, step, rt.last_info)


def _world(env) -> Any:
    """A value that changes when the environment's state does (None where it cannot be read)."""
    if env.state is not None:
        return env.state
    return env.observe() or None


def finish_episode(state: EpisodeState, runtime: Runtime[Context]) -> dict:
    runtime.context.episodes.close(state["episode_id"])
    _emit(
        "episode_end",
        episode_id=state["episode_id"],
        instance=state["instance"],
        success=bool(state.get("success")),
        progress=float(state.get("progress", 0.0)),
        steps=len(state.get("steps", [])),
    )
    return {"ended_at": time.time()}


def route_after_step(state: EpisodeState) -> str:
    return "finish" if state.get("done") else "decide"
