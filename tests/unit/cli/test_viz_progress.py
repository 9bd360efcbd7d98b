"""The progress printer: plain lines off a terminal, a rich live panel on one."""

from __future__ import annotations

import io

from learnact.cli.progress import ProgressPrinter


class FakeUsage:
    def totals(self, key=None):
        return {"total_tokens": 4321, "prompt_tokens": 4000, "completion_tokens": 321, "cost": None}


EVENTS = [
    {"event": "candidate_start", "candidate_id": "r0s0", "round": 0},
    {"event": "candidate_ready", "candidate_id": "r0s0", "round": 0},
    {"event": "rollout_start", "candidate_id": "r0s0", "instance": "p1"},
    {"event": "rollout_end", "candidate_id": "r0s0", "instance": "p1", "success": True, "steps": 4},
    {
        "event": "round_scored",
        "round": 0,
        "score_type": "call_ratio_success",
        "dropped": [],
        "best_id": "r0s0",
        "best_score": 1.25,
        "candidates": [{"id": "r0s0", "scores": {"call_ratio_success": 1.25, "success_rate": 1.0}}],
    },
    {"event": "errors_identified", "round": 0, "target": "carry", "failures": 2, "target_failures": 2},
    {"event": "candidate_start", "candidate_id": "r1s0", "round": 1},
    {"event": "rollout_start", "candidate_id": "r1s0", "instance": "p1"},
]


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    progress = ProgressPrinter(FakeUsage(), stream=out)
    for e in EVENTS:
        progress(e)
    progress.close()
    text = out.getvalue()
    assert "round 0 scored: r0s0=1.25 (train success 1.00); best r0s0 (1.25)" in text
    assert "tokens 4,321 cost n/a" in text  # an unknown price is not printed as $0
    assert "\x1b[" not in text  # no terminal control codes in a log file
    assert progress.state.round == 1 and list(progress.state.in_flight) == ["r1s0@p1"]


def test_live_panel_shows_round_best_in_flight_and_tokens():
    out = io.StringIO()
    progress = ProgressPrinter(FakeUsage(), stream=out, max_rounds=3, live=True)
    for e in EVENTS:
        progress(e)
    progress.close()
    text = out.getvalue()
    assert "round 1/3" in text and "best r0s0 1.250" in text and "in flight 1" in text
    assert "tokens 4,321" in text and "remaining <=" in text
    assert "r1s0" in text and "writing" in text  # the candidate being revised is listed


def test_remaining_time_from_episode_throughput():
    progress = ProgressPrinter(None, stream=io.StringIO(), total_episodes=4)
    assert progress.remaining_estimate() == "?"
    progress({"event": "episode_start", "episode_id": "p1#run0"})
    progress({"event": "episode_end", "episode_id": "p1#run0", "success": True, "progress": 1.0, "steps": 3})
    assert progress.state.episodes_done == 1 and progress.state.episodes_won == 1
    assert progress.remaining_estimate().startswith("~")


def test_events_of_parallel_learning_runs_keep_their_candidates_apart():
    out = io.StringIO()
    progress = ProgressPrinter(FakeUsage(), stream=out)
    for scope in ("learnact|pddl/gripper", "learnact|pddl/blockworld"):
        for e in EVENTS[:5]:
            progress({**e, "scope": scope})
    progress.close()
    assert {"learnact@gripper:r0s0", "learnact@blockworld:r0s0"} <= set(progress.state.candidates)
    assert progress.state.candidates["learnact@gripper:r0s0"].rollouts_done == 1  # not 2: the runs stay apart
    assert "round 0 scored: learnact@blockworld:r0s0=1.25" in out.getvalue()


def test_evaluation_events_are_counted_and_shown():
    out = io.StringIO()
    progress = ProgressPrinter(FakeUsage(), stream=out, total_episodes=2)
    progress({"event": "learning_start", "method": "learnact", "env": "pddl/gripper"})
    progress(
        {"event": "learning_end", "method": "learnact", "env": "pddl/gripper", "wall_s": 12.5, "total_tokens": 900}
    )
    progress(
        {
            "event": "episode_recorded",
            "episode_id": "act|pddl/gripper|prob01#run0",
            "success": False,
            "progress": 0.5,
            "steps": 15,
            "tokens": 2000,
        }
    )
    progress.close()
    text = out.getvalue()
    assert (
        "learning learnact on pddl/gripper" in text
        and "learned learnact on pddl/gripper in 12.5 s (900 tokens)" in text
    )
    assert "act|pddl/gripper|prob01#run0: fail in 15 steps (progress 0.50, 2,000 tokens)" in text
    assert progress.state.episodes_done == 1 and progress.state.episodes_won == 0
