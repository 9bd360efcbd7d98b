"""``run.py check PATH``: what a domain folder supports and its sizes; one line and exit 2 for a malformed or
unsupported domain; the grounding budget refuses an exploding problem with its estimate."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest_helpers import ROOT
from fixtures.pddl_domains import hand_folder, random_folder, write_folder
from fixtures.pddl_domains.hand import KEYS

from learnact.cli.check_cmd import check_command

EXPLODE = """(define (domain explode) (:requirements :typing) (:types thing)
 (:predicates (p ?a ?b ?c ?d ?e ?f - thing))
 (:action make :parameters (?a ?b ?c ?d ?e ?f - thing) :precondition (and) :effect (p ?a ?b ?c ?d ?e ?f)))"""


def explode_problem(n: int) -> str:
    return f"(define (problem e) (:domain explode) (:objects {' '.join(f'o{i}' for i in range(n))} - thing) (:init) (:goal (p o1 o1 o1 o1 o1 o1)))"


@pytest.fixture(autouse=True)
def plan_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNACT_CACHE", str(tmp_path / "cache"))


def test_a_good_domain_is_described(tmp_path, capsys):
    folder = hand_folder(tmp_path, "keys")
    assert check_command([str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "domain: keys; 4 actions: move, pick, drop, unlock" in out and "supported: STRIPS, typing" in out
    assert any(
        line.startswith(
            "problems: 4 (budget 1,000,000 ground actions); split from 3 smallest: train p01, p02, p03; test p04"
        )
        for line in out
    )
    assert any(
        re.fullmatch(r"  p01: 5 objects, 11 initial facts, 1 goal fact, ~\d+ ground actions", line) for line in out
    )
    assert any(
        line.startswith("solved p01: ") and "by pyperplan" in line and line.endswith("replayed to the goal")
        for line in out
    )
    assert out[-1] == "ok"


def test_extended_strips_is_listed_and_solved_by_the_search(tmp_path, capsys):
    folder = random_folder(tmp_path, 12, extended=True)
    assert check_command([f"pddl:{folder}"]) == 0
    out = capsys.readouterr().out
    assert "either types, constants, negative preconditions, equality, action costs" in out and "by search" in out


@pytest.mark.parametrize(
    "domain,message",
    [
        (
            KEYS.replace("(unlocked ?to)))", "(forall (?r - room) (unlocked ?r))))"),
            "domain.pddl action unlock: 'forall' (ADL) is not supported",
        ),
        (KEYS[:-30], "domain.pddl: unbalanced parentheses, 4 '(' never closed (the innermost opened at line 16)"),
        (
            KEYS.replace("(holding ?k) (opens ?k ?to))", "(holding ?k ?to) (opens ?k ?to))"),
            "domain.pddl action unlock: 'holding' takes 1 argument",
        ),
        (
            KEYS.replace("(not (handfree))", "(not (handfree) (holding ?k))"),
            "domain.pddl action pick: (not ...) takes one atom",
        ),
    ],
)
def test_a_bad_domain_is_one_line_and_exit_2(tmp_path, capsys, domain, message):
    folder = write_folder(
        tmp_path,
        "bad",
        domain,
        ["(define (problem a) (:domain keys) (:objects r - room) (:init) (:goal (unlocked r)))"],
    )
    assert check_command([str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_an_exploding_problem_is_refused_with_its_estimate(tmp_path, capsys):
    folder = write_folder(tmp_path, "explode", EXPLODE, [explode_problem(n) for n in (40, 3, 4, 5)])
    assert check_command([str(folder)]) == 0
    out = capsys.readouterr().out
    assert (
        "p01: refused: " in out
        and "about 4,096,000,000 ground actions (make 4,096,000,000) exceed the grounding budget of 1,000,000" in out
    )
    assert out.rstrip().endswith("ok, 1 problem(s) refused")
    assert (
        check_command([str(folder), "--budget", "500"]) == 2
    )  # now the smallest training problem (729) is refused too
    assert "the smallest training problem p02 is refused" in capsys.readouterr().err


def test_run_py_check_prints_no_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "check", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 2 and out.stderr.startswith("error: pddl:") and "no such folder or file" in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1
