"""The PDDL parser: all benchmark files load (tyreworld's odd layout included), the shipped
domain files mean exactly what the benchmark's mean, and bad input is a clear error."""
from __future__ import annotations

import pytest

from environments.data import find_data_dir
from environments.pddl.env import OWN_DOMAINS
from environments.pddl.parser import PDDLError, parse_domain, parse_problem, tokenize

DOMAINS = ("gripper", "blockworld", "barman", "tyreworld")
DATA = find_data_dir(required="pddl/gripper")
needs_data = pytest.mark.skipif(DATA is None, reason="benchmark data (../shared/data/pddl) is absent")


@needs_data
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_benchmark_problem_parses(domain):
    dom = parse_domain((DATA / "pddl" / f"{domain}.pddl").read_text(), domain)
    problems = sorted((DATA / "pddl" / domain).glob("*.pddl"))
    assert problems
    for path in problems:
        prob = parse_problem(path.read_text(), str(path))
        assert prob.domain_name == dom.name and prob.init and prob.goal_pos
        used = {a[0] for a in prob.init} | {a[0] for a in prob.goal_pos}
        assert used <= set(dom.predicates), path


@needs_data
@pytest.mark.parametrize("domain", DOMAINS)
def test_own_domain_files_have_the_benchmark_semantics(domain):
    ours = parse_domain((OWN_DOMAINS / f"{domain}.pddl").read_text(), domain)
    theirs = parse_domain((DATA / "pddl" / f"{domain}.pddl").read_text(), domain)
    assert ours.name == theirs.name and ours.constants == theirs.constants and ours.types == theirs.types
    assert set(ours.predicates) == set(theirs.predicates)
    assert list(ours.operators) == list(theirs.operators)
    for name, op in ours.operators.items():
        other = theirs.operators[name]
        assert op.params == other.params, name
        for part in ("pre_pos", "pre_neg", "add", "delete"):
            assert set(getattr(op, part)) == set(getattr(other, part)), (name, part)


@needs_data
def test_tyreworld_constants_after_predicates_without_requirements():
    dom = parse_domain((DATA / "pddl" / "tyreworld.pddl").read_text(), "tyreworld")
    assert dom.constants == {"wrench": "tool", "pump": "tool", "jack": "tool"}
    assert dom.is_subtype("nut", "obj") and not dom.is_subtype("hub", "obj")


def test_variable_glued_to_a_name_is_split():
    # The benchmark barman file writes "?l - level?l1 - level".
    assert tokenize("(?l - level?l1 - level)") == ["(", "?l", "-", "level", "?l1", "-", "level", ")"]


@pytest.mark.parametrize(
    "text,message",
    [
        ("(define (domain d) (:action a :parameters () :effect (p))", "unbalanced|expected one"),
        ("(define (domain d) (:predicates (p)))", "at least one action"),
        ("(define (domain d) (:action a :parameters (?x) :precondition (or (p ?x) (q ?x)) :effect (p ?x)))", "not STRIPS"),
        ("(domain d)", "define"),
    ],
)
def test_bad_domains_are_clear_errors(text, message):
    with pytest.raises(PDDLError, match=message):
        parse_domain(text, "bad.pddl")


def test_problem_without_goal_is_an_error():
    with pytest.raises(PDDLError, match="no goal"):
        parse_problem("(define (problem p) (:domain d) (:objects a) (:init (p a)))", "p.pddl")
