"""The difficulty ladder: graded generated problems, no problem twice, held-out test instances from
their own seeds (``--test-seeds``), the per-size summary, and the report's success-against-size plot."""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_helpers import ROOT, TINY_GRIPPER, TINY_PLAN

from environments.data import find_data_dir
from environments.pddl import LadderError, instance_size, ladder
from environments.pddl.generators import generate
from environments.pddl.ladder import LADDER_SIZES, already_solved, problem_key

ladder_module = importlib.import_module("environments.pddl.ladder")  # the package's `ladder` is the function
DATA = find_data_dir(required="pddl/gripper")


def keys(domain: str, names: list[str]) -> list[str]:
    return [problem_key(generate(domain, n)) for n in names]


def seed_of(name: str) -> int:
    return int(re.search(r"seed=(\d+)", name).group(1))


# ------------------------------------------------------------------------------ the ladder
def test_default_ladders_are_graded_and_held_out():
    expected = {"gripper": [1, 2, 3, 4, 5, 6], "blockworld": [2, 3, 4, 5, 6], "tyreworld": [1, 2, 3], "barman": [1, 2]}
    for domain, sizes in expected.items():
        train, test = ladder(domain, "train"), ladder(domain, "test")
        assert [instance_size(f"pddl/{domain}", n) for n in train] == sizes  # one per size, smallest first
        assert [instance_size(f"pddl/{domain}", n) for n in test] == [s for s in sizes for _ in range(3)]
        assert all(seed_of(n) < 1000 for n in train) and all(seed_of(n) >= 1000 for n in test)
        train_keys, test_keys = keys(domain, train), keys(domain, test)
        assert len(set(test_keys)) == len(test_keys) and not set(train_keys) & set(test_keys)
        assert not any(already_solved(generate(domain, n)) for n in train + test)
    # Small gripper problems get a third room: 1 ball in 2 rooms has only 4 distinct problems.
    assert ladder("gripper", "train", sizes=[1, 4]) == ["gen:seed=1,balls=1,rooms=3", "gen:seed=1,balls=4"]


def test_same_problem_under_two_names_is_taken_once():
    # The probe's example: two seeds, one problem (only the name in the text differs).
    a, b = generate("gripper", "gen:seed=101,balls=1"), generate("gripper", "gen:seed=102,balls=1")
    assert a != b and problem_key(a) == problem_key(b)
    # 1 ball in 3 rooms: 3 robot rooms x 3 start rooms x 2 targets = 18 problems, however many seeds.
    all_of_them = ladder("gripper", "train", sizes=[1], per_size=18, seeds=range(1, 3000))
    assert len(set(keys("gripper", all_of_them))) == 18
    with pytest.raises(LadderError, match="only 18 distinct"):
        ladder("gripper", "train", sizes=[1], per_size=19, seeds=range(1, 3000))
    # A 2-block world has 4 problems; facts in another order are still the same problem.
    assert len(ladder("blockworld", "train", sizes=[2], per_size=4)) == 4
    with pytest.raises(LadderError, match="only 4 distinct"):
        ladder("blockworld", "train", sizes=[2], per_size=5)


def test_test_instances_never_equal_training_ones_even_from_the_same_seeds():
    seeds = range(1, 3000)
    train = ladder("gripper", "train", sizes=[1], per_size=5, seeds=seeds)
    test = ladder("gripper", "test", sizes=[1], per_size=13, seeds=seeds, train_seeds=seeds, train_per_size=5)
    assert not set(keys("gripper", train)) & set(keys("gripper", test)) and len(set(keys("gripper", test))) == 13
    with pytest.raises(LadderError, match="besides the training ones"):  # 18 problems: 5 for training leave 13
        ladder("gripper", "test", sizes=[1], per_size=14, seeds=seeds, train_seeds=seeds, train_per_size=5)
    # The blockworld ladder's smallest size: 1 training problem, the other 3 held out.
    bw_train, bw_test = ladder("blockworld", "train", sizes=[2]), ladder("blockworld", "test", sizes=[2])
    assert len(set(keys("blockworld", bw_train + bw_test))) == 4


def test_a_problem_whose_goal_already_holds_is_skipped(monkeypatch):
    solved = TINY_GRIPPER.replace("(at ball1 rooma))", "(at ball1 roomb))")  # the ball starts where it must go
    assert already_solved(solved) and not already_solved(TINY_GRIPPER)
    real = ladder_module.generate
    monkeypatch.setattr(ladder_module, "generate", lambda d, n: solved if "seed=1," in n else real(d, n))
    ladder_module._candidate.cache_clear()
    try:
        assert ladder("gripper", "train", sizes=[4]) == ["gen:seed=2,balls=4"]
    finally:
        ladder_module._candidate.cache_clear()


def test_sizes_subset_and_bad_requests():
    assert [instance_size("pddl/barman", n) for n in ladder("barman", "test", sizes=[2, 3, 4], per_size=2)] == [2, 2]
    with pytest.raises(LadderError, match="its sizes are 1-2 cocktails"):
        ladder("barman", "train", sizes=[5])
    with pytest.raises(LadderError, match="no ladder"):
        ladder("chess", "train")
    with pytest.raises(LadderError, match="unknown ladder split"):
        ladder("gripper", "validation")


def test_instance_size_reads_names_and_counts_benchmark_objects():
    assert instance_size("pddl/gripper", "gen:seed=3,balls=5") == 5
    assert instance_size("pddl/gripper", "gen:seed=3") == 4  # the generator's default
    assert instance_size("pddl/blockworld", "gen:seed=1,blocks=6") == 6
    assert instance_size("pddl/tyreworld", "gen:seed=1,wheels=2") == 2
    assert instance_size("pddl/barman", "gen:seed=1,cocktails=2") == 2
    assert instance_size("alfworld/put", "gen:seed=1") is None
    assert instance_size("pddl/gripper", "no-such-problem", data_dir="/nonexistent") is None


def test_instance_size_of_a_problem_file_counts_its_balls(tmp_path):
    one, two = tmp_path / "one.pddl", tmp_path / "two.pddl"
    one.write_text(TINY_GRIPPER)
    two.write_text(two_ball_gripper())
    assert instance_size("pddl/gripper", str(one)) == 1 and instance_size("pddl/gripper", str(two)) == 2


@pytest.mark.skipif(DATA is None, reason="benchmark data (../shared/data/pddl) is absent")
def test_instance_size_of_benchmark_problems():
    assert instance_size("pddl/gripper", "prob01") == 4
    assert instance_size("pddl/barman", "p01") == 1  # 3 cocktails declared, 1 to serve
    assert instance_size("pddl/tyreworld", "p01") == 1


def test_every_ladder_problem_is_solvable(tmp_path_factory):
    pytest.importorskip("pyperplan", reason="the oracle planner pyperplan is a dev dependency (pip install -e .[dev])")
    from environments import make_env
    from environments.pddl.oracle import oracle_plans

    items = [(d, n) for d in LADDER_SIZES for split in ("train", "test") for n in ladder(d, split)]
    plans = oracle_plans(items, cache_dir=tmp_path_factory.getbasetemp().parent / "learnact-oracle-plans")
    for domain, name in items:
        env = make_env(f"pddl/{domain}", name)
        _, info = env.reset()
        assert not info["success"], name
        for call in plans[(domain, name)]:
            *_, info = env.step(call)
            assert info["valid"], (name, call, info.get("reason"))
        assert info["success"], name


# ------------------------------------------------------------------------------ the command line
def settings(*argv: str) -> dict:
    from learnact.cli.flags import build_parser
    from learnact.cli.resolve import resolve_settings

    return resolve_settings(build_parser().parse_args(list(argv)))


def test_learn_trains_on_the_ladder_and_records_it():
    s = settings("--graph", "learn", "--ladder", "--model", "local")
    assert s["train_instances"] == ladder("gripper", "train")
    assert s["ladder"] == {
        "sizes": None,
        "per_size": {"train": 1, "test": 3},
        "train_seeds": [1, 999],
        "test_seeds": [1000, 9999],
    }
    json.dumps(s)  # plain JSON for config.json


def test_act_runs_held_out_instances_from_the_given_test_seeds():
    s = settings(
        "--graph", "act", "--env", "pddl/tyreworld", "--test-seeds", "5000-5999", "--sizes", "1-2", "--per-size", "2"
    )
    assert s["instances"] == ladder(
        "tyreworld", "test", sizes=[1, 2], per_size=2, seeds=range(5000, 6000), train_per_size=2
    )
    assert all(5000 <= seed_of(n) <= 5999 for n in s["instances"])
    assert [instance_size("pddl/tyreworld", n) for n in s["instances"]] == [1, 1, 2, 2]
    assert s["ladder"]["test_seeds"] == [5000, 5999] and s["ladder"]["sizes"] == [1, 2]
    other = settings(
        "--graph", "act", "--env", "pddl/tyreworld", "--test-seeds", "7000-7999", "--sizes", "1-2", "--per-size", "2"
    )
    assert not set(other["instances"]) & set(s["instances"])


def test_evaluate_takes_training_and_test_instances_from_each_domains_ladder():
    s = settings(
        "--graph",
        "evaluate",
        "--env",
        "pddl/gripper,pddl/barman",
        "--ladder",
        "--sizes",
        "1-2",
        "--train-seeds",
        "10-20",
    )
    assert s["train"]["pddl/barman"] == ladder("barman", "train", seeds=range(10, 21))
    assert s["test"]["pddl/gripper"] == ladder("gripper", "test", sizes=[1, 2], train_seeds=range(10, 21))
    assert all(10 <= seed_of(n) <= 20 for n in s["train"]["pddl/gripper"])
    for env in s["envs"]:
        domain = env.split("/")[1]
        assert not set(keys(domain, s["train"][env])) & set(keys(domain, s["test"][env]))
    assert s["ladder"]["train_seeds"] == [10, 20]


def test_help_lists_every_ladder_flag():
    from learnact.cli.flags import build_parser

    text = build_parser().format_help()
    for flag in ("--ladder", "--sizes", "--per-size", "--train-seeds", "--test-seeds"):
        assert flag in text


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--test-seeds", "9-3"], "the range is empty"),
        (["--test-seeds", "many"], "expected a seed range"),
        (["--train-seeds", "1-1500"], "overlap"),
        (["--ladder", "--sizes", "x-y"], "expected sizes"),
        (["--ladder", "--sizes", "9"], "no ladder size among 9"),
        (["--ladder", "--per-size", "0"], "--per-size must be positive"),
        (["--ladder", "--instance", "gen:seed=1"], "cannot go with --instance"),
        (["--ladder", "--env", "alfworld/put"], "alfworld/put has no ladder"),
        (["--ladder", "--env", "pddl/blockworld", "--sizes", "2", "--per-size", "4"], "only 0 distinct"),
    ],
)
def test_bad_ladder_requests_are_user_errors(argv, message):
    from learnact.cli.errors import UserError

    with pytest.raises(UserError, match=re.escape(message)):
        settings("--graph", "act", *argv)


def test_bad_ladder_flag_is_one_line_and_exit_2(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "--graph",
            "act",
            "--test-seeds",
            "9-3",
            "--run-dir",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == ["error: --test-seeds 9-3: the range is empty (9 > 3)"]


# ------------------------------------------------------------------------------ per-size summary
def two_ball_gripper() -> str:
    return (
        TINY_GRIPPER.replace("ball1 left", "ball1 ball2 left")
        .replace("(ball ball1)", "(ball ball1) (ball ball2)")
        .replace("(at ball1 rooma))", "(at ball1 rooma) (at ball2 rooma))")
        .replace("(at ball1 roomb))", "(at ball1 roomb) (at ball2 roomb))")
    )


def rec(method, inst, run, success, progress):
    from nodes.evaluate import episode_id

    return {
        "episode_id": episode_id(method, "pddl/gripper", inst, run),
        "method": method,
        "env": "pddl/gripper",
        "instance": inst,
        "run": run,
        "success": success,
        "progress": progress,
    }


def test_summary_by_size_per_method_with_runs():
    from nodes.summary import SIZE_COLUMNS, size_csv, size_markdown, summarize_by_size

    small, small2, big = "gen:seed=1,balls=1,rooms=3", "gen:seed=2,balls=1,rooms=3", "gen:seed=1,balls=3,rooms=3"
    records = [
        rec("act", small, 0, True, 1.0),
        rec("act", small2, 0, False, 0.0),
        rec("act", small, 1, True, 1.0),
        rec("act", small2, 1, True, 1.0),
        rec("act", big, 0, False, 0.5),
        rec("act", big, 1, False, 0.0),
        rec("learnact", big, 0, True, 1.0),
        rec("learnact", big, 0, True, 0.2),  # written twice: the first counts
        {**rec("act", "p1", 0, True, 1.0), "env": "alfworld/put"},  # no size: left out
    ]
    rows = summarize_by_size(records, instance_size)
    assert [(r["method"], r["size"], r["episodes"], r["runs"]) for r in rows] == [
        ("act", 1, 4, 2),
        ("act", 3, 2, 2),
        ("learnact", 3, 1, 1),
    ]
    act1 = rows[0]
    assert act1["success_mean"] == pytest.approx(0.75) and act1["success_std"] == pytest.approx(0.25)  # runs: 0.5, 1.0
    assert act1["progress_mean"] == pytest.approx(0.75) and rows[2]["progress_mean"] == 1.0
    md = size_markdown(rows).splitlines()
    assert md[2] == "| task | size | act | learnact |"
    assert md[4] == "| pddl/gripper | 1 | 0.75 ± 0.25 (0.75) | - |"
    assert md[5] == "| pddl/gripper | 3 | 0.00 ± 0.00 (0.25) | 1.00 ± 0.00 (1.00) |"
    parsed = list(csv.DictReader(io.StringIO(size_csv(rows))))
    assert list(parsed[0]) == list(SIZE_COLUMNS) and [p["size"] for p in parsed] == ["1", "3", "3"]
    assert size_markdown([r for r in rows if r["size"] == 3]) == ""  # one size: the main table says it all


def test_evaluate_writes_and_returns_the_per_size_summary(tmp_path):
    from test_evaluate import eval_ctx, evaluate, scripted_agent, scripted_learner

    from nodes.summary import size_markdown, to_markdown

    one, two = tmp_path / "one.pddl", tmp_path / "two.pddl"
    one.write_text(TINY_GRIPPER)
    two.write_text(two_ball_gripper())
    ctx = eval_ctx(tmp_path, scripted_agent(), scripted_learner, max_steps=len(TINY_PLAN) + 1)
    final = evaluate(ctx, ["act"], [str(one)], [str(one), str(two)], runs=2)
    by_size = {r["size"]: r for r in final["summary_by_size"]}
    assert set(by_size) == {1, 2} and by_size[1]["episodes"] == 2 and by_size[1]["runs"] == 2
    assert (
        by_size[1]["success_mean"] == 1.0 and by_size[2]["success_mean"] == 0.0 and by_size[2]["progress_mean"] == 0.5
    )
    run_dir = Path(ctx.run_dir)
    assert (run_dir / "summary.md").read_text() == to_markdown(final["summary"]) + "\n" + size_markdown(
        final["summary_by_size"]
    )
    assert [r["size"] for r in csv.DictReader((run_dir / "summary_by_size.csv").open())] == ["1", "2"]


# ------------------------------------------------------------------------------ the report's plot
def make_ladder_run(root: Path, method: str = "learnact") -> Path:
    run = root / "evaluate-ladder"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"graph": "evaluate", "env": "pddl/gripper"}))
    eps = []
    for m, wins in (("act", {1: True, 2: False, 3: False}), (method, {1: True, 2: True, 3: False})):
        for balls, won in wins.items():
            inst = f"gen:seed=1000,balls={balls},rooms=3"
            eps.append(
                {
                    "episode_id": f"{m}|pddl/gripper|{inst}#run0",
                    "method": m,
                    "env": "pddl/gripper",
                    "instance": inst,
                    "run": 0,
                    "success": won,
                    "progress": 1.0 if won else 0.5,
                    "steps": 3,
                    "trajectory": [],
                }
            )
    (run / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in eps))
    return run


def test_report_plots_success_against_size_one_line_per_method(tmp_path):
    from learnact.viz.report import write_report

    html = write_report(make_ladder_run(tmp_path), graph_html="").read_text()
    svg = re.search(r'<svg id="size-plot-pddl-gripper".*?</svg>', html, re.S)
    assert svg, "no success-against-size plot"
    plot = svg.group(0)
    for m in ("act", "learnact"):
        series = re.search(rf'<g class="series" data-series="{m}">(.*?)</g>', plot, re.S).group(1)
        assert series.count("<circle") == 3 and "<path" in series
    assert "learnact, size 2: success 1.00" in plot and "size (balls)" in plot
    assert '<a href="#sizes">sizes</a>' in html  # in the navigation
    assert "http" not in plot.replace("http://www.w3.org/2000/svg", "")  # offline: nothing fetched


def test_report_plot_escapes_method_names(tmp_path):
    from learnact.viz.report import write_report

    html = write_report(make_ladder_run(tmp_path, method='x"><script>alert(1)</script>'), graph_html="").read_text()
    assert "<script>alert(1)</script>" not in html
    assert 'data-series="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_report_prefers_the_recorded_per_size_table(tmp_path):
    from learnact.viz.report import write_report
    from nodes.summary import size_csv

    run = make_ladder_run(tmp_path)
    rows = [
        {
            "method": "react",
            "env": "pddl/gripper",
            "size": s,
            "episodes": 1,
            "runs": 1,
            "success_mean": v,
            "success_std": 0.0,
            "progress_mean": v,
        }
        for s, v in ((1, 1.0), (4, 0.0))
    ]
    (run / "summary_by_size.csv").write_text(size_csv(rows))
    plot = re.search(
        r'<svg id="size-plot-pddl-gripper".*?</svg>', write_report(run, graph_html="").read_text(), re.S
    ).group(0)
    assert 'data-series="react"' in plot and 'data-series="act"' not in plot


def test_no_size_section_for_runs_of_one_size(tmp_path):
    from learnact.viz.report import write_report

    run = make_ladder_run(tmp_path)
    eps = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    (run / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in eps if "balls=1" in e["instance"]))
    assert 'id="sizes"' not in write_report(run, graph_html="").read_text()


def test_evaluate_on_the_ladder_end_to_end(stub_server, tmp_path):
    """Through run.py with a stub OpenAI server: held-out ladder instances, the per-size table on stdout and
    on disk, the ladder in config.json and the success-against-size plot in the report."""
    from test_e2e_cli import by_prompt, cli, cli_env

    stub = stub_server(respond=by_prompt(lambda system, user: "move('rooma', 'roomb')"))
    run_dir = tmp_path / "run"
    out = subprocess.run(
        cli(
            "--graph",
            "evaluate",
            "--methods",
            "act",
            "--ladder",
            "--sizes",
            "1-2",
            "--per-size",
            "1",
            "--test-seeds",
            "4000-4999",
            "--max-steps",
            "2",
            "--base-url",
            stub.url,
            "--model",
            "stub-model",
            "--run-dir",
            str(run_dir),
        ),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    config = json.loads((run_dir / "config.json").read_text())
    assert config["ladder"]["test_seeds"] == [4000, 4999] and config["ladder"]["sizes"] == [1, 2]
    assert config["test"]["pddl/gripper"] == ladder(
        "gripper", "test", sizes=[1, 2], per_size=1, seeds=range(4000, 5000), train_per_size=1
    )
    assert "| task | size | act |" in out.stdout and "| pddl/gripper | 2 |" in out.stdout
    sized = list(csv.DictReader((run_dir / "summary_by_size.csv").open()))
    assert [(r["method"], r["size"], r["episodes"]) for r in sized] == [("act", "1", "1"), ("act", "2", "1")]
    assert 'id="size-plot-pddl-gripper"' in (run_dir / "report.html").read_text()
