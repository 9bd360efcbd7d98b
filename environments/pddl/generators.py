"""Seeded problem generators, one per domain, so that everything runs with no external data.

A generated instance is named ``gen:seed=3`` or with sizes ``gen:seed=3,balls=4``. Sizes
(default, allowed range):
- gripper: ``balls`` (4, 1-40), ``rooms`` (2, 2-10); the seed places Robby and the balls and
  picks each ball's target room (never its start room).
- blockworld: ``blocks`` (4, 1-26); the seed builds random start and goal towers.
- barman: ``cocktails`` (1, 1-8; each served in its own shot, plus one spare shot),
  ``ingredients`` (3, 2-8); the seed picks each cocktail's two parts and sometimes adds a plain
  ingredient goal for the spare shot.
- tyreworld: ``wheels`` (1, 1-10); the seed may start with the boot open and adds tidy-up
  goals (nuts tight, tools back in the boot, boot closed).
The same name always gives the same problem text.
"""

from __future__ import annotations

import random

SIZES = {
    "gripper": {"balls": 4, "rooms": 2},
    "blockworld": {"blocks": 4},
    "barman": {"cocktails": 1, "ingredients": 3},
    "tyreworld": {"wheels": 1},
}
LIMITS = {"balls": 40, "rooms": 10, "blocks": 26, "cocktails": 8, "ingredients": 8, "wheels": 10}


class GeneratorError(ValueError):
    """A generated-instance name that cannot be understood."""


def parse_generated(domain: str, name: str) -> dict[str, int]:
    """``gen:seed=3,balls=4`` -> {"seed": 3, "balls": 4, ...defaults}."""
    if domain not in SIZES:
        raise GeneratorError(f"no generator for {domain!r}")
    spec = name.split(":", 1)[1] if ":" in name else ""
    params = {"seed": 0, **SIZES[domain]}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise GeneratorError(f"{name!r}: expected key=value pairs such as gen:seed=3,{next(iter(SIZES[domain]))}=4")
        if key not in params:
            raise GeneratorError(
                f"{name!r}: unknown size {key!r} for {domain}; known: seed, {', '.join(SIZES[domain])}"
            )
        try:
            params[key] = int(value)
        except ValueError:
            raise GeneratorError(f"{name!r}: {key} must be an integer") from None
        if key != "seed" and not 1 <= params[key] <= LIMITS[key]:
            raise GeneratorError(f"{name!r}: {key} must be between 1 and {LIMITS[key]}")
    if domain == "gripper" and params["rooms"] < 2:
        raise GeneratorError(f"{name!r}: gripper needs at least 2 rooms")
    if domain == "barman" and params["ingredients"] < 2:
        raise GeneratorError(f"{name!r}: barman needs at least 2 ingredients")
    return params


def _problem(name: str, domain: str, objects: str, init: list[str], goal: list[str]) -> str:
    return (
        f"(define (problem {name})\n (:domain {domain})\n (:objects {objects})\n (:init\n  "
        + "\n  ".join(init)
        + "\n )\n (:goal (and\n  "
        + "\n  ".join(goal)
        + "\n )))\n"
    )


def gripper(seed: int, balls: int, rooms: int) -> str:
    rng = random.Random(f"gripper-{seed}")
    names = [f"room{chr(ord('a') + i)}" for i in range(rooms)]
    balls_ = [f"ball{i + 1}" for i in range(balls)]
    init = [f"(room {r})" for r in names] + [f"(ball {b})" for b in balls_] + ["(gripper left)", "(gripper right)"]
    init += [f"(at-robby {rng.choice(names)})", "(free left)", "(free right)"]
    goal = []
    for b in balls_:
        start = rng.choice(names)
        init.append(f"(at {b} {start})")
        goal.append(f"(at {b} {rng.choice([r for r in names if r != start])})")
    return _problem(f"gripper-gen-{seed}", "gripper-strips", " ".join(names + balls_ + ["left", "right"]), init, goal)


def _towers(rng: random.Random, blocks: list[str]) -> list[list[str]]:
    order = blocks[:]
    rng.shuffle(order)
    towers: list[list[str]] = []
    for b in order:
        if towers and rng.random() < 0.6:
            rng.choice(towers).append(b)
        else:
            towers.append([b])
    return towers


def blockworld(seed: int, blocks: int) -> str:
    rng = random.Random(f"blockworld-{seed}")
    names = [f"b{i + 1}" for i in range(blocks)]
    start = _towers(rng, names)
    for _ in range(100):
        target = _towers(rng, names)
        goal_on = {(t[i + 1], t[i]) for t in target for i in range(len(t) - 1)}
        start_on = {(t[i + 1], t[i]) for t in start for i in range(len(t) - 1)}
        if goal_on and not goal_on <= start_on:
            break
    else:  # tiny instances: stack everything in a fresh order
        target = [sorted(names)]
        goal_on = {(target[0][i + 1], target[0][i]) for i in range(len(names) - 1)}
    init = ["(arm-empty)"]
    for t in start:
        init.append(f"(on-table {t[0]})")
        init += [f"(on {t[i + 1]} {t[i]})" for i in range(len(t) - 1)]
        init.append(f"(clear {t[-1]})")
    goal = [f"(on {a} {b})" for a, b in sorted(goal_on)]
    return _problem(f"bw-gen-{seed}", "blocksworld-4ops", " ".join(names), init, goal)


def barman(seed: int, cocktails: int, ingredients: int) -> str:
    rng = random.Random(f"barman-{seed}")
    ings = [f"ingredient{i + 1}" for i in range(ingredients)]
    cocks = [f"cocktail{i + 1}" for i in range(cocktails)]
    shots = [f"shot{i + 1}" for i in range(cocktails + 1)]
    disp = [f"dispenser{i + 1}" for i in range(ingredients)]
    objects = (
        "shaker1 - shaker left right - hand "
        + " ".join(shots)
        + " - shot "
        + " ".join(ings)
        + " - ingredient "
        + " ".join(cocks)
        + " - cocktail "
        + " ".join(disp)
        + " - dispenser l0 l1 l2 - level"
    )
    init = ["(ontable shaker1)"] + [f"(ontable {s})" for s in shots]
    init += [f"(dispenses {d} {i})" for d, i in zip(disp, ings)]
    init += (
        ["(clean shaker1)"] + [f"(clean {s})" for s in shots] + ["(empty shaker1)"] + [f"(empty {s})" for s in shots]
    )
    init += ["(handempty left)", "(handempty right)", "(shaker-empty-level shaker1 l0)", "(shaker-level shaker1 l0)"]
    init += ["(next l0 l1)", "(next l1 l2)"]
    for c in cocks:
        a, b = rng.sample(ings, 2)
        init += [f"(cocktail-part1 {c} {a})", f"(cocktail-part2 {c} {b})"]
    goal = [f"(contains {s} {c})" for s, c in zip(shots, cocks)]
    if rng.random() < 0.5:
        goal.append(f"(contains {shots[-1]} {rng.choice(ings)})")
    return _problem(f"barman-gen-{seed}", "barman", objects, init, goal)


def tyreworld(seed: int, wheels: int) -> str:
    """Replace ``wheels`` flat wheels by the spares in the boot. The seed decides whether the
    boot starts open and which tidy-up goals are added (nuts tight, tools back, boot closed)."""
    rng = random.Random(f"tyreworld-{seed}")
    idx = list(range(1, wheels + 1))
    objects = (
        "wrench jack pump - tool "
        + " ".join(f"the-hub{i}" for i in idx)
        + " - hub "
        + " ".join(f"nuts{i}" for i in idx)
        + " - nut boot - container "
        + " ".join(f"r{i} w{i}" for i in idx)
        + " - wheel"
    )
    init = ["(in jack boot)", "(in pump boot)", "(in wrench boot)", "(unlocked boot)"]
    init.append("(isopen boot)" if rng.random() < 0.3 else "(closed boot)")
    for i in idx:
        init += [f"(intact r{i})", f"(in r{i} boot)", f"(not-inflated r{i})", f"(on w{i} the-hub{i})"]
        init += [f"(on-ground the-hub{i})", f"(tight nuts{i} the-hub{i})", f"(fastened the-hub{i})"]
    goal = []
    for i in idx:
        goal += [f"(on r{i} the-hub{i})", f"(inflated r{i})", f"(in w{i} boot)"]
    tidy = [f"(tight nuts{i} the-hub{i})" for i in idx] + [f"(in {t} boot)" for t in ("wrench", "jack", "pump")]
    goal += [g for g in tidy if rng.random() < 0.4]
    if rng.random() < 0.3:
        goal.append("(closed boot)")
    return _problem(f"tyreworld-gen-{seed}", "tyreworld", objects, init, goal)


GENERATORS = {"gripper": gripper, "blockworld": blockworld, "barman": barman, "tyreworld": tyreworld}


def generate(domain: str, name: str) -> str:
    params = parse_generated(domain, name)
    return GENERATORS[domain](**params)
