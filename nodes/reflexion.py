"""Cross-task Reflexion (the paper's form): roll out on the training instances, ask the learner
for a short lesson from each failed episode, repeat (until all succeed or the rounds run out); the
lessons are then injected into the test-time prompt.

Training rollouts use the learning step cap (``learn_max_steps``, 10 as in the reference), like
LearnAct's. The rounds come from ``max_rounds`` (``--max-rounds``): Reflexion gets as many rounds
of training rollouts as LearnAct, i.e. creation + ``max_rounds`` revisions = ``max_rounds + 1``
(the paper's 2 revision rounds give its 3 Reflexion rounds).
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.runtime import Runtime
from langgraph.types import Send
from typing_extensions import Required
from typing_extensions import TypedDict as InputDict  # pydantic reads input schemas (Studio) on Python 3.11

from learnact.llm.models import invoke_text
from prompts import load_domain_material, load_paper_material

from .context import Context, holds_slot, rollout_graph
from .events import emit
from .history import render_trajectory
from .runner import episode_inputs, play_episode


class ReflexionState(TypedDict, total=False):
    env_name: str
    train_instances: list[str]
    max_rounds: int  # rounds of rollouts + reflection; default ctx.max_rounds + 1 (see reflexion_rounds)
    round: int
    lessons: list[str]
    rollouts: Annotated[list[dict[str, Any]], operator.add]
    stop_reason: str


class ReflexionInput(InputDict, total=False):
    """What a caller gives the Reflexion graph; its round counter and lessons are the graph's own."""

    env_name: Required[str]
    train_instances: Required[list[str]]
    max_rounds: int  # default: ctx.max_rounds + 1


class ReflexionRollout(TypedDict):
    env_name: str
    instance: str
    lessons: list[str]
    round: int


def plan_reflexion_rollouts(state: ReflexionState) -> list[Send]:
    rnd = state.get("round", 0)
    done = {r["instance"] for r in state.get("rollouts", []) if r["round"] == rnd}
    return [
        Send(
            "reflexion_rollout",
            ReflexionRollout(env_name=state["env_name"], instance=i, lessons=state.get("lessons", []), round=rnd),
        )
        for i in state["train_instances"]
        if i not in done
    ]


@holds_slot
def reflexion_rollout(task: ReflexionRollout, runtime: Runtime[Context], episode_graph: Any = None) -> dict:
    ctx = runtime.context
    inputs = episode_inputs(
        f"reflexion-r{task['round']}@{task['instance']}",
        task["env_name"],
        task["instance"],
        lessons=task["lessons"],
        max_steps=ctx.learn_max_steps,  # the training step cap, as LearnAct's rollouts
    )
    final = play_episode(rollout_graph(ctx, episode_graph), inputs, ctx)
    emit(
        "rollout_end",
        candidate_id=f"reflexion-r{task['round']}",
        instance=task["instance"],
        success=bool(final.get("success")),
        steps=len(final.get("steps", [])),
    )
    return {
        "rollouts": [
            {
                "round": task["round"],
                "instance": task["instance"],
                "success": bool(final.get("success")),
                "goal": final.get("goal", ""),
                "first_observation": final.get("first_observation", ""),
                "steps": final.get("steps", []),
            }
        ]
    }


@holds_slot
def reflect(state: ReflexionState, runtime: Runtime[Context]) -> dict:
    """One lesson per failed episode of this round (``reflexion="first_failure"``: the reference's rule, see
    :func:`reflect_first_failure`)."""
    ctx = runtime.context
    if ctx.reflexion == "first_failure":
        return reflect_first_failure(state, ctx)
    rnd = state.get("round", 0)
    failed = sorted(
        (r for r in state.get("rollouts", []) if r["round"] == rnd and not r["success"]), key=lambda r: r["instance"]
    )
    lessons = list(state.get("lessons", []))
    if not failed:
        return {"stop_reason": "all_succeeded", "round": rnd + 1, "lessons": lessons}
    material = load_domain_material(state["env_name"], ctx.prompts_dir, ctx.feedback)
    for rollout in failed:
        messages = ctx.prompts.render(
            "reflect",
            instruction=material.instruction,
            goal=rollout["goal"],
            trajectory=render_trajectory(rollout["goal"], rollout["first_observation"], rollout["steps"]),
            lessons="\n".join(f"- {l}" for l in lessons) or "(none)",
        )
        lesson = invoke_text(
            ctx.learner, messages, usage=ctx.usage, node="reflexion.reflect", key=f"r{rnd}@{rollout['instance']}"
        )
        lesson = " ".join(lesson.split())[:600]
        if lesson:
            lessons.append(lesson)
    emit("lessons", round=rnd, lessons=lessons)
    last = rnd + 1 >= reflexion_rounds(state, ctx)
    return {"lessons": lessons, "round": rnd + 1, "stop_reason": "max_rounds" if last else ""}


def reflect_first_failure(state: ReflexionState, ctx: Context) -> dict:
    """The reference's Reflexion: after each round but the last, one reflection from the first failed training
    task (in the run's order), written with the task's own worked note; the whole reply is kept."""
    rnd, lessons = state.get("round", 0), list(state.get("lessons", []))
    if rnd + 1 >= reflexion_rounds(state, ctx):
        return {"lessons": lessons, "round": rnd + 1, "stop_reason": "max_rounds"}
    by_instance = {r["instance"]: r for r in state.get("rollouts", []) if r["round"] == rnd}
    failed = [by_instance[i] for i in state["train_instances"] if i in by_instance and not by_instance[i]["success"]]
    if not failed:
        return {"stop_reason": "all_succeeded", "round": rnd + 1, "lessons": lessons}
    rollout = failed[0]
    react = getattr(ctx.rollout_graph, "name", None) == "react"  # ReAct+Reflexion: the worked attempt thinks too
    paper = load_paper_material(state["env_name"], ctx.prompts_dir) if ctx.prompt_set == "paper" else {}
    example = paper.get("react reflexion example" if react else "reflexion example", "")
    material = load_domain_material(state["env_name"], ctx.prompts_dir, ctx.feedback)
    messages = ctx.prompts.render(
        "reflect",
        instruction=material.instruction,
        goal=rollout["goal"],
        reflexion_example=example,
        trajectory=failed_attempt(rollout),
        lessons="\n".join(f"- {l}" for l in lessons) or "(none)",
    )
    lesson = invoke_text(
        ctx.learner, messages, usage=ctx.usage, node="reflexion.reflect", key=f"r{rnd}@{rollout['instance']}"
    ).strip()
    lessons += [lesson] if lesson else []
    emit("lessons", round=rnd, lessons=lessons)
    return {"lessons": lessons, "round": rnd + 1, "stop_reason": ""}


def failed_attempt(rollout: dict[str, Any]) -> str:
    """The failed episode as the reference's reflection reads it: the goal, the first observation, then each
    step's Action and Observation lines (a thought shows only its observation)."""
    lines = [f"Goal: {rollout['goal']}", f"Observation: {rollout['first_observation']}"]
    for step in rollout["steps"]:
        if not step.get("thought"):
            lines.append(f"Action: {step['action']}")
        lines.append(f"Observation: {step.get('observation', '')}")
    return "\n".join(lines)


def reflexion_rounds(state: ReflexionState, ctx: Context) -> int:
    """Rounds of rollouts + reflection: the state's ``max_rounds`` when given, else LearnAct's rounds
    of rollouts under the same ``--max-rounds`` (creation + revisions)."""
    return state.get("max_rounds") or ctx.max_rounds + 1


def route_after_reflect(state: ReflexionState) -> str:
    return "end" if state.get("stop_reason") else "again"
