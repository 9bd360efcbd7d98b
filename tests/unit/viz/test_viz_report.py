"""The offline HTML report, from synthetic run folders written in the documented formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

from learnact.cli.report_cmd import report_command
from learnact.viz.report import render_diff, write_report
from learnact.viz.run_data import load_run, usage_tables

CARRY_V1 = '''def carry(obj, src, dst, gripper):
    """Carry a ball from one room to another."""
    pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)
'''
CARRY_V2 = CARRY_V1.replace("    pick(obj, src, gripper)\n", "    move(dst, src)\n    pick(obj, src, gripper)\n")
SCORE = "step_correction_call_ratio_success"


def _scores(value: float, success: float) -> dict:
    return {
        "T": 10,
        "C": 4,
        "S": 2,
        "episodes": 2,
        "success_rate": success,
        "progress": success,
        "step_correction": 0.5,
        "call_ratio_success": 0.2 + success,
        SCORE: value,
    }


ROUND0 = {
    "round": 0,
    "score_type": SCORE,
    "candidates": [
        {"id": "r0s0", "origin": "create", "parent": None, "scores": _scores(0.7, 0.0)},
        {"id": "r0s1", "origin": "create", "parent": None, "scores": _scores(1.2, 0.5)},
    ],
    "dropped": [{"id": "r0s2", "error": "SyntaxError: invalid syntax"}],
    "best_id": "r0s1",
    "best_score": 1.2,
    "improved": True,
    "failures": 3,
}
ROUND1 = {
    "round": 1,
    "score_type": SCORE,
    "candidates": [
        {"id": "r0s1", "origin": "create", "parent": None, "scores": _scores(1.2, 0.5)},
        {"id": "r1s0", "origin": "update", "parent": "r0s1", "scores": _scores(2.1, 1.0)},
        {"id": "r1s1", "origin": "plan", "parent": "r0s1", "scores": _scores(0.9, 0.5)},
    ],
    "dropped": [],
    "best_id": "r1s0",
    "best_score": 2.1,
    "improved": True,
    "failures": 0,
}


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def make_learn_run(root: Path, *, finished: bool = True) -> Path:
    """A learn run with two rounds; ``finished=False`` is the folder of a run killed after round 0."""
    run = root / "learn-pddl-gripper-test"
    (run / "candidates").mkdir(parents=True)
    (run / "config.json").write_text(
        json.dumps(
            {
                "graph": "learn",
                "env": "pddl/gripper",
                "train_instances": ["gen:seed=1", "gen:seed=2"],
                "candidates": 3,
                "max_rounds": 3,
                "patience": 1,
                "score": SCORE,
                "protocol": "default",
                "assist": "small",
                "models": {"agent": {"model": "local"}, "learner": {"model": "local"}},
                "created": "2025-01-01T00:00:00",
            }
        )
    )
    events = [
        {"event": "candidate_start", "candidate_id": "r0s0", "round": 0},
        {"event": "repair", "candidate_id": "r0s2", "attempt": 1, "error": "SyntaxError"},
        {"event": "candidate_ready", "candidate_id": "r0s1", "round": 0},
        {"event": "rollout_start", "candidate_id": "r0s1", "instance": "gen:seed=1"},
        {
            "event": "step",
            "episode_id": "r0s1@gen:seed=1",
            "step": 1,
            "action": "carry('ball1', 'rooma', 'roomb', 'left')",
            "ok": False,
            "success": False,
            "progress": 0.0,
        },
        {"event": "rollout_end", "candidate_id": "r0s1", "instance": "gen:seed=1", "success": False, "steps": 1},
        {"event": "round_scored", **ROUND0},
        {"event": "errors_identified", "round": 0, "target": "carry", "failures": 3, "target_failures": 2},
    ]
    if finished:
        events += [
            {"event": "round_scored", **ROUND1},
            {
                "event": "learning_done",
                "stop_reason": "nothing_failed",
                "best_id": "r1s0",
                "best_scores": _scores(2.1, 1.0),
            },
        ]
    write_jsonl(run / "events.jsonl", events)
    metas = {
        "r0s0": {"round": 0, "origin": "create", "parent": None, "code": CARRY_V1.replace("carry", "haul")},
        "r0s1": {"round": 0, "origin": "create", "parent": None, "code": CARRY_V1},
    }
    if finished:
        metas["r1s0"] = {
            "round": 1,
            "origin": "update",
            "parent": "r0s1",
            "code": CARRY_V2,
            "target": "carry",
            "reason": "the robot was not in the source room",
            "failure": "Goal: ball1 in roomb\nFailed call: carry(...)",
        }
        metas["r1s1"] = {
            "round": 1,
            "origin": "plan",
            "parent": "r0s1",
            "code": CARRY_V1,
            "target": "carry",
            "reason": "call carry only from the source room",
        }
    for cid, meta in metas.items():
        code = meta.pop("code")
        (run / "candidates" / f"{cid}.py").write_text(code)
        (run / "candidates" / f"{cid}.json").write_text(json.dumps({"id": cid, "scores": None, "attempts": [], **meta}))
    if not finished:
        return run
    write_jsonl(run / "usage.json.tmp", [])  # leftovers of an atomic write must not confuse the reader
    (run / "usage.json").write_text(
        json.dumps(
            {
                "totals": {"total_tokens": 5000, "prompt_tokens": 4000, "completion_tokens": 1000, "cost": None},
                "per_node": {
                    "learn.create": {"calls": 3, "total_tokens": 3000, "prompt_tokens": 2500, "completion_tokens": 500},
                    "act.decide": {"calls": 20, "total_tokens": 2000, "prompt_tokens": 1500, "completion_tokens": 500},
                },
                "per_key": {
                    "r0s0": {"total_tokens": 1000},
                    "r1s0@gen:seed=1": {"total_tokens": 700},
                    "r1s0": {"total_tokens": 300},
                },
            }
        )
    )
    (run / "learn_summary.json").write_text(
        json.dumps(
            {
                "env": "pddl/gripper",
                "train_instances": ["gen:seed=1", "gen:seed=2"],
                "stop_reason": "nothing_failed",
                "best": "r1s0",
                "best_scores": _scores(2.1, 1.0),
                "rounds": [ROUND0, ROUND1],
            }
        )
    )
    lib = run / "library"
    (lib / "carry").mkdir(parents=True)
    (lib / "carry" / "v1.py").write_text(CARRY_V1)
    (lib / "carry" / "v2.py").write_text(CARRY_V2)
    write_jsonl(
        lib / "history.jsonl",
        [
            {
                "name": "carry",
                "version": 1,
                "parent_version": None,
                "iteration": 0,
                "reason": "create: ",
                "scores": _scores(1.2, 0.5),
                "description": "Carry a ball from one room to another.",
                "notes": [],
            },
            {
                "name": "carry",
                "version": 2,
                "parent_version": 1,
                "iteration": 1,
                "reason": "update: the robot was not in the source room",
                "scores": _scores(2.1, 1.0),
                "description": "Carry a ball.",
                "notes": [{"text": "Use it when the robot is in src.", "iteration": 1}],
            },
        ],
    )
    (lib / "demonstration.md").write_text("Action: carry('ball1', 'rooma', 'roomb', 'left')\n")
    return run


def make_eval_run(root: Path) -> Path:
    run = root / "evaluate-test"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"graph": "evaluate", "env": "pddl/gripper"}))
    eps = []
    for method, wins in (("act", [False, True]), ("learnact", [True, True])):
        for i, won in enumerate(wins):
            eps.append(
                {
                    "episode_id": f"{method}/pddl/gripper/p{i}#run0",
                    "method": method,
                    "env": "pddl/gripper",
                    "instance": f"p{i}",
                    "success": won,
                    "progress": 1.0 if won else 0.5,
                    "steps": 3,
                    "primitive_steps": 5,
                    "learned_calls": 1,
                    "failed_learned_calls": 0 if won else 1,
                    "stop_reason": "success" if won else "max_steps",
                    "tokens": 900,
                    "prompt_tokens": 800,
                    "completion_tokens": 100,
                    "cost": 0.0,
                    "goal": "ball1 is in roomb",
                    "run": 0,
                    "first_observation": "Robby is in rooma.",
                    "trajectory": [
                        {
                            "index": 0,
                            "action": "carry('ball1', 'rooma', 'roomb', 'left')",
                            "observation": "ball1 is in roomb <&>",
                            "ok": True,
                            "is_learned": True,
                            "name": "carry",
                            "error_kind": None,
                            "trace": [
                                {"action": "pick('ball1', 'rooma', 'left')", "observation": "picked", "valid": True}
                            ],
                        }
                    ],
                }
            )
    write_jsonl(run / "episodes.jsonl", eps)
    return run


def test_learn_report_names_every_candidate_marks_the_best_and_diffs_versions(tmp_path):
    run = make_learn_run(tmp_path)
    path = write_report(run, graph_html="")
    assert path == run / "report.html"
    html = path.read_text()
    for cid in ("r0s0", "r0s1", "r0s2", "r1s0", "r1s1"):
        assert f'id="cand-{cid}"' in html, cid
    assert "protocol <b>default</b> · assist <b>small</b>" in html  # the header says which aids the run had
    # The best candidate is starred in the curve and tagged in its card.
    assert re.search(r'data-candidate="r1s0"><a href="#cand-r1s0"><title>[^<]*</title><polygon', html)
    assert re.search(
        r'id="cand-r1s0"><summary>r1s0 <span class="tag">update</span> <span class="tag best">best</span>', html
    )
    # Diff of the library version against its parent, and of the candidate against its parent.
    assert '<span class="add">+    move(dst, src)</span>' in html
    assert "diff against v1" in html and "diff against r0s1" in html
    assert "Use it when the robot is in src." in html  # Plan note
    assert "the robot was not in the source room" in html  # the failed reason of the revision
    assert 'id="learning-curve"' in html and 'id="success-curve"' in html
    assert "r0s1 was" not in html and "kept" in html  # the previous best re-entering round 1
    assert 'id="tokens-per-node"' in html and "learn.create" in html
    assert "round 1" in html and "n/a" in html  # unknown cost stays unknown
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html  # offline


def test_usage_by_round_comes_from_candidate_keys():
    tables = usage_tables(
        {"per_key": {"r0s0": {"total_tokens": 10}, "r2s1@p1": {"total_tokens": 5}, "p3#run0": {"total_tokens": 1}}}
    )
    assert tables.per_round == {
        "round 0": {"total_tokens": 10},
        "round 2": {"total_tokens": 5},
        "other": {"total_tokens": 1},
    }
    assert tables.totals == {}
    records = usage_tables({"records": [{"node": "learn.revise", "key": "r1s0", "total_tokens": 4, "cost": 0.5}] * 2})
    assert records.per_node["learn.revise"] == {"total_tokens": 8, "cost": 1.0}
    assert records.totals == {"total_tokens": 8, "cost": 1.0}


def test_killed_learn_run_still_gets_a_report(tmp_path):
    run = make_learn_run(tmp_path, finished=False)
    with (run / "events.jsonl").open("a") as fh:
        fh.write('{"event": "round_sco')  # the line a kill cut short
    data = load_run(run)
    assert [r["round"] for r in data.rounds] == [0]
    assert any("events.jsonl" in w for w in data.warnings)
    html = write_report(run, graph_html="").read_text()
    assert "unfinished" in html
    assert 'id="cand-r0s1"' in html and 'id="cand-r0s2"' in html
    assert 'id="learning-curve"' in html
    assert "training rollout r0s1@gen:seed=1" in html


def test_empty_and_bare_folders(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text("{not json")
    html = write_report(bare, graph_html="").read_text()
    assert "config.json: unreadable" in html
    assert report_command([str(tmp_path / "missing")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert report_command([str(empty)]) == 2


def test_evaluation_table_links_to_each_trajectory(tmp_path):
    run = make_eval_run(tmp_path)
    assert report_command([str(run), "--no-graph"]) == 0
    html = (run / "report.html").read_text()
    assert '<a href="#eps-learnact-pddl-gripper">learnact</a>' in html
    assert "1.000 ± 0.000" in html and "0.500 ± 0.000" in html
    anchors = set(re.findall(r'href="#(ep-[^"]+)"', html))
    assert len(anchors) == 4
    for anchor in anchors:
        assert f'id="{anchor}"' in html
    assert "ball1 is in roomb &lt;&amp;&gt;" in html  # observations are escaped
    assert "pick(&#x27;ball1&#x27;, &#x27;rooma&#x27;, &#x27;left&#x27;)" in html  # the primitive trace


def test_diff_marks_added_and_removed_lines():
    out = render_diff("a\nb\n", "a\nc\n", "old", "new")
    assert '<span class="del">-b</span>' in out and '<span class="add">+c</span>' in out
    assert "no code change" in render_diff("a", "a", "x", "y")
