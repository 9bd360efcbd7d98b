"""run.py: bad input gets one clear line and a non-zero exit, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=timeout
    )


def test_help_works():
    out = run_cli("--help")
    assert out.returncode == 0 and "--graph" in out.stdout and "--resume" in out.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--graph", "act", "--env", "pddl/chess"], "unknown environment"),
        (["--graph", "act", "--env", "pddl/gripper", "--data-dir", "/nonexistent/data"], "does not exist"),
        (["--graph", "learn", "--prompt", "act=/nonexistent/act.md"], "cannot read"),
        (["--graph", "learn", "--prompt", "nonode=x.md"], "unknown node"),
        (["--graph", "act", "--actions", "/nonexistent/lib.py"], "no such file"),
        (["--graph", "learn", "--resume", "/nonexistent/run"], "not a run folder"),
        (["--graph", "learn", "--candidates", "0"], "must be positive"),
        (["--graph", "evaluate", "--methods", "act,magic"], "unknown magic"),
        (["--graph", "evaluate", "--env", "chess/*"], "no environment family"),
        (["--graph", "act", "--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1,prob99"], "no instance 'prob99'"),
        (["--graph", "learn", "--env", "pddl/gripper", "--instance", "gen:seed=1,bals=1"], "unknown size 'bals'"),
    ],
)
def test_bad_input_is_one_clear_line(args, message, tmp_path):
    out = run_cli(*args, "--run-dir", str(tmp_path / "run"))
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_flag_value_is_argparse_usage_not_traceback():
    out = run_cli("--graph", "dance")
    assert out.returncode == 2 and "invalid choice" in out.stderr and "Traceback" not in out.stderr


def test_prompts_listing_and_show():
    listing = run_cli("prompts")
    assert listing.returncode == 0 and "revise_actions" in listing.stdout and "required:" in listing.stdout
    show = run_cli("prompts", "show", "revise_actions")
    assert show.returncode == 0 and "Improve: Update" in show.stdout


def test_existing_run_folder_is_not_overwritten(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text("{}")
    out = run_cli("--graph", "learn", "--run-dir", str(run_dir))
    assert out.returncode == 2 and "already holds a run" in out.stderr
    assert (run_dir / "config.json").read_text() == "{}"


def test_draw_mermaid_shows_the_learning_loop():
    out = run_cli("--graph", "learn", "--draw", "mermaid")
    assert out.returncode == 0, out.stderr
    assert "identify_errors" in out.stdout and "revise_candidate" in out.stdout and "score" in out.stdout


def test_generated_instances_keep_their_sizes_in_comma_separated_lists():
    from cli.commands import _split_list

    assert _split_list(["gen:seed=1,balls=2,gen:seed=2", "prob01, prob02", "gen:seed=3,balls=4,rooms=3,prob05"]) == [
        "gen:seed=1,balls=2", "gen:seed=2", "prob01", "prob02", "gen:seed=3,balls=4,rooms=3", "prob05",
    ]  # fmt: skip
