"""Record the worked episodes in ``examples/<task>.md`` by playing demo games through the env.

    python prompts/domains/alfworld/record_examples.py [--data-dir DIR]

For each task type we take the first ``valid_train`` demo game (never an evaluation game),
ask TextWorld's planner for a solution, and make it read like a search: before the planner
walks to the object it visits up to two other likely receptacles (same kind first), opening
closed ones, and it walks to the receptacle it takes from rather than a neighbour sharing the
spot. Every line of the file is what the environment actually returned.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from environments import make_env, parse_call
from environments.alfworld import TASK_TYPES, example_instance

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
DETOURS_BEFORE_FIRST_TAKE = 2


def _kind(receptacle: str) -> str:
    return receptacle.rsplit(" ", 1)[0]


def _with_search(plan: list[str], receptacles: list[str]) -> tuple[list[str], str]:
    """The planner's plan with detours before the first pick-up and no shortcut gotos,
    and the kind of object picked up first (e.g. 'alarmclock')."""
    calls = [parse_call(a) for a in plan]
    out: list[str] = []
    detoured = False
    target_kind = next((_kind(args[0]) for name, args in calls if name == "take"), "")
    for i, (name, args) in enumerate(calls):
        following = calls[i + 1] if i + 1 < len(calls) else None
        if name == "goto" and following and following[0] == "take":
            source = following[1][1]
            if not detoured:
                others = [r for r in receptacles if r != source and r != args[0]]
                others.sort(key=lambda r: _kind(r) != _kind(source))  # same kind first, stable
                out += [f"goto({r!r})" for r in others[:DETOURS_BEFORE_FIRST_TAKE]]
                detoured = True
            out.append(f"goto({source!r})")
            continue
        out.append(plan[i])
    return out, target_kind


def _receptacles(first_observation: str) -> list[str]:
    """'you see a bed 1, a desk 1, and a shelf 2.' -> ['bed 1', 'desk 1', 'shelf 2']."""
    seen = first_observation.split("you see", 1)[1].split(".\n", 1)[0].strip().rstrip(".")
    items = [s.strip().removeprefix("and ").strip() for s in seen.split(",")]
    return [s.split(" ", 1)[1] for s in items if " " in s]


def record(task: str, data_dir=None, max_tries: int = 10) -> str:
    instance = example_instance(task, data_dir)
    env = make_env(f"alfworld/{task}", instance, data_dir=data_dir, walkthrough=True)
    excluded: set[str] = set()
    for _ in range(max_tries):
        observation, info = env.reset()
        receptacles = [r for r in _receptacles(observation) if r not in excluded]
        plan, target_kind = _with_search(info["walkthrough"], receptacles)
        spoiled = _play(env, instance, plan, observation, info["goal"], target_kind)
        if isinstance(spoiled, str) and spoiled.startswith("Goal:"):
            env.close()
            return spoiled
        excluded.add(spoiled)  # a detour that shows the object would be walked past: avoid it
    raise RuntimeError(f"{instance}: could not record a clean episode")


def _play(env, instance: str, plan: list[str], observation: str, goal: str, target_kind: str) -> str:
    """The episode text, or the detour receptacle that showed the target object."""
    lines = [f"Goal: {goal}", f"Observation: {observation}"]
    pending = list(plan)
    opened: set[str] = set()
    taken = False
    info: dict = {}
    while pending:
        action = pending.pop(0)
        name, args = parse_call(action)
        if name == "open" and args[0] in opened:
            continue  # a detour already opened it
        observation, _, terminated, _, info = env.step(action)
        if not info["valid"]:
            raise RuntimeError(f"{instance}: {action} was not valid: {observation}")
        lines += [f"Action: {action}", f"Observation: {observation}"]
        if name == "open":
            opened.add(args[0])
        taken = taken or name == "take"
        is_detour = name == "goto" and not taken and pending and parse_call(pending[0])[0] != "take"
        if is_detour and f" {target_kind} " in observation:
            return args[0]
        # A detour that finds a closed receptacle opens it, as a searching person would.
        if is_detour and observation.endswith(f"The {args[0]} is closed."):
            pending.insert(0, f"open({args[0]!r})")
        if (
            name == "open"
            and not taken
            and f" {target_kind} " in observation
            and pending
            and parse_call(pending[0])[0] != "take"
        ):
            return args[0]
        if terminated:
            break
    if not info.get("success"):
        raise RuntimeError(f"{instance}: the recorded episode did not win")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    EXAMPLES_DIR.mkdir(exist_ok=True)
    for task in TASK_TYPES:
        text = record(task, args.data_dir)
        (EXAMPLES_DIR / f"{task}.md").write_text(text, encoding="utf-8")
        print(f"{task}: {text.count('Action:')} actions -> {EXAMPLES_DIR / f'{task}.md'}")


if __name__ == "__main__":
    main()
