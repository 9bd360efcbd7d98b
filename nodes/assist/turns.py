"""The compact prompt's turns (an aid, nodes/assist/agent_prompt.py): the state per object, a few recent steps,
few-shot as chat turns.

The paper's prompt (``agent_prompt="paper"``, templates ``act``/``react``) is one system blob with
the example episode as text, then the goal and a long Observation/Action transcript. The embedded
1.5B model copies that example's first actions and repeats its own last line (measured in our probes,
docs/results.md). The compact shape (templates ``act_compact``/
``react_compact``) instead shows:

- a system message: the domain instruction and the actions, learned ones first;
- worked steps as real chat turns: user = the state view, assistant = one call. When the agent has
  learned actions, the turns use them (a *verified* demonstration: calls replayed on the example
  instance in the sandbox, see :mod:`nodes.assist.worked_steps`), so the model sees them being chosen;
- the current turn: the last few steps with their outcome and the current state view.

- the episode as chat turns that only grow: each step the agent took is an assistant turn (its call),
  answered by a user turn with its result; the state view is in the last user turn only.

The system message, the worked turns and the episode's earlier turns do not change from one step to the
next: a step appends its call, its result and the new state view, and the local server evaluates only
those (``benchmarks/bench_local_model.py --agent`` counts them). The episode's turns keep at least
``recent_steps`` steps and are trimmed ``HISTORY_CHUNK`` steps at a time, so the prefix changes once per
chunk, not at every step.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..state import StepRecord

HISTORY_CHUNK = 8  # the episode's turns are trimmed this many steps at a time


def result_line(step: StepRecord) -> str:
    """What a step did, as the user turn after the agent's call says it."""
    if step.get("thought"):
        return "OK."
    if step.get("ok"):
        return "Result: valid, but nothing changed." if step.get("no_change") else "Result: done."
    why = " ".join((step.get("observation") or "").split())
    why = why.removeprefix(f"The action {step['action']} is not valid because ")  # the call is the turn above
    return f"Result: NOT POSSIBLE, nothing changed. {why}".rstrip()


def step_header(number: int, previous: StepRecord | None, hidden: int = 0) -> str:
    """The start of the user turn that asks for step ``number``: the previous step's result, the number."""
    parts = [f"(Steps 1-{hidden} are not shown.)"] if hidden else []
    if previous is not None:
        parts.append(result_line(previous))
    parts.append(f"Step {number}.")
    return "\n\n".join(parts)


def turn_text(view: str, previous: StepRecord | None, number: int, banned: Sequence[str] = (), hidden: int = 0) -> str:
    """The user turn that asks for step ``number``: the previous step's result, the state (and goal)
    view, what not to repeat. Without the view, it is what the turn becomes once the step is taken."""
    text = step_header(number, previous, hidden) + "\nNow:\n" + view.strip()
    if banned:
        text += "\n\nTried here without effect (do not repeat): " + ", ".join(banned)
    return text


def window_start(n_steps: int, keep: int, chunk: int = HISTORY_CHUNK) -> int:
    """The first step the episode's turns show: at least ``keep`` steps (all when fewer were taken), the
    window moving ``chunk`` steps at once. ``keep`` 0 shows none."""
    if keep <= 0:
        return n_steps
    return max(0, n_steps - keep) // chunk * chunk


def episode_turns(
    steps: Sequence[StepRecord], keep: int, view: str, banned: Sequence[str] = ()
) -> tuple[list[tuple[str, str]], str]:
    """(the episode's (user, assistant) turns, the current user turn): every step in the window is the
    user turn that asked for it (without its view: that is shown once, at the end) and the agent's call.
    Of the ``banned`` calls (refused since the state last changed), the current turn names those the
    turns do not show already with their result."""
    start = window_start(len(steps), keep)
    turns: list[tuple[str, str]] = []
    for i in range(start, len(steps)):
        previous = steps[i - 1] if i > start else None
        turns.append((step_header(i + 1, previous, start if i == start else 0), steps[i]["action"]))
    previous = steps[-1] if len(steps) > start else None
    shown = {step["action"] for step in steps[start:]}
    unseen = [call for call in banned if call not in shown]  # the turns show the others refused
    current = turn_text(view, previous, len(steps) + 1, unseen, start if not turns else 0)
    return turns, current


def refused_since_change(steps: Sequence[StepRecord]) -> list[str]:
    """Calls refused, or valid but without effect, since the state last changed: repeating one of
    them cannot help.

    A step changed the state when one of its primitive steps was valid and it was not marked
    ``no_change`` (a learned call that failed half-way did change it). A thought changes nothing and
    does not reset the list.
    """
    refused: list[str] = []
    for step in steps:
        if step.get("thought"):
            continue
        if step.get("no_change") or not any(p.get("valid") for p in step.get("trace", [])):
            if step["action"] not in refused:
                refused.append(step["action"])
        else:
            refused = []
    return refused


def compact_messages(
    system: str, few_shot: Sequence[tuple[str, str]], current: str, episode: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """System message, the worked turns and the episode's turns (user/assistant pairs), then the current user turn."""
    messages: list[tuple[str, str]] = [("system", system)]
    for user, assistant in (*few_shot, *episode):
        messages += [("user", user), ("assistant", assistant)]
    messages.append(("user", current))
    return messages
