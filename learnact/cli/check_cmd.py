"""``run.py check PATH``: can LearnAct run on this PDDL domain folder? Parses the domain and every problem,
estimates each problem's ground actions against the budget, solves the smallest training problem and
replays the plan through the environment, and derives the prompt material. Prints what is supported and
the sizes; a malformed or unsupported domain gets one line naming the file and the construct, exit 2."""

from __future__ import annotations

import sys
import time

from environments import DataNotFoundError
from environments.pddl.derived import MaterialError, folder_material, smallest_training_problem, solve
from environments.pddl.env import GroundingBudgetError, check_budget, ground_budget, load_task, read_problem
from environments.pddl.folder import DomainFolder, make_folder_env, open_folder
from environments.pddl.parser import Domain, parse_domain
from learnact.settings.defaults import DEFAULTS

from .errors import OneLineParser


def features(domain: Domain) -> list[str]:
    """The PDDL features the domain uses, beyond plain STRIPS."""
    ops = list(domain.operators.values())
    used = [
        ("typing", bool(domain.types) or any(t != "object" for op in ops for _, t in op.params)),
        (
            "either types",
            any(t.startswith("(either") for op in ops for _, t in op.params)
            or any(t.startswith("(either") for args in domain.predicates.values() for t in args),
        ),
        ("constants", bool(domain.constants)),
        ("negative preconditions", any(op.pre_neg for op in ops)),
        ("equality", any(op.pre_eq or op.pre_neq for op in ops)),
        ("action costs (reported per episode, ignored by the simulator)", domain.has_costs),
    ]
    return [name for name, on in used if on]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _problem_lines(folder: DomainFolder, budget: int) -> tuple[list[str], dict[str, str]]:
    """One line per problem (objects, facts, estimated ground actions) and the refused ones with why."""
    lines, refused = [], {}
    for name, path in folder.problems().items():
        try:
            ground = load_task(folder.env_name, folder.domain_file, str(path), read_problem(path))
            size = check_budget(ground, str(path), budget)
            lines.append(
                f"  {name}: {len(ground.problem.objects)} objects, {len(ground.init)} initial facts, "
                f"{_count(len(ground.goal_pos) + len(ground.goal_neg), 'goal fact')}, ~{size:,} ground actions"
            )
        except (ValueError, DataNotFoundError) as exc:
            refused[name] = str(exc)
            lines.append(f"  {name}: refused: {exc}")
    return lines, refused


def check_folder(spec: str, budget: int) -> int:
    folder = open_folder(spec if spec.startswith("pddl:") else f"pddl:{spec}")
    print(f"domain file: {folder.domain_file}")
    domain = parse_domain(
        read_problem(folder.domain_file), str(folder.domain_file)
    )  # malformed or unsupported: stop here
    lines, refused = _problem_lines(folder, budget)
    print(f"domain: {domain.name}; {_count(len(domain.operators), 'action')}: {', '.join(domain.operators)}")
    print("supported: STRIPS" + "".join(f", {f}" for f in features(domain)))
    print(
        "refused at load where used: ADL (or, imply, exists, forall, when), numeric conditions and effects other than "
        "the total cost, derived predicates, durative actions"
    )
    split = folder.split()
    print(
        f"problems: {len(lines)} (budget {budget:,} ground actions); split from {split['source']}: "
        f"train {', '.join(split['train'])}; test {', '.join(split['test']) or '(none)'}"
    )
    print("\n".join(lines))
    smallest = smallest_training_problem(folder)
    if smallest in refused:
        print(f"error: the smallest training problem {smallest} is refused: {refused[smallest]}", file=sys.stderr)
        return 2
    env = make_folder_env(folder.env_name, smallest, ground_budget=budget)
    started = time.perf_counter()
    plan, planner = solve(env)
    took = time.perf_counter() - started
    _, info = env.reset()
    for call in plan:
        _, _, _, _, info = env.step(call)
    if not info["success"]:
        print(f"error: the {planner} plan for {smallest} does not reach the goal in the environment", file=sys.stderr)
        return 2
    print(
        f"solved {smallest}: {_count(len(plan), 'step')} by {planner} in {took:.1f} s, cost {info['cost']:g}; replayed to the goal"
    )
    material = folder_material(folder.env_name)
    print(
        f"prompt material: instruction {material.instruction_source} ({len(material.instruction):,} characters); "
        f"example {material.example_source} ({material.example.count('Action: ')} actions, {len(material.example):,} characters)"
    )
    print("ok" if not refused else f"ok, {len(refused)} problem(s) refused")
    return 0


def check_command(argv: list[str]) -> int:
    p = OneLineParser(prog="run.py check", description="Check that LearnAct can run on a PDDL domain folder")
    p.add_argument("path", help="a folder with domain.pddl and problem files, or a domain file (pddl:PATH also works)")
    p.add_argument(
        "--budget",
        type=int,
        default=None,
        help=f"ground actions a problem may have (default $LEARNACT_GROUND_BUDGET or {DEFAULTS.ground_budget:,})",
    )
    args = p.parse_args(argv)
    if args.budget is not None and args.budget < 1:
        p.error(f"--budget must be positive, got {args.budget}")
    try:
        return check_folder(args.path, args.budget or ground_budget())
    except (ValueError, DataNotFoundError, MaterialError, GroundingBudgetError, OSError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
