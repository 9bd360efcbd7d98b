"""Grounded STRIPS semantics: applicability with reasons, successor states, valid actions.

States are frozensets of ground atoms (hashable, so per-state results can be cached; Python
caches a frozenset's hash). Operators are never grounded up front: the valid actions of a state
are found by joining a few "anchor" preconditions of each operator against the state's facts
indexed by predicate, and each ground action is built once, on first sight, with its
preconditions and effects as frozensets so that applicability is one subset test. Learning
replays many episodes from the same initial states, so valid actions and state descriptions
are cached per state (bounded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .parser import Atom, Domain, Operator, Problem

State = frozenset  # of Atom
CACHE_LIMIT = 5_000  # states per task before its per-state caches are dropped (bounds memory)


def call_name(op_name: str) -> str:
    """PDDL operator name -> primitive name: ``pour-shot-to-clean-shaker`` -> ``pour_shot_to_clean_shaker``."""
    return op_name.replace("-", "_")


@dataclass(frozen=True, eq=False)
class GroundAction:
    """One operator with its arguments, preconditions and effects made concrete."""

    op: Operator
    args: tuple[str, ...]
    call: str  # canonical call text, e.g. "pick('ball1', 'rooma', 'left')"
    pre: frozenset
    pre_neg: frozenset
    add: frozenset
    delete: frozenset
    cost: float = 1.0  # the action's cost where the domain has costs, else 1 (PDDL: plan length)

    def apply(self, state: State) -> State:
        # STRIPS: deletes first, then adds (an atom both deleted and added stays true).
        return (state - self.delete) | self.add


Matcher = Callable[[dict, frozenset], list]


class _MatcherWriter:
    """Writes the source of one operator's matcher line by line (see :func:`compile_matcher`)."""

    def __init__(self, op: Operator, static: set[str], type_sets: dict[str, frozenset], all_objects: frozenset):
        self.names = [p for p, _ in op.params]
        # (= a b) and (not (= a b)) as ("==" | "!=", a, b), tested once both terms are bound
        self.pairs = [("==", a, b) for a, b in op.pre_eq] + [("!=", a, b) for a, b in op.pre_neq]
        self.var = {p: f"v{i}" for i, p in enumerate(self.names)}
        self.ptype = dict(op.params)
        self.static, self.type_sets, self.all_objects = static, type_sets, all_objects
        self.remaining = list(op.pre_pos)
        self.bound: set[str] = set()
        self.lines = ["def match(index, state):", "    out = []"]
        self.depth = 1

    def term(self, t: str) -> str:
        return self.var[t] if t in self.var else repr(t)

    def emit(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def skip(self) -> str:  # leave the current candidate: inside a loop continue, at the top stop
        return "continue" if self.depth > 1 else "return out"

    def emit_checks(self) -> None:
        """A membership test for every precondition whose parameters are all bound by now."""
        for atom in [a for a in self.remaining if all(t in self.bound for t in a[1:] if t in self.var)]:
            self.remaining.remove(atom)
            self.emit(f"if ({', '.join(map(self.term, atom))},) not in state: {self.skip()}")
        for pair in [p for p in self.pairs if all(t in self.bound or t not in self.var for t in p[1:])]:
            self.pairs.remove(pair)
            negated = "!=" if pair[0] == "==" else "=="
            self.emit(f"if {self.term(pair[1])} {negated} {self.term(pair[2])}: {self.skip()}")

    def emit_type_check(self, p: str) -> None:
        allowed = self.type_sets.get(self.ptype[p], frozenset())
        if allowed != self.all_objects:
            self.emit(f"if {self.var[p]} not in type_sets[{self.ptype[p]!r}]: {self.skip()}")

    def rank(self, a: Atom) -> tuple[bool, int, int]:
        """The next loop: a changing predicate (few facts) before a static one, then the atom sharing most
        parameters with those already bound (a filter more than a generator)."""
        vars_ = {t for t in a[1:] if t in self.var}
        return (a[0] not in self.static, len(vars_ & self.bound), -len(vars_ - self.bound))

    def emit_fact_loop(self) -> None:
        """A loop over the state's facts of the best-ranked remaining precondition, binding its new parameters."""
        atom = max(self.remaining, key=self.rank)
        self.remaining.remove(atom)
        f = f"f{self.depth}"
        self.emit(f"for {f} in index.get({atom[0]!r}, ()):")
        self.depth += 1
        self.emit(f"if len({f}) != {len(atom)}: continue")
        fresh = []
        for k, t in enumerate(atom[1:], 1):
            if t in self.var and t not in self.bound and t not in fresh:
                self.emit(f"{self.var[t]} = {f}[{k}]")
                fresh.append(t)
            else:
                self.emit(f"if {f}[{k}] != {self.term(t)}: continue")
        self.bound.update(fresh)
        for p in fresh:
            self.emit_type_check(p)

    def emit_type_loop(self) -> None:
        """A loop over the objects of the type of the first parameter no precondition binds."""
        p = next(p for p in self.names if p not in self.bound)
        self.emit(f"for {self.var[p]} in type_sets.get({self.ptype[p]!r}, ()):")
        self.depth += 1
        self.bound.add(p)


def compile_matcher(
    op: Operator, static: set[str], type_sets: dict[str, frozenset], all_objects: frozenset, distinct: bool = False
) -> Matcher:
    """Python code that lists the argument tuples of ``op`` applicable in a state.

    The positive preconditions become nested loops over the state's facts of each predicate
    (``index[pred]``), ordered so that each loop binds new parameters as late as possible and
    every fully bound precondition is a set-membership test placed right after the loop that
    binds its last parameter; parameters no precondition mentions loop over their type's objects.
    ``distinct``: distinct parameters must take distinct objects (pddlgym's rule, kept for the four
    benchmark domains); PDDL itself lets two parameters name one object.
    Generated code, because this is the hot path and plain nested loops are what CPython runs
    fastest; predicate names and constants enter it only through ``repr``.
    """
    w = _MatcherWriter(op, static, type_sets, all_objects)
    w.emit_checks()
    while w.remaining or len(w.bound) < len(w.names):
        if w.remaining:
            w.emit_fact_loop()
        else:
            w.emit_type_loop()
        w.emit_checks()
    for atom in op.pre_neg:
        w.emit(f"if ({', '.join(map(w.term, atom))},) in state: {w.skip()}")
    if distinct and len(w.names) > 1:  # see GroundTask.repeated_args
        w.emit(f"if len({{{', '.join(w.var[p] for p in w.names)}}}) != {len(w.names)}: {w.skip()}")
    w.emit(f"out.append(({''.join(w.var[p] + ', ' for p in w.names)}))")
    w.lines.append("    return out")
    source = "\n".join(w.lines)
    namespace: dict = {"type_sets": type_sets}
    exec(compile(source, f"<match {op.name}>", "exec"), namespace)  # noqa: S102 - generated above
    match = namespace["match"]
    match.source = source  # for debugging: print(task.matchers[name].source)
    return match


class GroundTask:
    """A domain and a problem: objects, initial state, goal, and the cached ground actions."""

    def __init__(
        self, domain: Domain, problem: Problem, describe: Callable[[State], str] | None = None, distinct: bool = False
    ):
        self.domain = domain
        self.problem = problem
        self.distinct = distinct
        self.objects: dict[str, str] = {**domain.constants, **problem.objects}
        types = set(self.objects.values()) | set(domain.types) | set(domain.types.values()) | {"object"}
        types |= {t for op in domain.operators.values() for _, t in op.params}
        self.objects_of_type: dict[str, tuple[str, ...]] = {
            t: tuple(sorted(o for o, ot in self.objects.items() if domain.is_subtype(ot, t))) for t in types
        }
        self._type_sets = {t: frozenset(objs) for t, objs in self.objects_of_type.items()}
        self.init: State = frozenset(problem.init)
        self.goal_pos = problem.goal_pos
        self.goal_neg = problem.goal_neg
        self._goal_pos_set = frozenset(problem.goal_pos)
        changing = {a[0] for op in domain.operators.values() for a in op.add + op.delete}
        self.changing_predicates = frozenset(changing)  # the others hold or fail for the whole episode
        static = set(domain.predicates) - changing
        all_objects = frozenset(self.objects)
        self.matchers: dict[str, Matcher] = {
            name: compile_matcher(op, static, self._type_sets, all_objects, distinct)
            for name, op in domain.operators.items()
        }
        self._ground: dict[tuple[str, tuple[str, ...]], GroundAction] = {}
        self._valid_cache: dict[State, dict[str, GroundAction]] = {}
        self._describe = describe
        self._text_cache: dict[State, str] = {}

    def __reduce__(self):
        # The compiled matchers cannot be pickled; rebuild them (and empty caches) on load.
        return (GroundTask, (self.domain, self.problem, self._describe, self.distinct))

    # ------------------------------------------------------------ sizes

    def param_pool(self, op: Operator, param: str, ptype: str) -> tuple[str, ...]:
        """Objects a parameter can take: its PDDL type, narrowed by the operator's unary preconditions on
        predicates no operator changes (untyped domains such as gripper type with ``(ball ?obj)``)."""
        pool = self.objects_of_type.get(ptype, ())
        for atom in op.pre_pos:
            if len(atom) == 2 and atom[1] == param and atom[0] not in self.changing_predicates:
                pool = tuple(o for o in pool if (atom[0], o) in self.init)
        return pool

    def size_estimate(self) -> dict[str, int]:
        """Per operator, the well-typed argument tuples (an upper bound of its ground actions), without grounding."""
        out = {}
        for name, op in self.domain.operators.items():
            n = 1
            for param, ptype in op.params:
                n *= len(self.param_pool(op, param, ptype))
            out[name] = n
        return out

    # ------------------------------------------------------------ single actions

    def ground(self, op: Operator, args: tuple[str, ...]) -> GroundAction:
        key = (op.name, args)
        action = self._ground.get(key)
        if action is None:
            binding = {p: a for (p, _), a in zip(op.params, args)}

            def concrete(atoms) -> frozenset:
                return frozenset((a[0], *(binding.get(t, t) for t in a[1:])) for a in atoms)

            call = f"{call_name(op.name)}({', '.join(repr(a) for a in args)})"
            action = GroundAction(
                op,
                args,
                call,
                concrete(op.pre_pos),
                concrete(op.pre_neg),
                concrete(op.add),
                concrete(op.delete),
                self._cost(op, binding),
            )
            self._ground[key] = action
        return action

    def _cost(self, op: Operator, binding: dict[str, str]) -> float:
        """What the action adds to the total cost: its (increase (total-cost) ...) amount, 0 where it has
        none in a domain with costs (a numeric fact missing from :init counts 0), 1 in a domain without costs."""
        if not self.domain.has_costs:
            return 1.0
        if op.cost is None:
            return 0.0
        if len(op.cost) == 1:  # a number, or a function without arguments such as (fuel-cost)
            try:
                return float(op.cost[0])
            except ValueError:
                pass
        return self.problem.numeric.get((op.cost[0], *(binding.get(t, t) for t in op.cost[1:])), 0.0)

    def broken_equalities(self, op: Operator, args: tuple[str, ...]) -> list[str]:
        """The (in)equalities of ``op``'s precondition that ``args`` break, as text."""
        binding = {p: a for (p, _), a in zip(op.params, args)}
        out = [
            f"{binding.get(a, a)} must be {binding.get(b, b)}"
            for a, b in op.pre_eq
            if binding.get(a, a) != binding.get(b, b)
        ]
        out += [
            f"{binding.get(a, a)} must differ from {binding.get(b, b)}"
            for a, b in op.pre_neq
            if binding.get(a, a) == binding.get(b, b)
        ]
        return out

    def check(self, state: State, op: Operator, args: tuple[str, ...]) -> tuple[list[Atom], list[Atom]]:
        """Unmet preconditions of ``op(args)``: (positive atoms missing, negative atoms present),
        in the operator's precondition order (so explanations read like the domain file)."""
        binding = {p: a for (p, _), a in zip(op.params, args)}
        ground = lambda atom: (atom[0], *(binding.get(t, t) for t in atom[1:]))  # noqa: E731
        missing = [g for g in map(ground, op.pre_pos) if g not in state]
        present = [g for g in map(ground, op.pre_neg) if g in state]
        return missing, present

    def type_errors(self, op: Operator, args: tuple[str, ...]) -> list[str]:
        out = []
        for (param, ptype), arg in zip(op.params, args):
            otype = self.objects.get(arg)
            if otype is not None and not self.domain.is_subtype(otype, ptype):
                out.append(f"{arg} is a {otype}, but {param[1:]} must be a {ptype}")
        return out

    def repeated_args(self, args: tuple[str, ...]) -> list[str]:
        """Objects given for more than one parameter, where the task forbids them (``distinct``). Like
        pddlgym, which the reference implementation runs on, the four benchmark domains make distinct
        parameters take distinct objects: no ``move('rooma', 'rooma')`` (none of them needs a repeated
        object). Any other domain follows PDDL: a repeated object is allowed unless the domain says
        ``(not (= ?x ?y))``."""
        return sorted({a for a in args if args.count(a) > 1}) if self.distinct else []

    def apply(self, state: State, op: Operator, args: tuple[str, ...]) -> State:
        return self.ground(op, args).apply(state)

    # ------------------------------------------------------------ goal

    def goal_share(self, state: State) -> float:
        total = len(self.goal_pos) + len(self.goal_neg)
        if not total:
            return 1.0
        met = len(self._goal_pos_set & state) + sum(1 for a in self.goal_neg if a not in state)
        return met / total

    def is_goal(self, state: State) -> bool:
        return self._goal_pos_set <= state and not any(a in state for a in self.goal_neg)

    # ------------------------------------------------------------ per-state results

    def describe(self, state: State) -> str:
        """The state's text (from the ``describe`` function given at construction), cached."""
        text = self._text_cache.get(state)
        if text is None:
            if len(self._text_cache) > CACHE_LIMIT:
                self._text_cache.clear()
            text = self._text_cache[state] = self._describe(state) if self._describe else str(sorted(state))
        return text

    def valid_actions(self, state: State) -> dict[str, GroundAction]:
        """The applicable ground actions of ``state`` keyed by call text, sorted by call text."""
        cached = self._valid_cache.get(state)
        if cached is not None:
            return cached
        index: dict[str, list[Atom]] = defaultdict(list)
        for fact in state:
            index[fact[0]].append(fact)
        found: dict[str, GroundAction] = {}
        for name, op in self.domain.operators.items():
            for args in self.matchers[name](index, state):
                action = self.ground(op, args)
                found[action.call] = action
        result = dict(sorted(found.items()))
        if len(self._valid_cache) > CACHE_LIMIT:  # bound memory on very long explorations
            self._valid_cache.clear()
        self._valid_cache[state] = result
        return result

    def clear_caches(self) -> None:
        """Forget per-state results and ground actions (benchmarks use this to measure cold runs)."""
        self._ground.clear()
        self._valid_cache.clear()
        self._text_cache.clear()
