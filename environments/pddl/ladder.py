"""The difficulty ladder: generated problems in graded sizes per PDDL domain, held out.

Sizes (the domain's main size in :mod:`.generators`): gripper 1-6 balls, blockworld 2-6 blocks,
tyreworld 1-3 wheels, barman 1-2 cocktails. Per size, the ladder takes the first seeds of its
range whose problem is new: never two instances with the same problem (compared without its name,
its facts as sets: ``gen:seed=101,balls=1`` and ``gen:seed=102,balls=1`` are the same; a 2-block
world has only 4 distinct problems), never a problem whose goal already holds at the start, and a
test instance never equals a training instance.
Training seeds default to 1-999, test seeds to 1000-9999, so a held-out set can be drawn anew
from seeds nobody tuned on.

>>> ladder("gripper", "train")                       # one per size
['gen:seed=1,balls=1,rooms=3', ..., 'gen:seed=1,balls=6']
>>> ladder("gripper", "test", sizes=[1, 2], per_size=3, seeds=range(5000, 6000))

:func:`instance_size` reads the size of any PDDL instance, generated or benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from .generators import SIZES, generate, parse_generated
from .parser import parse_problem

SIZE_KEY = {"gripper": "balls", "blockworld": "blocks", "tyreworld": "wheels", "barman": "cocktails"}
LADDER_SIZES = {"gripper": (1, 2, 3, 4, 5, 6), "blockworld": (2, 3, 4, 5, 6), "tyreworld": (1, 2, 3), "barman": (1, 2)}
TRAIN_SEEDS = range(1, 1000)
TEST_SEEDS = range(1000, 10000)
DEFAULT_PER_SIZE = {"train": 1, "test": 3}
SPLITS = ("train", "test")


class LadderError(ValueError):
    """A ladder that cannot be built as asked (unknown domain or size, too few distinct problems)."""


def extra_params(domain: str, size: int) -> dict[str, int]:
    """Settings besides the size. Gripper with 1-3 balls in 2 rooms has only 4-16 distinct problems;
    3 rooms give 18-5,832, enough for independent training and test instances."""
    return {"rooms": 3} if domain == "gripper" and size <= 3 else {}


def instance_name(domain: str, seed: int, size: int) -> str:
    """``gen:seed=3,balls=1,rooms=3``: the name alone re-creates the problem."""
    parts = [f"seed={seed}", f"{SIZE_KEY[domain]}={size}"] + [f"{k}={v}" for k, v in extra_params(domain, size).items()]
    return "gen:" + ",".join(parts)


def problem_key(text: str) -> str:
    """The problem without its name, in a canonical form (objects, init and goal as sorted sets): two
    instances are the same problem exactly when their keys match, whatever the order of their facts."""
    problem = parse_problem(text, "<ladder>")
    parts = (
        sorted(problem.objects.items()),
        sorted(problem.init),
        sorted(problem.goal_pos),
        sorted(problem.goal_neg),
        problem.domain_name,
    )
    return repr(parts)


def already_solved(text: str) -> bool:
    """Does the goal hold in the initial state (a problem with nothing to do)?"""
    problem = parse_problem(text, "<ladder>")
    return set(problem.goal_pos) <= problem.init and not set(problem.goal_neg) & problem.init


def ladder_sizes(domain: str, sizes: Iterable[int] | None = None) -> list[int]:
    """The domain's ladder sizes, or the ones of ``sizes`` it has (in ladder order)."""
    if domain not in LADDER_SIZES:
        raise LadderError(f"no ladder for {domain!r}; ladders exist for {', '.join(LADDER_SIZES)}")
    if sizes is None:
        return list(LADDER_SIZES[domain])
    wanted = set(sizes)
    chosen = [s for s in LADDER_SIZES[domain] if s in wanted]
    if not chosen:
        have = LADDER_SIZES[domain]
        raise LadderError(
            f"pddl/{domain} has no ladder size among {', '.join(map(str, sorted(wanted)))}; "
            f"its sizes are {have[0]}-{have[-1]} {SIZE_KEY[domain]}"
        )
    return chosen


@lru_cache(maxsize=4096)
def _candidate(domain: str, name: str) -> tuple[str, bool]:
    text = generate(domain, name)
    return problem_key(text), already_solved(text)


def _seed_span(seeds: Sequence[int]) -> str:
    return f"{seeds[0]}-{seeds[-1]}" if len(seeds) else "(none)"


def _pick(domain: str, size: int, count: int, seeds: Sequence[int], taken: set[str], held_out: bool) -> list[str]:
    """The first ``count`` seeds whose problem is new (not in ``taken``, which grows) and not already solved."""
    picked: list[str] = []
    for seed in seeds:
        name = instance_name(domain, seed, size)
        key, solved = _candidate(domain, name)
        if solved or key in taken:
            continue
        taken.add(key)
        picked.append(name)
        if len(picked) == count:
            return picked
    besides = " besides the training ones" if held_out else ""
    raise LadderError(
        f"pddl/{domain} with {size} {SIZE_KEY[domain]}: only {len(picked)} distinct unsolved problem(s) in seeds "
        f"{_seed_span(seeds)}{besides}, {count} asked; lower the per-size count, widen the seeds or choose other sizes"
    )


def ladder(
    domain: str,
    split: str = "train",
    sizes: Iterable[int] | None = None,
    per_size: int | None = None,
    seeds: Sequence[int] | None = None,
    *,
    train_seeds: Sequence[int] | None = None,
    train_per_size: int | None = None,
) -> list[str]:
    """Instance names of the ``split`` ladder of ``domain``, smallest size first, ``per_size`` per size.

    ``seeds`` defaults to :data:`TRAIN_SEEDS` / :data:`TEST_SEEDS`. A test ladder leaves out every
    problem of the training ladder of the same sizes, built from ``train_seeds`` with ``train_per_size``
    instances per size (defaults: the training defaults), even where the seed ranges overlap.
    """
    if split not in SPLITS:
        raise LadderError(f"unknown ladder split {split!r}; use train or test")
    chosen = ladder_sizes(domain, sizes)
    per_size = DEFAULT_PER_SIZE[split] if per_size is None else per_size
    if per_size < 1:
        raise LadderError(f"instances per size must be at least 1, got {per_size}")
    seeds = (TRAIN_SEEDS if split == "train" else TEST_SEEDS) if seeds is None else seeds
    taken: set[str] = set()
    if split == "test":
        held_in = ladder(domain, "train", chosen, train_per_size, train_seeds)
        taken = {_candidate(domain, name)[0] for name in held_in}
    out: list[str] = []
    for size in chosen:
        out += _pick(domain, size, per_size, seeds, taken, held_out=split == "test")
    return out


def _count_size_objects(domain: str, text: str) -> int:
    problem = parse_problem(text, "<size>")
    if domain == "gripper":
        return sum(1 for atom in problem.init if atom[0] == "ball")
    if domain == "blockworld":
        return len(problem.objects)
    if domain == "tyreworld":
        return sum(1 for t in problem.objects.values() if t == "hub")
    # barman: the cocktails to serve (a benchmark problem declares more than its goal asks for)
    cocktails = {o for o, t in problem.objects.items() if t == "cocktail"}
    return len({atom[2] for atom in problem.goal_pos if atom[0] == "contains" and atom[2] in cocktails})


@lru_cache(maxsize=1024)
def _size(env_name: str, instance: str, data_dir: str | None) -> int | None:
    family, _, domain = env_name.partition("/")
    if family != "pddl" or domain not in SIZE_KEY:
        return None
    try:
        if instance == "gen" or instance.startswith("gen:"):
            return parse_generated(domain, instance).get(SIZE_KEY[domain], SIZES[domain].get(SIZE_KEY[domain]))
        from .env import resolve_problem

        return _count_size_objects(domain, resolve_problem(domain, instance, data_dir)[1])
    except (ValueError, OSError):  # unknown instance, missing data, unreadable file
        return None


def instance_size(env_name: str, instance: str, data_dir=None) -> int | None:
    """The size of a PDDL instance: read from a generated name (``gen:seed=3,balls=4`` -> 4, the default
    when the name has none) or counted in a benchmark problem (balls, blocks, wheels, cocktails to serve).
    None for ALFWorld and for a problem that cannot be read."""
    return _size(str(env_name), str(instance), None if data_dir is None else str(data_dir))
