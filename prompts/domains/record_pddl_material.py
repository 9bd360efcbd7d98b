"""Regenerate the PDDL prompt material: ``<domain>/instruction.md`` and ``<domain>/example.md``.

The instruction is our description of the world plus the primitives with their pre- and
post-conditions, taken from the environment itself so they cannot drift apart. The example is
a real episode: a pyperplan plan on a small generated instance, replayed through the env.

    python prompts/domains/record_pddl_material.py
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from environments import make_env
from environments.pddl.env import OWN_DOMAINS, resolve_problem

HERE = Path(__file__).resolve().parent
WORLDS = {
    "gripper": (
        "A robot named Robby moves balls between rooms. Robby has two grippers, left and right; each can hold one "
        "ball. Robby can pick up a ball in the room it is in with a free gripper, move to another room, and drop a "
        "held ball in the room it is in.",
        "gen:seed=3,balls=2",
    ),
    "blockworld": (
        "Blocks lie on a table or on other blocks. A robot arm can hold one block at a time. Only a clear block "
        "(nothing on top of it) can be picked up from the table or unstacked from another block, and a held block "
        "can be put down on the table or stacked on a clear block.",
        "gen:seed=2,blocks=3",
    ),
    "barman": (
        "A robot barman prepares cocktails with two hands, shot glasses, one shaker and ingredient dispensers. A "
        "shot is filled from a dispenser while held; ingredients are poured from shots into the shaker, the shaker "
        "is shaken when it holds both parts of a cocktail, and the cocktail is poured from the shaker into a shot. "
        "Used containers must be emptied and cleaned before they hold something else. Levels l0 < l1 < l2 track "
        "how full the shaker is.",
        "gen:seed=0,cocktails=1",
    ),
    "tyreworld": (
        "A car has flat wheels on its hubs. The boot holds the tools (wrench, jack, pump) and intact spare wheels. "
        "To replace a wheel: open the boot, fetch the tools and a spare, loosen the nuts, jack up the hub, undo the "
        "nuts, remove the flat wheel, put on the spare, do up and tighten the nuts, jack down, inflate the spare, "
        "and put the flat wheel and the tools away in the boot.",
        "gen:seed=0,wheels=1",
    ),
}


def instruction(domain: str) -> str:
    env = make_env(f"pddl/{domain}", WORLDS[domain][1])
    lines = [WORLDS[domain][0], "", "Each step, call exactly one action with quoted object names, e.g. "
             f"{env.primitives[0].name}({', '.join(repr(p) for p in env.primitives[0].params)}).", "", "Primitive actions:"]
    for p in env.primitives:
        lines.append(f"- {p.signature}: {p.description}")
        if p.preconditions:
            lines.append(f"    requires: {p.preconditions}")
        if p.effects:
            lines.append(f"    result: {p.effects}")
    lines += ["", "After each action you observe the true facts of the world. An action whose requirements do not "
              "hold is not applied, and the observation says which requirement failed."]
    return "\n".join(lines) + "\n"


def example(domain: str) -> str:
    from pyperplan.planner import HEURISTICS, SEARCHES, search_plan

    logging.disable(logging.CRITICAL)
    instance = WORLDS[domain][1]
    _, text, _ = resolve_problem(domain, instance)
    with tempfile.NamedTemporaryFile("w", suffix=".pddl", delete=False) as fh:
        fh.write(text)
    heuristic = HEURISTICS["landmark" if domain == "barman" else "hff"]
    plan = search_plan(str(OWN_DOMAINS / f"{domain}.pddl"), fh.name, SEARCHES["gbf"], heuristic)
    env = make_env(f"pddl/{domain}", instance)
    obs, info = env.reset()
    lines = [f"Goal: {info['goal']}", f"Observation: {obs}"]
    for op in plan:
        name, *args = op.name.strip("()").split()
        call = f"{name.replace('-', '_')}({', '.join(repr(a) for a in args)})"
        obs, _, _, _, info = env.step(call)
        lines += [f"Action: {call}", f"Observation: {obs}"]
    assert info["success"], domain
    return "\n".join(lines) + "\n"


def main() -> None:
    for domain in WORLDS:
        folder = HERE / domain
        folder.mkdir(exist_ok=True)
        (folder / "instruction.md").write_text(instruction(domain), encoding="utf-8")
        (folder / "example.md").write_text(example(domain), encoding="utf-8")
        print(f"wrote {folder}")


if __name__ == "__main__":
    main()
