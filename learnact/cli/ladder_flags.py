"""The ladder flags: ``--ladder``, ``--sizes``, ``--per-size``, ``--train-seeds``, ``--test-seeds``.

Any of them puts the run on the domain's difficulty ladder (:mod:`environments.pddl.ladder`):
``--graph learn`` trains on its training instances, act and the baselines run its held-out test
instances, evaluate does both. The resolved choice is recorded in config.json under ``ladder``.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from environments.pddl.ladder import DEFAULT_PER_SIZE, LADDER_SIZES, LadderError, ladder
from learnact.settings.defaults import DEFAULTS

from .errors import UserError

LADDER_VALUE_FLAGS = ("sizes", "per_size", "train_seeds", "test_seeds")
DEFAULT_TRAIN_SEEDS = DEFAULTS.ladder_train_seeds
DEFAULT_TEST_SEEDS = DEFAULTS.ladder_test_seeds


def add_ladder_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("difficulty ladder (generated PDDL problems in graded sizes, held out)")
    g.add_argument(
        "--ladder",
        action="store_true",
        help="use the domain's ladder: gripper 1-6 balls, blockworld 2-6 blocks, tyreworld 1-3 wheels, barman 1-2 cocktails;"
        " learn trains on its training instances, act/evaluate test on held-out ones (implied by the flags below)",
    )
    g.add_argument(
        "--sizes", metavar="SIZES", help="ladder sizes to use, e.g. 1-3 or 1,3,5 (default: all of the domain's)"
    )
    g.add_argument(
        "--per-size",
        type=int,
        metavar="K",
        help=f"ladder instances per size (default: {DEFAULT_PER_SIZE['train']} for training, {DEFAULT_PER_SIZE['test']} for test)",
    )
    g.add_argument(
        "--train-seeds",
        metavar="A-B",
        help=f"seeds of the ladder's training instances (default {DEFAULT_TRAIN_SEEDS[0]}-{DEFAULT_TRAIN_SEEDS[1]})",
    )
    g.add_argument(
        "--test-seeds",
        metavar="A-B",
        help=f"seeds of the ladder's held-out test instances (default {DEFAULT_TEST_SEEDS[0]}-{DEFAULT_TEST_SEEDS[1]}); "
        "a fresh range checks on instances nobody tuned on (a test problem never equals a training one)",
    )


def parse_seed_range(flag: str, text: str) -> tuple[int, int]:
    """``"1000-1999"`` -> (1000, 1999); a single ``"7"`` is the range 7-7."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text or "")
    if not m:
        raise UserError(f"{flag} {text!r}: expected a seed range A-B such as 1000-1999")
    low, high = int(m.group(1)), int(m.group(2) or m.group(1))
    if low > high:
        raise UserError(f"{flag} {text}: the range is empty ({low} > {high})")
    return low, high


def parse_sizes(text: str) -> list[int]:
    """``"1-3"`` -> [1, 2, 3]; ``"1,3,5"`` -> [1, 3, 5]; ``"1-2,5"`` -> [1, 2, 5]."""
    sizes: list[int] = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not m or int(m.group(1)) > int(m.group(2) or m.group(1)):
            raise UserError(f"--sizes {text!r}: expected sizes such as 1-3 or 1,3,5")
        sizes += range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1)
    if not sizes:
        raise UserError(f"--sizes {text!r}: expected sizes such as 1-3 or 1,3,5")
    return sorted(set(sizes))


def ladder_settings(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ladder as plain JSON for config.json, or None when no ladder flag is given."""
    if not (getattr(args, "ladder", False) or any(getattr(args, f, None) is not None for f in LADDER_VALUE_FLAGS)):
        return None
    if args.instance:
        raise UserError("--ladder chooses the instances itself; it cannot go with --instance")
    if args.split:
        raise UserError("--ladder has its own training and test instances; it cannot go with --split")
    train = parse_seed_range("--train-seeds", args.train_seeds) if args.train_seeds else DEFAULT_TRAIN_SEEDS
    test = parse_seed_range("--test-seeds", args.test_seeds) if args.test_seeds else DEFAULT_TEST_SEEDS
    if train[0] <= test[1] and test[0] <= train[1]:
        raise UserError(
            f"--train-seeds {train[0]}-{train[1]} and --test-seeds {test[0]}-{test[1]} overlap; held-out instances need disjoint seeds"
        )
    if args.per_size is not None and args.per_size < 1:
        raise UserError(f"--per-size must be positive, got {args.per_size}")
    per_size = {split: args.per_size or default for split, default in DEFAULT_PER_SIZE.items()}
    return {
        "sizes": parse_sizes(args.sizes) if args.sizes is not None else None,
        "per_size": per_size,
        "train_seeds": list(train),
        "test_seeds": list(test),
    }


def ladder_instances(env_name: str, split: str, spec: dict[str, Any]) -> list[str]:
    """The ``split`` instances of ``env_name``'s ladder as ``spec`` (from :func:`ladder_settings`) asks."""
    family, _, domain = env_name.partition("/")
    if family != "pddl" or domain not in LADDER_SIZES:
        raise UserError(
            f"--ladder: {env_name} has no ladder; ladders exist for {', '.join('pddl/' + d for d in LADDER_SIZES)}"
        )
    train_seeds = range(spec["train_seeds"][0], spec["train_seeds"][1] + 1)
    test_seeds = range(spec["test_seeds"][0], spec["test_seeds"][1] + 1)
    try:
        return ladder(
            domain,
            split,
            sizes=spec["sizes"],
            per_size=spec["per_size"][split],
            seeds=train_seeds if split == "train" else test_seeds,
            train_seeds=train_seeds,
            train_per_size=spec["per_size"]["train"],
        )
    except LadderError as exc:
        raise UserError(f"--ladder: {exc}") from None
