"""The PDDL parser: all benchmark files load (tyreworld's odd layout included), the shipped
domain files mean exactly what the benchmark's mean, and bad input is a clear error."""

from __future__ import annotations

import pytest

from environments.data import find_data_dir
from environments.pddl.env import OWN_DOMAINS
from environments.pddl.parser import PDDLError, UnsupportedPDDL, parse_domain, parse_problem, tokenize

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
        (
            "(define (domain d) (:action a :parameters (?x) :precondition (or (p ?x) (q ?x)) :effect (p ?x)))",
            r"bad.pddl action a: 'or' \(ADL\) is not supported",
        ),
        ("(domain d)", "define"),
    ],
)
def test_bad_domains_are_clear_errors(text, message):
    with pytest.raises(PDDLError, match=message):
        parse_domain(text, "bad.pddl")


def test_problem_without_goal_is_an_error():
    with pytest.raises(PDDLError, match="no goal"):
        parse_problem("(define (problem p) (:domain d) (:objects a) (:init (p a)))", "p.pddl")


COMPETITION = """(define (domain comp) (:requirements :strips :typing :negative-preconditions :equality :action-costs)
 (:types truck car - vehicle place)
 (:constants depot - place)
 (:predicates (at ?v - (either truck car) ?p - place) (road ?a ?b - place) (busy ?v - vehicle))
 (:functions (total-cost) - number (road-length ?a ?b - place))
 (:action drive :parameters (?v - (either truck car) ?from ?to - place)
  :precondition (and (at ?v ?from) (road ?from ?to) (not (busy ?v)) (not (= ?from ?to)))
  :effect (and (not (at ?v ?from)) (at ?v ?to) (increase (total-cost) (road-length ?from ?to))))
 (:action park :parameters (?v - vehicle ?p - place)
  :precondition (and (at ?v ?p) (= ?p depot))
  :effect (and (busy ?v) (increase (total-cost) 1))))"""


def test_competition_strips_reads():
    dom = parse_domain(COMPETITION, "comp.pddl")
    drive, park = dom.operators["drive"], dom.operators["park"]
    assert drive.params == (("?v", "(either truck car)"), ("?from", "place"), ("?to", "place"))
    assert drive.pre_neg == (("busy", "?v"),) and drive.pre_neq == (("?from", "?to"),)
    assert drive.cost == ("road-length", "?from", "?to") and park.cost == ("1",) and park.pre_eq == (("?p", "depot"),)
    assert dom.constants == {"depot": "place"} and dom.has_costs and "total-cost" in dom.functions
    assert dom.is_subtype("truck", "(either truck car)") and not dom.is_subtype("place", "(either truck car)")
    prob = parse_problem(
        "(define (problem p) (:domain comp) (:objects t - truck a - place) (:init (at t a) (road a depot)"
        " (= (total-cost) 0) (= (road-length a depot) 7)) (:goal (and (at t depot) (not (busy t))))"
        " (:metric minimize (total-cost)))",
        "p.pddl",
    )
    assert prob.numeric == {("total-cost",): 0.0, ("road-length", "a", "depot"): 7.0}
    assert prob.goal_pos == (("at", "t", "depot"),) and prob.goal_neg == (("busy", "t"),)


@pytest.mark.parametrize(
    "construct,body",
    [
        ("forall", ":precondition (forall (?y) (p ?y)) :effect (p ?x)"),
        ("exists", ":precondition (exists (?y) (p ?y)) :effect (p ?x)"),
        ("imply", ":precondition (imply (p ?x) (p ?x)) :effect (p ?x)"),
        ("when", ":precondition (p ?x) :effect (when (p ?x) (not (p ?x)))"),
        ("forall", ":precondition (p ?x) :effect (forall (?y) (not (p ?y)))"),
        ("increase", ":precondition (p ?x) :effect (increase (fuel ?x) 1)"),
        (">", ":precondition (> (fuel ?x) 1) :effect (p ?x)"),
    ],
)
def test_adl_and_numeric_constructs_are_refused_in_one_line(construct, body):
    text = f"(define (domain d) (:predicates (p ?x)) (:action act :parameters (?x) {body}))"
    with pytest.raises(UnsupportedPDDL) as err:
        parse_domain(text, "dom.pddl")
    message = str(err.value)
    assert "\n" not in message and message.startswith("dom.pddl action act: ") and f"'{construct}'" in message


@pytest.mark.parametrize(
    "body,message",
    [
        (":precondition (q ?x) :effect (p ?x)", "unknown predicate 'q'"),
        (":precondition (p ?x ?x) :effect (p ?x)", "'p' takes 1 argument"),
        (":precondition (p ?y) :effect (p ?x)", r"variable \?y is not a parameter"),
        (":precondition (p k) :effect (p ?x)", "'k' is neither a parameter nor a declared constant"),
    ],
)
def test_operator_typos_are_errors(body, message):
    with pytest.raises(PDDLError, match=message):
        parse_domain(f"(define (domain d) (:predicates (p ?x)) (:action act :parameters (?x) {body}))", "dom.pddl")


def test_derived_predicates_are_refused():
    with pytest.raises(UnsupportedPDDL, match=r"derived predicates \(:derived\)"):
        parse_domain(
            "(define (domain d) (:predicates (p ?x)) (:derived (p ?x) (p ?x))"
            " (:action a :parameters (?x) :precondition (p ?x) :effect (p ?x)))",
            "d.pddl",
        )
