"""A user's domain folder ``pddl:PATH``: instances and splits, clear errors, the grounding budget, action
costs and equality in the environment, and prompt material derived from the domain (or the folder's files)."""

from __future__ import annotations

import json

import pytest
from fixtures.pddl_domains import hand_folder, write_folder
from fixtures.pddl_domains.hand import KEYS

from environments import DataNotFoundError, EnvNameError, canonical_env_name, list_instances, make_env
from environments.pddl.derived import folder_material
from environments.pddl.env import GroundingBudgetError
from environments.pddl.folder import FolderError

COSTS = """(define (domain tolls) (:requirements :typing :negative-preconditions :equality :action-costs)
 (:types town) (:constants capital - town)
 (:predicates (at ?t - town) (road ?a ?b - town) (closed ?t - town) (visited ?t - town))
 (:functions (total-cost) - number (toll ?a ?b - town))
 (:action drive :parameters (?from ?to - town)
  :precondition (and (at ?from) (road ?from ?to) (not (closed ?to)) (not (= ?from ?to)))
  :effect (and (at ?to) (not (at ?from)) (visited ?to) (increase (total-cost) (toll ?from ?to))))
 (:action crown :parameters (?t - town)
  :precondition (and (at ?t) (= ?t capital))
  :effect (and (visited capital) (increase (total-cost) 10))))"""
TOLLS = """(define (problem t{n}) (:domain tolls) (:objects {towns} - town)
 (:init (at a) (road a b) (road b a) (road a a) (road b capital) (closed c) (road b c)
        (= (toll a b) 3) (= (toll b capital) 4) (= (total-cost) 0))
 (:goal (and (visited capital) (not (at a)))))"""


@pytest.fixture
def tolls(tmp_path):
    problems = [TOLLS.format(n=n, towns=" ".join(["a", "b", "c"] + [f"x{i}" for i in range(n)])) for n in range(5)]
    return write_folder(tmp_path, "tolls", COSTS, problems)


def test_instances_and_the_default_split_of_three_smallest(tolls):
    name = f"pddl:{tolls}"
    assert list_instances(name) == ["p01", "p02", "p03", "p04", "p05"]
    assert list_instances(name, "train") == ["p01", "p02", "p03"] and list_instances(name, "test") == ["p04", "p05"]
    (tolls / "p01.pddl").write_text(TOLLS.format(n=9, towns="a b c " + " ".join(f"y{i}" for i in range(9))))
    assert list_instances(name, "train") == ["p02", "p03", "p04"]  # p01 grew: no longer among the smallest


def test_problems_are_in_natural_order(tmp_path):
    folder = write_folder(tmp_path, "tolls", COSTS, [])
    for n in (10, 2, 1):
        (folder / f"p{n}.pddl").write_text(TOLLS.format(n=n, towns="a b c"))
    assert list_instances(f"pddl:{folder}") == ["p1", "p2", "p10"]


def test_split_json_overrides_and_is_checked(tolls):
    (tolls / "split.json").write_text(json.dumps({"train": ["p05"]}))
    assert list_instances(f"pddl:{tolls}", "train") == ["p05"] and list_instances(f"pddl:{tolls}", "test") == [
        "p01",
        "p02",
        "p03",
        "p04",
    ]
    (tolls / "split.json").write_text(json.dumps({"train": ["p09"]}))
    with pytest.raises(FolderError, match="unknown problem.*p09"):
        list_instances(f"pddl:{tolls}", "train")


def test_a_domain_file_and_problem_paths(tolls, tmp_path):
    (tolls / "domain.pddl").rename(tolls / "tolls-domain.pddl")
    with pytest.raises(EnvNameError, match="has no domain.pddl.*tolls-domain.pddl"):
        canonical_env_name(f"pddl:{tolls}")
    name = canonical_env_name(f"pddl:{tolls / 'tolls-domain.pddl'}")
    assert name == f"pddl:{tolls / 'tolls-domain.pddl'}" and list_instances(name)[0] == "p01"
    env = make_env(name, str(tolls / "p02.pddl"))
    assert env.name == name and env.instance.endswith("p02.pddl")


@pytest.mark.parametrize(
    "instance,error,message",
    [
        ("p77", DataNotFoundError, "has no problem 'p77'; known: p01, p02"),
        ("gen:seed=1", FolderError, "no problem generator"),
    ],
)
def test_bad_instances_are_one_line_errors(tolls, instance, error, message):
    with pytest.raises(error, match=message):
        make_env(f"pddl:{tolls}", instance)


def test_a_missing_folder_is_an_env_name_error(tmp_path):
    with pytest.raises(EnvNameError, match="no such folder or file"):
        canonical_env_name(f"pddl:{tmp_path / 'nowhere'}")


def test_costs_and_equality_in_the_environment(tolls):
    env = make_env(f"pddl:{tolls}", "p01")
    _, info = env.reset()
    assert "drive('a', 'a')" not in info["valid_actions"]  # (not (= ?from ?to)), though (road a a) holds
    _, _, _, _, info = env.step("drive('a', 'a')")
    assert not info["valid"] and "a must differ from a" in info["reason"]
    _, _, _, _, info = env.step("crown('a')")
    assert not info["valid"] and "a must be capital" in info["reason"]
    for call in ("drive('a', 'b')", "drive('b', 'capital')", "crown('capital')"):
        _, _, terminated, _, info = env.step(call)
        assert info["valid"], info.get("reason")
    assert info["cost"] == 3 + 4 + 10 and terminated and info["success"]
    _, info = env.reset()
    assert info["cost"] == 0


EXPLODING = """(define (domain explode) (:requirements :typing) (:types thing)
 (:predicates (p ?a ?b ?c ?d ?e ?f - thing))
 (:action make :parameters (?a ?b ?c ?d ?e ?f - thing) :precondition (and) :effect (p ?a ?b ?c ?d ?e ?f)))"""


def test_an_exploding_problem_is_refused_with_its_size_before_grounding(tmp_path):
    """30 objects: 729 million ground actions, all applicable in the initial state (without the budget, listing
    them took the machine's memory); 6 objects pass the default budget and are refused under a lower one."""
    problems = [
        f"(define (problem e) (:domain explode) (:objects {' '.join(f'o{i}' for i in range(n))} - thing) (:init)"
        " (:goal (p o1 o1 o1 o1 o1 o1)))"
        for n in (30, 6)
    ]
    folder = write_folder(tmp_path, "explode", EXPLODING, problems)
    with pytest.raises(
        GroundingBudgetError,
        match=r"p01.pddl: about 729,000,000 ground actions \(make 729,000,000\) exceed the grounding budget of 1,000,000",
    ):
        make_env(f"pddl:{folder}", "p01")
    assert len(make_env(f"pddl:{folder}", "p02").valid_actions()) == 6**6
    with pytest.raises(GroundingBudgetError, match="about 46,656 ground actions"):
        make_env(f"pddl:{folder}", "p02", ground_budget=40_000)


def test_the_budget_of_a_run_comes_from_the_environment(tmp_path, monkeypatch):
    folder = write_folder(
        tmp_path,
        "explode",
        EXPLODING,
        ["(define (problem e) (:domain explode) (:objects a b c d e f - thing) (:init) (:goal (p a a a a a a)))"],
    )
    monkeypatch.setenv("LEARNACT_GROUND_BUDGET", "40_000")
    with pytest.raises(
        GroundingBudgetError, match=r"exceed the grounding budget of 40,000; raise it with \$LEARNACT_GROUND_BUDGET"
    ):
        make_env(f"pddl:{folder}", "p01")
    monkeypatch.setenv("LEARNACT_GROUND_BUDGET", "lots")
    with pytest.raises(ValueError, match="is not a number"):
        make_env(f"pddl:{folder}", "p01")


def test_unsupported_domains_fail_at_load_naming_the_construct(tmp_path):
    adl = COSTS.replace("(not (closed ?to))", "(or (road ?to ?from) (closed ?to))")
    folder = write_folder(tmp_path, "adl", adl, [TOLLS.format(n=0, towns="a b c")])
    with pytest.raises(ValueError, match=r"domain.pddl action drive: 'or' \(ADL\) is not supported"):
        make_env(f"pddl:{folder}", "p01")


def test_derived_material_describes_the_domain_and_solves_the_smallest_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNACT_CACHE", str(tmp_path / "cache"))
    folder = hand_folder(tmp_path, "keys", sizes=(3, 1, 2, 4))
    material = folder_material(f"pddl:{folder}")
    assert material.instruction_source == "derived" and material.example_instance == "p02"  # p02 is the smallest
    assert material.example_source == "derived: pyperplan"
    for expected in (
        "planning domain 'keys'",
        "Object types: key, room.",
        "unlock(k, from, to): Apply the action unlock(k: key, from: room, to: room).",
        "Requires: at-robot(`from`) holds; connected(`from`, `to`) holds; holding(`k`) holds; opens(`k`, `to`) holds.",
        "Result: unlocked(`to`) becomes true.",
    ):
        assert expected in material.instruction
    assert "Robby" not in material.instruction + material.example and "different object" not in material.instruction
    lines = material.example.splitlines()
    assert lines[0].startswith("Goal: ") and lines[1].startswith("Observation: ")
    env = make_env(f"pddl:{folder}", "p02")
    env.reset()
    for call in [line.removeprefix("Action: ") for line in lines if line.startswith("Action: ")]:
        _, _, _, _, info = env.step(call)
    assert info["success"] and list((tmp_path / "cache" / "plans").glob("*.json"))


def test_a_domain_pyperplan_cannot_read_is_solved_by_the_search(tolls, tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNACT_CACHE", str(tmp_path / "cache"))
    material = folder_material(f"pddl:{tolls}")
    assert (
        material.example_source == "derived: search" and material.example.count("Action: ") == 2
    )  # drive to b, to capital
    assert "costs toll(`from`, `to`)" in material.instruction and "`from` differs from `to`" in material.instruction


def test_files_in_the_folder_override_the_derived_material(tolls, tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNACT_CACHE", str(tmp_path / "cache"))
    (tolls / "instruction.md").write_text("Drive to the capital.\n")
    (tolls / "example.md").write_text("Goal: be crowned\nObservation: at a\nAction: drive('a', 'b')\n")
    material = folder_material(f"pddl:{tolls}")
    assert material.instruction == "Drive to the capital." and material.example.startswith("Goal: be crowned")
    assert material.example_instance is None and material.example_source.endswith("example.md")


def test_the_generic_state_view_groups_facts_per_object(tmp_path):
    folder = write_folder(
        tmp_path,
        "keys",
        KEYS,
        [
            """(define (problem k) (:domain keys) (:objects k0 - key r0 r1 - room)
 (:init (at-robot r0) (unlocked r0) (handfree) (connected r0 r1) (key-in k0 r0) (opens k0 r1)) (:goal (and (at-robot r1) (handfree))))"""
        ],
    )
    env = make_env(f"pddl:{folder}", "p01")
    env.reset()
    assert env.state_view().splitlines() == [
        "Still to reach: at-robot(r1)",
        "Already true: handfree()",
        "k0: key-in(k0, r0); opens(k0, r1)",
        "r0: at-robot(r0); unlocked(r0); connected(r0, r1)",
        "Also true: handfree()",
    ]


def test_a_typed_domain_file_through_the_python_api_loads(tmp_path):
    """The issue's report: make_env("pddl/...", problem, domain_file=...) on a typed domain none of whose actions
    the built-in texts know failed with NameError in primitives.py; the specs now come from the operators."""
    folder = hand_folder(tmp_path, "elevator")
    env = make_env("pddl/gripper", str(folder / "p01.pddl"), domain_file=folder / "domain.pddl")
    assert [p.signature for p in env.primitives] == ["board(f, p)", "depart(f, p)", "up(f1, f2)", "down(f1, f2)"]
    assert env.primitives[2].description == "Apply the action up(f1: floor, f2: floor)."
    assert env.primitives[2].preconditions == "lift-at(`f1`) holds; above(`f1`, `f2`) holds."
