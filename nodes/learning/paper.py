"""The learner's requests under the paper's prompt set: the values the paper templates (prompts/paper/templates)
take, and the two requests the reference makes that the default path does not (a description per function,
a demonstration again after an Update).

Each function here is used only when the run's settings ask for it (``prompt_set``, ``describe_actions``,
``redemonstrate``); the default path never reaches it.
"""

from __future__ import annotations

from typing import Any

from learnact.actions import ActionLibrary
from prompts import load_domain_material, load_learned_example, load_paper_material

from ..context import Context
from .checks import ask_learner


def creation_values(ctx: Context, env_name: str, queries: str) -> dict[str, str]:
    """``learned_example`` and ``action_example`` of ``create_actions``: the task's own worked learned action under
    the paper's prompt set, else the made-up domain's example (prompts/examples/learned_actions.md)."""
    if ctx.prompt_set != "paper":
        return {"learned_example": load_learned_example(ctx.prompts_dir, queries=bool(queries))}
    paper = load_paper_material(env_name, ctx.prompts_dir)
    return {"learned_example": paper["learned example"], "action_example": paper["action example"]}


def describe_functions(ctx: Context, env_name: str, library: ActionLibrary, names, key: str) -> dict[str, str]:
    """One learner request per function (``describe_action``): {name: its description on one line}."""
    material = load_domain_material(env_name, ctx.prompts_dir, ctx.feedback)
    example = load_paper_material(env_name, ctx.prompts_dir)["description example"] if ctx.prompt_set == "paper" else ""
    out = {}
    for name in names:
        action = library.get(name)
        if action is None or action.is_helper:
            continue
        messages = ctx.prompts.render(
            "describe_action",
            instruction=material.instruction,
            example=material.example,
            description_example=example,
            name=name,
            function=action.source,
            task=env_name,
        )
        text = " ".join(ask_learner(ctx, "learn.describe", messages, f"{key}:{name}").split())
        if text:
            out[name] = text
    return out


def with_descriptions(ctx: Context, env_name: str, library: ActionLibrary, names, key: str) -> ActionLibrary:
    """``library`` with the learner's descriptions of ``names`` (setting ``describe_actions``), else unchanged."""
    if not ctx.describe_actions or library is None:
        return library
    return library.with_descriptions(describe_functions(ctx, env_name, library, names, key))


def ask_demonstration(ctx: Context, env_name: str, library: ActionLibrary, key: str) -> str:
    """The learner's usage demonstration of ``library`` (``demonstrate``).

    Under the paper's prompt set the reply's blank lines are dropped, and on ALFWorld (the reference's
    ``together_complete`` with ``same_usage``) the request ends with the opening of the task's example episode (its
    goal and first observation), which the learner continues and the demonstration starts with."""
    material = load_domain_material(env_name, ctx.prompts_dir, ctx.feedback)
    paper = ctx.prompt_set == "paper"
    example = load_paper_material(env_name, ctx.prompts_dir)["demonstration example"] if paper else ""
    start = episode_opening(material.example) if paper and env_name.startswith("alfworld/") else ""
    messages = ctx.prompts.render(
        "demonstrate",
        instruction=material.instruction,
        actions=library.render_actions(),
        code=library.code,
        example=material.example,
        demonstration_example=example,
        task=env_name,
        start=start,
    )
    reply = ask_learner(ctx, "learn.demonstrate", messages, key).strip()
    if not paper:
        return reply
    reply = "\n".join(line for line in reply.splitlines() if line.strip())
    return f"{start}\n{reply}" if start and reply and not reply.startswith(start) else reply


def episode_opening(example: str) -> str:
    """An example episode's goal and first observation (its first ``Goal:`` and ``Observation:`` lines)."""
    lines = [line for line in example.splitlines() if line.strip()]
    goal = next((line for line in lines if line.startswith("Goal:")), "")
    first = next((line for line in lines if line.startswith("Observation:")), "")
    return "\n".join(x for x in (goal, first) if x)


def revision_values(ctx: Context, env_name: str, failure: dict[str, Any]) -> dict[str, str]:
    """The paper template's parts of one failed call: the call in its state (PDDL: the observation before it;
    ALFWorld: the whole episode up to it, the reference's "single" and "full"), the error's first sentence and the
    primitive steps inside the call, with the task's example, goal, one basic call and worked revision cases."""
    paper = load_paper_material(env_name, ctx.prompts_dir)
    material = load_domain_material(env_name, ctx.prompts_dir, ctx.feedback)
    if env_name.startswith("alfworld/"):
        state = "\n".join([f"Goal: {failure['goal']}", *failure.get("lines", []), f"Action: {failure['call']}"])
    else:
        state = f"Observation: {failure.get('last_observation', '')}\nAction: {failure['call']}"
    trace = "\n".join(f"Action: {t['action']}\nObservation: {t['observation']}" for t in failure["trace"])
    return {
        "example": material.example,
        "goal": failure["goal"],
        "action_example": paper["action example"],
        "revision_cases": paper["revision cases"],
        "name": failure["name"] or "",
        "failure": state,
        "error": (failure.get("observation") or "").split(".")[0].strip(),
        "trace": trace or "(no primitive action was run)",
    }
