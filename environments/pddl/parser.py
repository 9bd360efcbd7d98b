"""A small STRIPS PDDL parser: typing, constants, negative preconditions, delete effects.

Written for the four robotic-planning domains (gripper, blockworld, barman, tyreworld). The
maintained ``pddl`` package rejects the benchmark's tyreworld file (``:constants`` after
``:predicates``, no ``:requirements``), so sections are accepted in any order here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

Atom = tuple[str, ...]  # ("at", "ball1", "rooma"); variables keep their leading "?"


class PDDLError(ValueError):
    """A PDDL file this parser cannot read; the message names the file and the problem."""


@dataclass(frozen=True)
class Operator:
    name: str
    params: tuple[tuple[str, str], ...]  # (("?obj", "object"), ...)
    pre_pos: tuple[Atom, ...]
    pre_neg: tuple[Atom, ...]
    add: tuple[Atom, ...]
    delete: tuple[Atom, ...]


@dataclass
class Domain:
    name: str
    types: dict[str, str] = field(default_factory=dict)  # type -> parent type
    constants: dict[str, str] = field(default_factory=dict)  # constant -> type
    predicates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> arg types
    operators: dict[str, Operator] = field(default_factory=dict)

    def is_subtype(self, t: str, ancestor: str) -> bool:
        seen = set()
        while t not in seen:
            if t == ancestor or ancestor == "object":
                return True
            seen.add(t)
            t = self.types.get(t, "object")
        return False


@dataclass
class Problem:
    name: str
    domain_name: str
    objects: dict[str, str]  # object -> type
    init: frozenset[Atom]
    goal_pos: tuple[Atom, ...]
    goal_neg: tuple[Atom, ...] = ()


def tokenize(text: str) -> list[str]:
    text = re.sub(r";[^\n]*", " ", text).lower()
    # "?x" always starts a token: the benchmark barman file has "level?l1" with no space.
    return re.findall(r"\(|\)|\?[^\s()?]+|[^\s()?]+", text)


def to_tree(tokens: list[str], source: str):
    stack: list[list] = [[]]
    for tok in tokens:
        if tok == "(":
            stack.append([])
        elif tok == ")":
            if len(stack) == 1:
                raise PDDLError(f"{source}: unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    if len(stack) > 1:
        raise PDDLError(f"{source}: unbalanced parentheses, {len(stack) - 1} '(' never closed")
    if len(stack[0]) != 1 or not isinstance(stack[0][0], list):
        raise PDDLError(f"{source}: expected one (define ...) expression")
    return stack[0][0]


def typed_list(items: list) -> list[tuple[str, str]]:
    """``a b - t c`` -> [(a, t), (b, t), (c, object)]."""
    out, pending, i = [], [], 0
    while i < len(items):
        tok = items[i]
        if tok == "-":
            t = items[i + 1]
            if isinstance(t, list):  # (either ...) is not STRIPS; take the first type
                t = t[1]
            out += [(name, t) for name in pending]
            pending = []
            i += 2
            continue
        pending.append(tok)
        i += 1
    return out + [(name, "object") for name in pending]


def literals(expr, source: str) -> tuple[list[Atom], list[Atom]]:
    """A conjunction of atoms and negated atoms -> (positive, negative)."""
    if not expr:
        return [], []
    if not isinstance(expr, list):
        raise PDDLError(f"{source}: expected a condition such as (and (at ball1 rooma)), got {expr!r}")
    if expr[0] == "and":
        pos, neg = [], []
        for sub in expr[1:]:
            p, n = literals(sub, source)
            pos += p
            neg += n
        return pos, neg
    if expr[0] == "not":
        inner = expr[1]
        if not isinstance(inner, list) or any(isinstance(x, list) for x in inner):
            raise PDDLError(f"{source}: only negated atoms are supported, got (not {inner})")
        return [], [tuple(inner)]
    if any(isinstance(x, list) for x in expr) or expr[0] in ("or", "forall", "exists", "when", "imply"):
        raise PDDLError(f"{source}: '{expr[0]}' is not STRIPS; this simulator supports conjunctions of literals")
    return [tuple(expr)], []


def _malformed(source: str, exc: Exception) -> PDDLError:
    """A (define ...) whose sections do not have the shape PDDL gives them (an IndexError or
    TypeError deep in the walk): one message naming the file, never a traceback."""
    return PDDLError(f"{source}: malformed PDDL ({type(exc).__name__}: {exc}); expected sections such as (:objects ...), (:init ...), (:goal ...)")


def _atom(expr, source: str, where: str) -> Atom:
    if not isinstance(expr, list) or not expr or any(isinstance(x, list) for x in expr):
        shown = expr if isinstance(expr, str) else "(" + " ".join(map(str, expr)) + ")"
        raise PDDLError(f"{source}: {where} holds {shown}, not an atom such as (at ball1 rooma)")
    return tuple(expr)


def parse_domain(text: str, source: str = "<domain>") -> Domain:
    try:
        return _parse_domain(text, source)
    except (IndexError, TypeError, AttributeError, KeyError) as exc:
        raise _malformed(source, exc) from None


def _parse_domain(text: str, source: str) -> Domain:
    tree = to_tree(tokenize(text), source)
    if tree[0] != "define":
        raise PDDLError(f"{source}: not a (define ...) file")
    dom = Domain(name="")
    for section in tree[1:]:
        key = section[0]
        if key == "domain":
            dom.name = section[1]
        elif key == ":types":
            for name, parent in typed_list(section[1:]):
                dom.types[name] = parent
        elif key == ":constants":
            dom.constants.update(dict(typed_list(section[1:])))
        elif key == ":predicates":
            for pred in section[1:]:
                dom.predicates[pred[0]] = tuple(t for _, t in typed_list(pred[1:]))
        elif key == ":action":
            name, body = section[1], section[2:]
            fields = {body[i]: body[i + 1] for i in range(0, len(body) - 1, 2)}
            params = tuple(typed_list(fields.get(":parameters", [])))
            pre_pos, pre_neg = literals(fields.get(":precondition", []), f"{source} action {name}")
            add, delete = literals(fields.get(":effect", []), f"{source} action {name}")
            dom.operators[name] = Operator(name, params, tuple(pre_pos), tuple(pre_neg), tuple(add), tuple(delete))
    if not dom.name or not dom.operators:
        raise PDDLError(f"{source}: a domain needs a name and at least one action")
    return dom


def parse_problem(text: str, source: str = "<problem>") -> Problem:
    try:
        return _parse_problem(text, source)
    except (IndexError, TypeError, AttributeError, KeyError) as exc:
        raise _malformed(source, exc) from None


def _parse_problem(text: str, source: str) -> Problem:
    tree = to_tree(tokenize(text), source)
    if tree[0] != "define":
        raise PDDLError(f"{source}: not a (define ...) file")
    name, domain_name, objects, init, goal = "", "", {}, set(), ([], [])
    for section in tree[1:]:
        key = section[0]
        if key == "problem":
            name = section[1]
        elif key == ":domain":
            domain_name = section[1]
        elif key == ":objects":
            objects.update(dict(typed_list(section[1:])))
        elif key == ":init":
            for atom in section[1:]:
                if isinstance(atom, list) and atom and atom[0] == "=":
                    continue  # numeric fluents are not STRIPS; none of our domains use them
                init.add(_atom(atom, source, ":init"))
        elif key == ":goal":
            goal = literals(section[1], f"{source} goal")
    if not goal[0] and not goal[1]:
        raise PDDLError(f"{source}: the problem has no goal")
    return Problem(name, domain_name, objects, frozenset(init), tuple(goal[0]), tuple(goal[1]))


def check_problem(domain: Domain, problem: Problem, source: str = "<problem>") -> None:
    """Every fact of the problem's :init and :goal uses a predicate of ``domain`` with its arity, over
    declared objects or constants: a typo would otherwise give a goal no plan reaches, silently."""
    objects = {**domain.constants, **problem.objects}
    faults: list[str] = []
    for where, atoms in ((":init", sorted(problem.init)), (":goal", list(problem.goal_pos) + list(problem.goal_neg))):
        for atom in atoms:
            pred, args, shown = atom[0], atom[1:], "(" + " ".join(atom) + ")"
            if pred not in domain.predicates:
                faults.append(f"unknown predicate {pred!r} in {where} {shown}")
            elif len(args) != len(domain.predicates[pred]):
                faults.append(f"{pred!r} takes {len(domain.predicates[pred])} argument(s), {where} {shown} gives {len(args)}")
            else:
                unknown = [a for a in args if a not in objects]
                if unknown:
                    faults.append(f"undeclared object {unknown[0]!r} in {where} {shown}")
    if faults:
        more = f" (and {len(faults) - 3} more)" if len(faults) > 3 else ""
        raise PDDLError(f"{source}: " + "; ".join(faults[:3]) + more + f"; domain {domain.name!r} has predicates {', '.join(sorted(domain.predicates))}")
