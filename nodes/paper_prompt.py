"""The agent's prompt under the paper's prompt set (``prompt_set="paper"``, templates ``prompts/paper/templates``).

The reference's agent (learnact_user.make_prompt, py_agent.make_prompt) sends the domain's system message and
one user text: the instruction with the learned actions listed after the basic ones, the notes on actions, the
examples (the learned actions' usage example first), the goal, Reflexion's high-level plan, the last lines of
the history and the action cue. This module fills the paper templates' parts with exactly that: no nudge
toward learned actions, no format line, the history cut as ``ctx.history_trim`` says.
"""

from __future__ import annotations

from collections.abc import Sequence

from environments import parse_call
from learnact.actions import ActionLibrary
from prompts import load_domain_material, load_paper_material

from .context import Context
from .history import action_lines, render_history
from .state import EpisodeState

# How Reflexion's lessons enter the agent's prompt under the paper's rules (the reference's "high level plan").
PLAN_LINE = "Follow this high-level plan: {plan}\n"
NOTES_HEADER = "Notes on the actions:\n"


def learned_lines(library: ActionLibrary) -> str:
    """The learned actions as further lines of the instruction's action list (empty without any)."""
    return "".join(
        f"- {a.signature}: {a.description}\n" if a.description else f"- {a.signature}\n" for a in library.actions
    )


def notes_block(library: ActionLibrary) -> str:
    """The Plan notes per action, one line per action with notes (empty without any)."""
    lines = [f"{a.signature}: {' '.join(a.notes)}" for a in library.actions if a.notes]
    return NOTES_HEADER + "\n".join(lines) + "\n" if lines else ""


def plan_line(lessons: Sequence[str]) -> str:
    return PLAN_LINE.format(plan="\n".join(lessons)) if lessons else ""


def demonstration_fits(demonstration: str, library: ActionLibrary, primitives: Sequence[str]) -> bool:
    """Every call of ``demonstration`` is to an offered action with an accepted number of arguments."""
    for line in action_lines(demonstration):
        try:
            name, args = parse_call(line)
        except ValueError:
            return False
        action = library.get(name)
        if name not in primitives and (action is None or action.is_helper or not action.accepts(len(args))):
            return False
    return True


def paper_examples(demonstration: str | None, example: str, library: ActionLibrary, primitives: Sequence[str]) -> str:
    """The examples: the learner's usage demonstration, then the hand-written example (the reference's
    "tool_first"). A demonstration that no longer fits the library (it calls an action that is not offered, or a
    learned action with the wrong number of arguments: written before an Update changed a signature) is left out."""
    if not demonstration or not demonstration_fits(demonstration, library, primitives):
        return example
    return f"{demonstration.strip()}\n\n{example}"


def reference_messages(state: EpisodeState, ctx: Context, node: str = "act") -> list[tuple[str, str]]:
    """The agent's messages under the paper's prompt set (``act`` or ``react``)."""
    rt = ctx.episodes.get(state, ctx.sandbox)
    material = load_domain_material(state["env_name"], ctx.prompts_dir, ctx.feedback)
    paper = load_paper_material(state["env_name"], ctx.prompts_dir)
    example = paper["react example"] if node == "react" else material.example
    return ctx.prompts.render(
        node,
        system=paper["system"],
        instruction=material.instruction,
        actions=learned_lines(rt.library),
        notes=notes_block(rt.library),
        examples=paper_examples(state.get("examples"), example, rt.library, rt.env.primitive_names),
        lessons=plan_line(state.get("lessons") or []),
        goal=state.get("goal", ""),
        history=render_history(
            state.get("first_observation", ""), state.get("steps", []), ctx.history_window, ctx.history_trim
        ),
    )


# What the reference's agent reads after a learned call that ended on an invalid step or changed nothing (its
# own sentences are the environment's; these say the same in this project's words).
CALL_INVALID = "The action is not valid and therefore takes no effect."
CALL_NO_CHANGE = "The action is not valid and does not change anything. Please check valid actions."


def reference_observation(result, before: str, env_name: str) -> str:
    """The observation the reference's agent sees after a learned call (``learned_observation="reference"``).

    PDDL: the last primitive's observation; when that step was invalid, followed by the last valid observation
    of the call. ALFWorld (the reference's ``full_tool_subprocess``): the valid observations of the call joined,
    after the invalid sentence when the last step was invalid. A call that raised before any primitive, or whose
    observation is the one before the call, reads as not valid."""
    trace = list(result.trace)
    if not trace:
        return CALL_INVALID
    valid = [t.observation for t in trace if t.valid]
    last_invalid = not trace[-1].valid
    if env_name.startswith("alfworld/"):
        joined = " ".join(valid)
        obs = f"{CALL_INVALID} {joined}".strip() if last_invalid else joined
    else:
        obs = trace[-1].observation + (f" {valid[-1]}" if last_invalid and valid else "")
    return CALL_NO_CHANGE if obs.strip() == (before or "").strip() or not obs.strip() else obs


def previous_observation(state: EpisodeState) -> str:
    steps = state.get("steps", [])
    return steps[-1].get("observation", "") if steps else state.get("first_observation", "")
