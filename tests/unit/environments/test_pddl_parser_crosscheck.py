"""Our parser against the maintained ``pddl`` package (AI-Planning, MIT): on the 18 domains of our own (14 that
pyperplan reads, 4 with negative preconditions, equality and action costs) and our 4 built-in domain files, both
read the same parameters and types, preconditions, equalities, effects and costs. Why ours stays: ``pddl`` refuses
files the benchmark ships (tyreworld declares types without ``:typing``; see test_pddl_parser.py), and the simulator
needs what ours keeps (the operators in file order, the line of an unbalanced parenthesis, refusals that name
the construct, the file and the action)."""

from __future__ import annotations

import re

import pytest
from fixtures.pddl_domains import all_folders, extended_folders

from environments.pddl.env import OWN_DOMAINS
from environments.pddl.parser import either_parts, parse_domain

pddl = pytest.importorskip("pddl", reason="the pddl package is the cross-check (pip install -e .[dev])")


def terms(text: str) -> tuple[str, ...]:
    return tuple(text.replace("(", " ").replace(")", " ").split())


def theirs(action) -> dict:
    """One ``pddl`` action in our Operator's terms."""
    out = {
        "params": {f"?{p.name}": frozenset(p.type_tags) for p in action.parameters},
        "pre_pos": set(),
        "pre_neg": set(),
        "pre_eq": set(),
        "pre_neq": set(),
        "add": set(),
        "delete": set(),
        "cost": None,
    }
    for part, conditions in (("pre", action.precondition), ("eff", action.effect)):
        parts = (
            conditions.operands
            if type(conditions).__name__ == "And"
            else [conditions]
            if conditions is not None
            else []
        )
        for o in parts:
            kind, inner = type(o).__name__, getattr(o, "argument", None)
            if kind == "Increase":
                amount = re.fullmatch(r"\(increase \(total-cost\) (.+)\)", str(o))[1]
                out["cost"] = terms(amount)
            elif kind == "EqualTo":
                out["pre_eq"].add(terms(str(o))[1:])
            elif kind == "Not" and type(inner).__name__ == "EqualTo":
                out["pre_neq"].add(terms(str(inner))[1:])
            elif kind == "Not":
                out["pre_neg" if part == "pre" else "delete"].add(terms(str(inner)))
            else:
                out["pre_pos" if part == "pre" else "add"].add(terms(str(o)))
    return out


def ours(op) -> dict:
    def types(t: str) -> frozenset:
        return (
            frozenset(either_parts(t))
            if t.startswith("(either")
            else (frozenset() if t == "object" else frozenset({t}))
        )

    return {
        "params": {p: types(t) for p, t in op.params},
        "pre_pos": set(op.pre_pos),
        "pre_neg": set(op.pre_neg),
        "pre_eq": set(op.pre_eq),
        "pre_neq": set(op.pre_neq),
        "add": set(op.add),
        "delete": set(op.delete),
        "cost": op.cost,
    }


def domain_files(tmp_path) -> list:
    folders = {**all_folders(tmp_path), **{f"x{k}": v for k, v in extended_folders(tmp_path / "extended").items()}}
    return [f / "domain.pddl" for f in folders.values()] + [
        OWN_DOMAINS / f"{d}.pddl" for d in ("gripper", "blockworld", "barman", "tyreworld")
    ]


def test_both_parsers_read_the_same_operators(tmp_path):
    files = domain_files(tmp_path)
    assert len(files) == 22
    for path in files:
        mine = parse_domain(path.read_text(), str(path))
        other = pddl.parse_domain(path)
        assert {a.name for a in other.actions} == set(mine.operators), path
        for action in other.actions:
            assert ours(mine.operators[action.name]) == theirs(action), (path, action.name)
        assert set(mine.constants) == {c.name for c in other.constants}, path
