"""A PDDL parser for typed STRIPS as the planning competitions write it.

Read: typing (with ``(either t1 t2)``), constants, negative preconditions and goals, equality
(``(= ?x ?y)``, ``(not (= ?x ?y))``), delete effects and action costs (``(increase (total-cost) N)``
or ``(increase (total-cost) (f ?x ?y))`` with ``(= (f a b) 5)`` in ``:init``; the simulator ignores
them and reports their sum). Refused with one line naming the construct, the file and the action:
ADL (``or``, ``imply``, ``exists``, ``forall``, ``when``), numeric conditions and effects other than
the total cost, derived predicates, durative actions.

Written for the four robotic-planning domains first. The maintained ``pddl`` package (0.5.1) reads the
same operators from every domain file of the tests (test_pddl_parser_crosscheck.py) but rejects the
benchmark's tyreworld file (types without a ``:requirements`` that names ``:typing``), and the simulator
needs what this parser gives besides: operators in file order, the line of an unbalanced parenthesis, and
refusals that name the construct, the file and the action. Sections are accepted in any order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

Atom = tuple[str, ...]  # ("at", "ball1", "rooma"); variables keep their leading "?"
Pair = tuple[str, str]  # the two terms of an equality
ADL = ("or", "imply", "exists", "forall", "when")
NUMERIC = ("increase", "decrease", "assign", "scale-up", "scale-down", ">", "<", ">=", "<=")
UNSUPPORTED_SECTIONS = {":derived": "derived predicates (:derived)", ":durative-action": "durative actions (:durative-action)",
                        ":constraints": "state trajectory constraints (:constraints)", ":process": "processes (:process)",
                        ":event": "events (:event)"}  # fmt: skip


class PDDLError(ValueError):
    """A PDDL file this parser cannot read; the message names the file and the problem."""


class UnsupportedPDDL(PDDLError):
    """Well-formed PDDL that uses a construct this simulator does not run (ADL, numeric fluents, ...)."""


@dataclass(frozen=True)
class Operator:
    name: str
    params: tuple[tuple[str, str], ...]  # (("?obj", "object"), ...); a type may be "(either a b)"
    pre_pos: tuple[Atom, ...]
    pre_neg: tuple[Atom, ...]
    add: tuple[Atom, ...]
    delete: tuple[Atom, ...]
    pre_eq: tuple[Pair, ...] = ()  # (= ?x ?y): the two terms name the same object
    pre_neq: tuple[Pair, ...] = ()  # (not (= ?x ?y))
    cost: Atom | None = None  # ("3",) or ("road-length", "?from", "?to"): what (increase (total-cost) ...) adds


@dataclass
class Domain:
    name: str
    types: dict[str, str] = field(default_factory=dict)  # type -> parent type
    constants: dict[str, str] = field(default_factory=dict)  # constant -> type
    predicates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> arg types
    operators: dict[str, Operator] = field(default_factory=dict)
    requirements: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()  # declared numeric functions (total-cost, road-length, ...)

    @property
    def has_costs(self) -> bool:
        return any(op.cost is not None for op in self.operators.values())

    def is_subtype(self, t: str, ancestor: str) -> bool:
        if ancestor.startswith("(either "):
            return any(self.is_subtype(t, a) for a in either_parts(ancestor))
        if t.startswith("(either "):  # an object declared of several types: any of them
            return any(self.is_subtype(p, ancestor) for p in either_parts(t))
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
    numeric: dict[Atom, float] = field(default_factory=dict)  # (= (road-length a b) 5) -> {("road-length", "a", "b"): 5.0}


def either_parts(t: str) -> tuple[str, ...]:
    """``"(either a b)"`` -> ``("a", "b")``."""
    return tuple(t.strip("()").split()[1:])


TOKEN = re.compile(r"\(|\)|\?[^\s()?]+|[^\s()?]+")


def tokenize(text: str) -> list[str]:
    # "?x" always starts a token: the benchmark barman file has "level?l1" with no space.
    return TOKEN.findall(re.sub(r";[^\n]*", " ", text).lower())


def _lines(text: str) -> list[int]:
    """The line of each token of :func:`tokenize` (comments blanked, line breaks kept)."""
    text = re.sub(r";[^\n]*", " ", text)
    starts = [m.start() for m in TOKEN.finditer(text)]
    breaks = [i for i, c in enumerate(text) if c == "\n"]
    out, k = [], 0
    for start in starts:
        while k < len(breaks) and breaks[k] < start:
            k += 1
        out.append(k + 1)
    return out


def to_tree(tokens: list[str], source: str, text: str | None = None):
    stack: list[list] = [[]]
    opened: list[int] = []  # token index of each open '('
    for i, tok in enumerate(tokens):
        if tok == "(":
            stack.append([])
            opened.append(i)
        elif tok == ")":
            if len(stack) == 1:
                where = f" at line {_lines(text)[i]}" if text is not None else ""
                raise PDDLError(f"{source}: unbalanced ')'{where}")
            done = stack.pop()
            opened.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    if len(stack) > 1:
        where = f" (the innermost opened at line {_lines(text)[opened[-1]]})" if text is not None else ""
        raise PDDLError(f"{source}: unbalanced parentheses, {len(stack) - 1} '(' never closed{where}")
    if len(stack[0]) != 1 or not isinstance(stack[0][0], list):
        raise PDDLError(f"{source}: expected one (define ...) expression")
    return stack[0][0]


def typed_list(items: list) -> list[tuple[str, str]]:
    """``a b - t c d - (either u v) e`` -> [(a, t), (b, t), (c, (either u v)), (d, (either u v)), (e, object)]."""
    out, pending, i = [], [], 0
    while i < len(items):
        tok = items[i]
        if tok == "-":
            t = items[i + 1]
            if isinstance(t, list):
                parts = [x for x in t[1:] if isinstance(x, str)]
                t = parts[0] if len(parts) == 1 else "(either " + " ".join(parts) + ")"
            out += [(name, t) for name in pending]
            pending = []
            i += 2
            continue
        pending.append(tok)
        i += 1
    return out + [(name, "object") for name in pending]


def show(expr) -> str:
    return "(" + " ".join(map(show, expr)) + ")" if isinstance(expr, list) else str(expr)


def _refuse(source: str, expr) -> UnsupportedPDDL:
    key = expr[0]
    what = "ADL" if key in ADL else "numeric fluents"
    return UnsupportedPDDL(f"{source}: '{key}' ({what}) is not supported, in {show(expr)[:80]}; this simulator runs typed STRIPS "
                           "with negative preconditions, equality and action costs")


@dataclass
class Condition:
    """A conjunction of literals, split by kind."""

    pos: list[Atom] = field(default_factory=list)
    neg: list[Atom] = field(default_factory=list)
    eq: list[Pair] = field(default_factory=list)
    neq: list[Pair] = field(default_factory=list)
    cost: list[Atom] = field(default_factory=list)  # effects only: what increases the total cost


def _equality(expr, source: str) -> Pair:
    if len(expr) != 3 or any(isinstance(x, list) for x in expr[1:]):
        raise UnsupportedPDDL(f"{source}: '=' compares two objects here, got {show(expr)} (numeric fluents are not supported)")
    return expr[1], expr[2]


def _cost(expr, source: str) -> Atom:
    """``(increase (total-cost) 1)`` -> ("1",); ``(increase (total-cost) (len ?a ?b))`` -> ("len", "?a", "?b")."""
    if len(expr) != 3 or expr[1] != ["total-cost"]:
        raise _refuse(source, expr)
    amount = expr[2]
    if isinstance(amount, list):
        if not amount or any(isinstance(x, list) for x in amount):
            raise _refuse(source, expr)
        return tuple(amount)
    try:
        float(amount)
    except ValueError:
        raise _refuse(source, expr) from None
    return (amount,)


def literals(expr, source: str, into: Condition | None = None) -> Condition:
    """A conjunction of atoms, negated atoms, (in)equalities and cost increases, split by kind."""
    out = into if into is not None else Condition()
    if not expr:
        return out
    if not isinstance(expr, list):
        raise PDDLError(f"{source}: expected a condition such as (and (at ball1 rooma)), got {expr!r}")
    key = expr[0]
    if key == "and":
        for sub in expr[1:]:
            literals(sub, source, out)
    elif key == "not":
        if len(expr) != 2:
            raise PDDLError(f"{source}: (not ...) takes one atom, got {show(expr)[:80]}")
        inner = expr[1]
        if isinstance(inner, list) and inner and inner[0] == "=":
            out.neq.append(_equality(inner, source))
        elif not isinstance(inner, list) or any(isinstance(x, list) for x in inner):
            if isinstance(inner, list) and inner and inner[0] in ADL + NUMERIC:
                raise _refuse(source, inner)
            raise PDDLError(f"{source}: only negated atoms are supported, got (not {show(inner)})")
        else:
            out.neg.append(tuple(inner))
    elif key == "=":
        out.eq.append(_equality(expr, source))
    elif key == "increase":
        out.cost.append(_cost(expr, source))
    elif key in ADL or key in NUMERIC:
        raise _refuse(source, expr)
    elif not isinstance(key, str) or any(isinstance(x, list) for x in expr):
        raise PDDLError(f"{source}: {show(expr)[:80]} is not an atom such as (at ball1 rooma)")
    else:
        out.pos.append(tuple(expr))
    return out


def _malformed(source: str, exc: Exception) -> PDDLError:
    """A (define ...) whose sections do not have the shape PDDL gives them (an IndexError or
    TypeError deep in the walk): one message naming the file, never a traceback."""
    return PDDLError(f"{source}: malformed PDDL ({type(exc).__name__}: {exc}); expected sections such as (:objects ...), (:init ...), (:goal ...)")


def _atom(expr, source: str, where: str) -> Atom:
    if not isinstance(expr, list) or not expr or any(isinstance(x, list) for x in expr):
        raise PDDLError(f"{source}: {where} holds {show(expr)}, not an atom such as (at ball1 rooma)")
    return tuple(expr)


def parse_domain(text: str, source: str = "<domain>") -> Domain:
    try:
        return _parse_domain(text, source)
    except (IndexError, TypeError, AttributeError, KeyError) as exc:
        raise _malformed(source, exc) from None


def _operator(section: list, source: str) -> Operator:
    name, body = section[1], section[2:]
    fields = {body[i]: body[i + 1] for i in range(0, len(body) - 1, 2)}
    where = f"{source} action {name}"
    params = tuple(typed_list(fields.get(":parameters", [])))
    pre = literals(fields.get(":precondition", []), where)
    if pre.cost:
        raise _refuse(where, ["increase"])
    eff = literals(fields.get(":effect", []), where)
    if eff.eq or eff.neq:
        raise PDDLError(f"{where}: an effect cannot be an equality")
    if len(eff.cost) > 1:
        raise UnsupportedPDDL(f"{where}: more than one (increase (total-cost) ...) in one effect is not supported")
    return Operator(name, params, tuple(pre.pos), tuple(pre.neg), tuple(eff.pos), tuple(eff.neg),
                    tuple(pre.eq), tuple(pre.neq), eff.cost[0] if eff.cost else None)  # fmt: skip


def _parse_domain(text: str, source: str) -> Domain:
    tree = to_tree(tokenize(text), source, text)
    if tree[0] != "define":
        raise PDDLError(f"{source}: not a (define ...) file")
    dom = Domain(name="")
    for section in tree[1:]:
        key = section[0]
        if key == "domain":
            dom.name = section[1]
        elif key in UNSUPPORTED_SECTIONS:
            raise UnsupportedPDDL(f"{source}: {UNSUPPORTED_SECTIONS[key]} are not supported")
        elif key == ":requirements":
            dom.requirements = tuple(section[1:])
        elif key == ":types":
            for name, parent in typed_list(section[1:]):
                dom.types[name] = parent
        elif key == ":constants":
            dom.constants.update(dict(typed_list(section[1:])))
        elif key == ":predicates":
            for pred in section[1:]:
                dom.predicates[pred[0]] = tuple(t for _, t in typed_list(pred[1:]))
        elif key == ":functions":
            dom.functions = tuple(f[0] for f in section[1:] if isinstance(f, list) and f)
        elif key == ":action":
            dom.operators[section[1]] = _operator(section, source)
    if not dom.name or not dom.operators:
        raise PDDLError(f"{source}: a domain needs a name and at least one action")
    for op in dom.operators.values():
        _check_operator(dom, op, source)
    return dom


def _check_operator(dom: Domain, op: Operator, source: str) -> None:
    """Every atom of ``op`` uses a declared predicate with its arity, over its parameters and the constants:
    a typo would otherwise make an action that never applies, silently."""
    where, params = f"{source} action {op.name}", {p for p, _ in op.params}
    for atom in op.pre_pos + op.pre_neg + op.add + op.delete:
        if atom[0] not in dom.predicates:
            raise PDDLError(f"{where}: unknown predicate {atom[0]!r} in {show(list(atom))}")
        if len(atom) - 1 != len(dom.predicates[atom[0]]):
            raise PDDLError(f"{where}: {atom[0]!r} takes {len(dom.predicates[atom[0]])} argument(s), {show(list(atom))} gives {len(atom) - 1}")
    for term in {t for atom in op.pre_pos + op.pre_neg + op.add + op.delete for t in atom[1:]} | {t for pair in op.pre_eq + op.pre_neq for t in pair}:
        if term.startswith("?") and term not in params:
            raise PDDLError(f"{where}: variable {term} is not a parameter of the action")
        if not term.startswith("?") and term not in dom.constants:
            raise PDDLError(f"{where}: {term!r} is neither a parameter nor a declared constant")


def parse_problem(text: str, source: str = "<problem>") -> Problem:
    try:
        return _parse_problem(text, source)
    except (IndexError, TypeError, AttributeError, KeyError) as exc:
        raise _malformed(source, exc) from None


def _numeric(atom, source: str) -> tuple[Atom, float] | None:
    """``(= (road-length a b) 5)`` -> (("road-length", "a", "b"), 5.0)."""
    if len(atom) != 3 or not isinstance(atom[1], list) or isinstance(atom[2], list):
        raise PDDLError(f"{source}: :init holds {show(atom)}, expected (= (function args...) number)")
    try:
        return tuple(atom[1]), float(atom[2])
    except ValueError:
        raise PDDLError(f"{source}: :init holds {show(atom)}, whose value is not a number") from None


def _parse_problem(text: str, source: str) -> Problem:
    tree = to_tree(tokenize(text), source, text)
    if tree[0] != "define":
        raise PDDLError(f"{source}: not a (define ...) file")
    name, domain_name, objects, init, numeric, goal = "", "", {}, set(), {}, Condition()
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
                    fact, value = _numeric(atom, source)
                    numeric[fact] = value
                else:
                    init.add(_atom(atom, source, ":init"))
        elif key == ":goal":
            goal = literals(section[1], f"{source} goal")
            if goal.eq or goal.neq or goal.cost:
                raise UnsupportedPDDL(f"{source}: the goal may hold atoms and negated atoms only")
        elif key == ":constraints":
            raise UnsupportedPDDL(f"{source}: {UNSUPPORTED_SECTIONS[key]} are not supported")
    if not goal.pos and not goal.neg:
        raise PDDLError(f"{source}: the problem has no goal")
    return Problem(name, domain_name, objects, frozenset(init), tuple(goal.pos), tuple(goal.neg), numeric)


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
