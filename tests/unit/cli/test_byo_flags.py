"""``--env pddl:PATH``: the settings of a run on a user's domain folder (config.json records the domain file,
the problems and the split), its defaults (PDDL's), and bad folders as one line before any model starts."""

from __future__ import annotations

import json

import pytest
from fixtures.pddl_domains import hand_folder, write_folder
from fixtures.pddl_domains.hand import KEYS
from test_bad_inputs import assert_one_clear_line, run_cli

from learnact.cli.flags import build_parser
from learnact.cli.resolve import resolve_settings


def settings_for(*argv: str) -> dict:
    return resolve_settings(build_parser().parse_args(list(argv)))


def test_act_on_a_folder_takes_its_test_split(tmp_path):
    folder = hand_folder(tmp_path, "ferry")
    s = settings_for("--graph", "act", "--env", f"pddl:{folder}/", "--model", "stub")
    assert s["env"] == f"pddl:{folder}" and s["instances"] == ["p04"]
    assert s["domain_folder"] == {
        "domain_file": str(folder / "domain.pddl"),
        "problems": ["p01", "p02", "p03", "p04"],
        "split": {"train": ["p01", "p02", "p03"], "test": ["p04"], "source": "3 smallest"},
    }
    assert s["max_steps"] == 30 and s["history_window"] == 20  # PDDL's protocol values
    json.dumps(s)  # config.json


def test_learn_on_a_folder_takes_split_json(tmp_path):
    folder = hand_folder(tmp_path, "ferry")
    (folder / "split.json").write_text(json.dumps({"train": ["p04", "p02"], "test": ["p01"]}))
    s = settings_for("--graph", "learn", "--env", f"pddl:{folder}", "--model", "stub")
    assert s["train_instances"] == ["p04", "p02"] and s["domain_folder"]["split"]["source"] == "split.json"
    assert s["score"] == "step_correction_call_ratio_success"


def test_evaluate_mixes_a_folder_with_a_built_in_domain(tmp_path):
    folder = hand_folder(tmp_path, "ferry")
    s = settings_for(
        "--graph", "evaluate", "--env", f"pddl/gripper,pddl:{folder}", "--model", "stub", "--methods", "act"
    )
    assert s["envs"] == ["pddl/gripper", f"pddl:{folder}"]
    assert s["train"][f"pddl:{folder}"] == ["p01", "p02", "p03"] and s["test"][f"pddl:{folder}"] == ["p04"]
    assert list(s["domain_folders"]) == [f"pddl:{folder}"] and s["per_env"][f"pddl:{folder}"]["max_steps"] == 30


def unsolvable(root):
    """keys whose smallest problem asks for a room no door leads to: no worked example can be planned."""
    folder = hand_folder(root, "keys")
    text = (folder / "p01.pddl").read_text()
    (folder / "p01.pddl").write_text(
        text.replace("- room)", "island - room)").replace(
            "(:goal (and (at-robot r2)))", "(:goal (and (at-robot island)))"
        )
    )
    return folder


@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda root: root / "missing", "no such folder or file"),
        (
            lambda root: write_folder(
                root,
                "adl",
                KEYS.replace("(unlocked ?to)))", "(when (holding ?k) (unlocked ?to))))"),
                ["(define (problem a) (:domain keys) (:objects r - room) (:init) (:goal (unlocked r)))"],
            ),
            "'when' (ADL) is not supported",
        ),
        (lambda root: write_folder(root, "empty", KEYS, []), "has no problem file"),
        (lambda root: hand_folder(root, "keys", sizes=(1, 2)), "its test split is empty"),
        (unsolvable, "no prompt material for pddl:"),
    ],
)
def test_a_bad_folder_is_one_line(tmp_path, make, expected):
    folder = make(tmp_path)
    out = run_cli("--graph", "act", "--env", f"pddl:{folder}", "--model", "stub", "--run-dir", str(tmp_path / "run"))
    assert_one_clear_line(out, expected)
    assert not (tmp_path / "run").exists()
