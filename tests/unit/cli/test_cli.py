"""run.py: bad input gets one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest_helpers import ROOT


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
        (
            ["--graph", "act", "--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1,prob99"],
            "no instance 'prob99'",
        ),
        (["--graph", "learn", "--env", "pddl/gripper", "--instance", "gen:seed=1,bals=1"], "unknown size 'bals'"),
        (["--graph", "act", "--valid-actions-only", "--no-grammar"], "cannot go with --no-grammar"),
        (
            ["--graph", "evaluate", "--valid-actions-only", "--model", "gpt-4o-mini"],
            "only the local model server takes",
        ),
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
    assert show.returncode == 0 and "{{revision_format}}" in show.stdout  # the Update/Plan format, as --revision allows


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
    from learnact.cli.resolve import split_list as _split_list

    assert _split_list(["gen:seed=1,balls=2,gen:seed=2", "prob01, prob02", "gen:seed=3,balls=4,rooms=3,prob05"]) == [
        "gen:seed=1,balls=2",
        "gen:seed=2",
        "prob01",
        "prob02",
        "gen:seed=3,balls=4,rooms=3",
        "prob05",
    ]


def test_stream_stays_live_while_orchestrating_tasks_wait_on_nested_graphs():
    """Two evaluation-style tasks each stream a nested graph and forward its events. Each inner event
    waits (up to 2 s) for the outer consumer to receive it. With the pool sized for the leaf slots
    alone (max_concurrency = concurrency + 1), both threads are taken by the orchestrators, the
    stream's waiter gets none, and nothing is delivered until they finish (seen: an evaluation's
    live view silent during all of Reflexion's learning)."""
    import operator
    import threading
    from typing import Annotated, TypedDict

    from langgraph.config import get_stream_writer
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    from learnact.cli.session import stream_config

    acks = {(o, i): threading.Event() for o in range(2) for i in range(3)}

    S = TypedDict("S", {"x": Annotated[list, operator.add]})  # noqa: N806, UP013 (functional form: no string annotations)

    def inner_node(s):
        o, received = s["x"][0], []
        for i in range(3):
            get_stream_writer()({"o": o, "i": i})
            received.append(acks[(o, i)].wait(2))
        return {"x": received}

    inner = StateGraph(S)
    inner.add_node("n", inner_node)
    inner.add_edge(START, "n")
    inner.add_edge("n", END)
    inner = inner.compile()

    def orchestrate(s):
        for mode, chunk in inner.stream({"x": s["x"]}, stream_mode=["custom", "values"]):
            if mode == "custom":
                get_stream_writer()(chunk)
            else:
                last = chunk["x"][1:]
        return {"x": [last]}

    outer = StateGraph(S)
    outer.add_node("o", orchestrate)
    outer.add_conditional_edges(START, lambda s: [Send("o", {"x": [o]}) for o in range(2)])
    outer.add_edge("o", END)
    outer = outer.compile()
    config = stream_config("t", 1, orchestrators=2)
    config.pop("configurable")
    final = None
    for mode, chunk in outer.stream({"x": []}, config, stream_mode=["custom", "values"]):
        if mode == "custom":
            acks[(chunk["o"], chunk["i"])].set()
        else:
            final = chunk["x"]
    assert final == [[True, True, True], [True, True, True]]  # every event reached the consumer at once


def test_resume_line_counts_the_pending_nodes_instead_of_repeating_them():
    """Seen resuming a 68-episode evaluation: the line listed `run_episode` 68 times."""
    from learnact.cli.session import pending_nodes

    assert pending_nodes(("run_episode",) * 68 + ("learn",)) == "run_episode ×68, learn"
    assert pending_nodes(("rollout", "score")) == "rollout, score"
    assert pending_nodes(()) == ""
