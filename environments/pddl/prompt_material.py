"""Writes the prompt material of the PDDL domains: ``prompts/domains/<domain>/instruction.md``
(the world, the primitives with signatures and pre/post-conditions, the call format) and
``example.md`` (one worked episode: an oracle plan on a small generated instance, run through
the env, so every observation is the env's own text).

    python -m environments.pddl.prompt_material [--domains gripper ...]

Needs pyperplan (dev extra) for the plans. The tests check that the files on disk match what
the env says, so re-run this after changing observations or primitives.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..base import PrimitiveSpec
from .env import make_pddl_env

PROMPT_DIR = Path(__file__).resolve().parent.parent.parent / "prompts" / "domains"

# Small generated instances: short observations, plans of about ten steps.
EXAMPLE_INSTANCES = {
    "gripper": "gen:seed=1,balls=2",
    "blockworld": "gen:seed=2,blocks=3",
    "barman": "gen:seed=0,cocktails=1,ingredients=2",
    "tyreworld": "gen:seed=3,wheels=1",
}

# A second worked episode for the compact prompt (nodes/assist/worked_steps.py), solved at run time with the
# agent's actions: a situation whose first step differs from the example's (gripper: Robby must first go
# to a ball). Seeds below 1000: never a test instance of the ladder.
SECOND_WORKED_INSTANCES = {
    "gripper": "gen:seed=9,balls=2,rooms=3",
    "blockworld": "gen:seed=3,blocks=3",
    "tyreworld": "gen:seed=2,wheels=1",
}

WORLDS = {
    "gripper": """\
You control Robby, a robot with two grippers, 'left' and 'right', in a building with rooms
('rooma', 'roomb', ...). Balls ('ball1', 'ball2', ...) lie in the rooms. Robby can carry at most
two balls at a time, one per gripper, and can only pick up or drop a ball in the room where he is.
The task is to bring balls to the rooms the goal names.""",
    "blockworld": """\
You control a robot arm above a table with blocks ('b1', 'b2', ... or letters). Blocks stand on
the table or on one another. The arm holds at most one block, and can only take a block that is
clear (nothing on top of it). The task is to build the stacks the goal describes ("b1 is on b2"
means b1 stands directly on b2).""",
    "barman": """\
You are a robot barman with two hands, 'left' and 'right'. On the bar are shots ('shot1', ...) and
a shaker ('shaker1'); dispensers ('dispenser1', ...) each give one ingredient. A cocktail
('cocktail1', ...) is made of two ingredients (its first and second part, listed in the
observation): fill a clean shot with an ingredient at its dispenser, pour it into the shaker,
do the same with the other part, shake, and pour the cocktail into a clean empty shot. The
shaker's level ('l0', 'l1', 'l2') counts the doses in it. Used shots and shakers must be cleaned
(or refilled with the same ingredient) before new use. Most actions need one hand holding the
container and the other hand empty. The task is to have each shot the goal names contain its
drink.""",
    "tyreworld": """\
You are changing flat tyres. The car's hubs ('the-hub1', ...) carry flat wheels ('w1', ...) held by
nuts ('nuts1', ...). The boot ('boot') holds the tools ('wrench', 'jack', 'pump') and intact but
deflated spare wheels ('r1', ...). The usual order: open the boot, fetch the tools and the spare,
loosen the nuts while the hub is on the ground, jack the hub up, undo the nuts, remove the flat,
put on the spare, do the nuts up, jack down, tighten the nuts, inflate the spare, and put the flat
wheel and the tools away. The task is to reach every condition the goal lists.""",
}

CALL_FORMAT_BASE = """\
Act with exactly one primitive action per step, written as a Python call with the object names in
quotes, in the order of the signature, e.g. {example}. Names are lower case, exactly as they appear
in the observations. After a valid action the observation lists every fact that is now true. An
action that cannot be applied changes nothing; the observation then says why (unknown action,
wrong number of arguments, unknown object, or which precondition does not hold)."""
# The four benchmark domains keep pddlgym's rule (environments/pddl/simulator.py); a user's domain follows PDDL.
CALL_FORMAT = (
    CALL_FORMAT_BASE
    + """ Each argument
must be a different object."""
)


def primitive_lines(primitives: tuple[PrimitiveSpec, ...]) -> str:
    out = []
    for p in primitives:
        out.append(f"- {p.signature}: {p.description}\n  Requires: {p.preconditions}\n  Result: {p.effects}")
    return "\n".join(out)


def instruction(domain: str) -> str:
    env = make_pddl_env(domain, EXAMPLE_INSTANCES[domain])
    example = env.valid_actions()[0] if env.valid_actions() else f"{env.primitives[0].name}(...)"
    return (
        f"{WORLDS[domain]}\n\n{CALL_FORMAT.format(example=example)}\n\n"
        f"The primitive actions:\n{primitive_lines(env.primitives)}\n"
    )


def example(domain: str, plan: list[str] | None = None) -> str:
    """The worked episode in the prompts' format: Goal, Observation, then Action/Observation pairs."""
    instance = EXAMPLE_INSTANCES[domain]
    if plan is None:
        from .oracle import oracle_plan

        plan = oracle_plan(domain, instance)
    return record_episode(make_pddl_env(domain, instance), plan)


def record_episode(env, plan: list[str]) -> str:
    """``plan`` played on ``env`` from its reset, written as Goal, Observation, then Action/Observation pairs."""
    domain, instance = env.name, env.instance
    obs, info = env.reset()
    lines = [f"Goal: {env.goal}", f"Observation: {obs}"]
    for call in plan:
        obs, _, terminated, _, info = env.step(call)
        if not info["valid"]:
            raise RuntimeError(f"the plan step {call} is not valid: {obs}")
        lines += [f"Action: {call}", f"Observation: {obs}"]
    if not info["success"]:
        raise RuntimeError(f"the plan for {domain} {instance} does not reach the goal")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Write prompts/domains/<domain>/{instruction,example}.md")
    parser.add_argument("--domains", nargs="+", default=list(EXAMPLE_INSTANCES), choices=list(EXAMPLE_INSTANCES))
    args = parser.parse_args()
    for domain in args.domains:
        folder = PROMPT_DIR / domain
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "instruction.md").write_text(instruction(domain), encoding="utf-8")
        (folder / "example.md").write_text(example(domain), encoding="utf-8")
        print(f"wrote {folder}/instruction.md and example.md")


if __name__ == "__main__":
    main()
