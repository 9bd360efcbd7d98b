"""The learning loop end to end with a scripted learner and agent on a real PDDL env and sandbox."""

from __future__ import annotations

import pytest
from conftest_helpers import CARRY, TINY_PLAN, actions_taken, learn_on_tiny_gripper, tiny_gripper
from fakes import ScriptedChatModel, answer, by_node, calls_of

from graphs.act import build_act_graph
from graphs.learn import build_learn_graph
from learnact.actions import ActionStore
from learnact.llm.usage import UsageTracker
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.events import stream_events

BROKEN = CARRY.replace("    move(src, dst)", "    move(src, dst, nowhere)")  # NameError at run time
DEMO = "Goal: ball1 in roomb\nObservation: ...\nAction: carry('ball1', 'rooma', 'roomb', 'left')\nObservation: done"
GOOD_CALL = "carry('ball1', 'rooma', 'roomb', 'left')"
BAD_CALL = "carry('ball1', 'roomb', 'rooma', 'left')"  # wrong room order: the first primitive fails

UPDATE = '''Failed reason: carry assumed the robot starts in src.
Improve: Update
Content:
```python
def carry(obj, src, dst, gripper):
    """Carry a ball from src to dst, going to src first."""
    pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)
```
Test case: carry('ball1', 'rooma', 'roomb', 'left')'''
PLAN = (
    "Failed reason: wrong argument order.\nImprove: Plan: carry\nContent: Pass the room the ball is in as src.\nTest case: "
    + GOOD_CALL
)
RENAMED = UPDATE.replace("def carry(", "def carry_ball(").replace("Test case: carry(", "Test case: carry_ball(")


def learner(create=CARRY, fix=CARRY, revise=PLAN) -> dict[str, str]:
    """The learner's reply per node: the code it creates, the repair it makes, its demonstration, its revision."""
    return {
        "learn.create": f"Here you go:\n```python\n{create}\n```",
        "learn.fix": f"```python\n{fix}\n```",
        "learn.demonstrate": DEMO,
        "learn.revise": revise,
    }


def agent(call_for_library):
    """The agent's reply depends on which actions and notes it was offered."""

    def respond(system: str, user: str) -> str:
        if "Pass the room the ball is in as src." in system or "carry_ball(" in system:
            return GOOD_CALL.replace("carry(", "carry_ball(") if "carry_ball(" in system else GOOD_CALL
        if "going to src first" in system:
            return GOOD_CALL
        if "carry(" in system:
            return call_for_library
        return TINY_PLAN[min(actions_taken(user), 2)]

    return respond


def learn(tmp_path, learner_fn, agent_fn, **knobs):
    defaults = {"candidates": 2, "learn_max_steps": 4, "max_rounds": 3, "patience": 1}
    return learn_on_tiny_gripper(tmp_path, agent_fn, learner_fn, **{**defaults, **knobs})


def test_nothing_failed_stops_after_creation(tmp_path):
    final, ctx = learn(tmp_path, learner(), agent(GOOD_CALL))
    assert final["stop_reason"] == "nothing_failed"
    assert [r["round"] for r in final["rounds"]] == [0]
    assert final["best_scores"]["success_rate"] == 1.0 and final["best_scores"]["step_correction"] == 1.0
    assert len(final["rollouts"]) == 2  # 2 candidates x 1 instance
    store = ActionStore(tmp_path / "run" / "library")
    assert "carry" in store.load().names
    assert (tmp_path / "run" / "candidates" / "r0s0.py").read_text().count("def carry") == 1


def test_creation_repairs_code_that_fails_its_smoke_run(tmp_path):
    final, ctx = learn(tmp_path, learner(create=BROKEN, fix=CARRY), agent(GOOD_CALL))
    fixes = calls_of(ctx.learner_model, "learn.fix")
    assert fixes and "nowhere" in fixes[0]["user"] and "NameError" in fixes[0]["user"]
    assert final["best"] is not None and final["stop_reason"] == "nothing_failed"
    assert final["best"]["attempts"]  # the error met on the way is kept


def test_unrepairable_candidates_are_dropped_and_learning_stops_cleanly(tmp_path):
    final, _ = learn(
        tmp_path, learner(create="def carry(:\n  pass", fix="def carry(:\n  pass"), agent(GOOD_CALL), create_tries=2
    )
    assert final["stop_reason"] == "no_working_candidate" and final["best"] is None
    assert all(c["library"] is None and c["error"] for c in final["candidates"])


def test_plan_revision_adds_a_note_and_fixes_the_failure(tmp_path):
    final, ctx = learn(tmp_path, learner(revise=PLAN), agent(BAD_CALL))
    assert [r["round"] for r in final["rounds"]] == [0, 1]
    assert final["stop_reason"] == "nothing_failed"
    best = final["best"]
    assert best["origin"] == "plan" and best["parent"].startswith("r0")
    assert "Pass the room the ball is in as src." in best["library"].get("carry").notes
    revise_prompt = calls_of(ctx.learner_model, "learn.revise")[0]["user"]
    assert BAD_CALL in revise_prompt and "FAIL" in revise_prompt  # the failing call and its primitive trace
    history = (tmp_path / "run" / "library" / "history.jsonl").read_text().splitlines()
    assert len(history) >= 2  # created version + the version with the note: nothing overwritten


def test_update_revision_replaces_code_and_keeps_versions(tmp_path):
    final, _ = learn(tmp_path, learner(revise=UPDATE), agent(BAD_CALL))
    best = final["best"]
    assert best["origin"] == "update" and final["stop_reason"] == "nothing_failed"
    store = ActionStore(tmp_path / "run" / "library")
    assert len(store.versions("carry")) == 2
    assert "going to src first" in store.load().get("carry").source


def test_renamed_update_adds_the_new_action_beside_the_old(tmp_path):
    final, _ = learn(tmp_path, learner(revise=RENAMED), agent(BAD_CALL))
    assert {"carry", "carry_ball"} <= set(final["best"]["library"].names)
    assert final["stop_reason"] == "nothing_failed"


def test_plateau_stops_the_loop(tmp_path):
    useless = PLAN.replace("Pass the room the ball is in as src.", "Think carefully.")
    final, _ = learn(tmp_path, learner(revise=useless), agent(BAD_CALL), patience=1, max_rounds=5)
    assert final["stop_reason"] == "plateau" and [r["round"] for r in final["rounds"]] == [0, 1]
    assert final["best"]["id"].startswith("r0")  # a tie keeps the previous best


def test_round_cap(tmp_path):
    useless = PLAN.replace("Pass the room the ball is in as src.", "Think carefully.")
    final, _ = learn(tmp_path, learner(revise=useless), agent(BAD_CALL), patience=10, max_rounds=2)
    assert final["stop_reason"] == "max_rounds" and [r["round"] for r in final["rounds"]] == [0, 1, 2]


def test_unparseable_revision_is_dropped_not_fatal(tmp_path):
    final, _ = learn(tmp_path, learner(revise="I cannot help with that."), agent(BAD_CALL))
    dropped = [c for c in final["candidates"] if c["round"] == 1]
    assert dropped and all(c["library"] is None and "Improve" in c["error"] for c in dropped)
    assert final["stop_reason"] == "plateau"


def _overlap_probe(respond):
    """Wrap a reply function (or replies per node): record the largest number of model calls in flight at once."""
    import threading
    import time

    lock, state = threading.Lock(), {"now": 0, "max": 0}

    respond = by_node(respond) if isinstance(respond, dict) else respond

    def probe(system: str, user: str, node: str | None) -> str:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)  # long enough for parallel branches to meet here
        with lock:
            state["now"] -= 1
        return answer(respond, system, user, node)

    return probe, state


@pytest.mark.parametrize("concurrency, bounded", [(1, True), (None, False)])
def test_concurrency_bounds_the_work_in_flight(tmp_path, concurrency, bounded):
    learner_probe, seen_l = _overlap_probe(learner())
    agent_probe, seen_a = _overlap_probe(agent(GOOD_CALL))
    final, _ = learn(tmp_path, learner_probe, agent_probe, candidates=3, concurrency=concurrency)
    assert final["stop_reason"] == "nothing_failed"
    peak = max(seen_l["max"], seen_a["max"])
    # 3 candidates are created and rolled out in parallel branches: unbounded they overlap,
    # with one slot never (one episode's requests stay consecutive for the local server).
    assert (peak == 1) if bounded else (peak > 1)


def test_failures_without_a_learned_call_stop_with_their_own_reason(tmp_path):
    shuttle = lambda system, user: "move('rooma', 'roomb')"  # never calls carry, never wins  # noqa: E731
    final, ctx = learn(tmp_path, learner(), shuttle)
    assert final["best_scores"]["success_rate"] == 0.0
    assert final["stop_reason"] == "no_failed_learned_call"  # not "nothing_failed": episodes did fail
    assert not calls_of(ctx.learner_model, "learn.revise")  # nothing to revise from


def test_repair_events_count_only_repairs_that_are_made(tmp_path):
    """Seen live: 'repair attempt 5' with create_tries=4, though the fifth error was not sent for repair."""
    inst = tiny_gripper(tmp_path)
    broken = ["def carry(:\n  pass", "def carry()\n  pass"]  # two different errors in turn: no early stop
    fixes_made = []

    def fix(system: str, user: str) -> str:
        fixes_made.append(1)
        return f"```python\n{broken[len(fixes_made) % 2]}\n```"

    learner_fn = {**learner(create=broken[0]), "learn.fix": fix}

    ctx = Context(
        agent_model=ScriptedChatModel(agent(GOOD_CALL)),
        learner_model=ScriptedChatModel(learner_fn),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        run_dir=str(tmp_path / "run"),
        rollout_graph=build_act_graph(checkpointer=False),
        candidates=1,
        create_tries=2,
    )
    inputs = {"env_name": "pddl/gripper", "train_instances": [inst]}
    try:
        events = list(stream_events(build_learn_graph(), inputs, context=ctx))
    finally:
        ctx.episodes.close_all()
    fixes = calls_of(ctx.learner_model, "learn.fix")
    assert len(fixes) == 2
    assert [e["attempt"] for e in events if e.get("event") == "repair"] == [1, 2]
    assert any(e.get("event") == "candidate_dropped" for e in events)


def test_the_closing_lines_say_how_the_library_did_in_training_and_warn_when_no_call_worked(tmp_path):
    from learnact.actions import ActionLibrary
    from learnact.cli.learn_cmd import closing_lines
    from learnact.cli.runs import RunDir

    run = RunDir(tmp_path / "run")
    lib = ActionLibrary.from_code(CARRY)
    good = {"best": {"library": lib}, "best_scores": {"C": 4, "S": 3, "T": 9, "success_rate": 0.5}}
    text = closing_lines(good, run, "pddl/gripper")
    assert "(carry)" in text and "3 of 4 learned calls succeeded" in text and "warning" not in text
    assert f"python run.py --graph act --env pddl/gripper --actions {run.path}" in text
    bad = {"best": {"library": lib}, "best_scores": {"C": 5, "S": 0, "T": 9, "success_rate": 0.0}}
    assert "warning: no learned call succeeded in training" in closing_lines(bad, run, "pddl/gripper")
    none = closing_lines({"stop_reason": "no_working_candidate"}, run, "pddl/gripper")
    assert none.startswith("no candidate action set worked (no_working_candidate)") and "candidates" in none


WRONG_WAY = '''def carry(obj, src, dst, gripper):
    """Carry a ball from one room to another with one gripper."""
    move(src, dst)
    pick(obj, src, gripper)
    return drop(obj, dst, gripper)
'''


def test_an_action_the_agent_never_calls_is_probed_and_revised_instead_of_kept_broken(tmp_path):
    never = lambda s, u: TINY_PLAN[min(actions_taken(u), 2)]  # noqa: E731  (primitives only, whatever is offered)
    final, ctx = learn(
        tmp_path, learner(create=WRONG_WAY, revise=UPDATE), never, candidates=1, max_rounds=1, creation_trials=False
    )
    revise_prompts = [c["user"] for c in calls_of(ctx.learner_model, "learn.revise")]
    assert revise_prompts, "learning stopped with the broken action instead of revising it"
    assert "the agent never called the learned actions in training" in revise_prompts[0]
    assert "FAIL pick(" in revise_prompts[0] or "FAIL move(" in revise_prompts[0]
    assert final["rounds"][0]["failures"] >= 1


def test_probing_is_off_with_the_paper_protocol(tmp_path):
    never = lambda s, u: TINY_PLAN[min(actions_taken(u), 2)]  # noqa: E731
    final, ctx = learn(
        tmp_path,
        learner(create=WRONG_WAY, revise=UPDATE),
        never,
        candidates=1,
        probe_unused=False,
        creation_trials=False,
    )
    assert final["stop_reason"] == "nothing_failed"  # the primitives alone won the training task
    assert not calls_of(ctx.learner_model, "learn.revise")


def test_a_revision_makes_its_environment_once_for_its_checks_and_repairs(tmp_path, monkeypatch):
    import nodes.revise
    from nodes.episodes import EpisodeRegistry as Registry

    good = UPDATE.split("```python\n")[1].split("```")[0]
    broken = UPDATE.replace("    move(src, dst)", "    move(src, dst, nowhere)")  # its test case breaks: one repair
    made, revising = [], []
    make, revise = Registry.make_env, nodes.revise.revise
    monkeypatch.setattr(
        Registry, "make_env", lambda self, env, inst: made.append((bool(revising), inst)) or make(self, env, inst)
    )

    def counted(*args):
        revising.append(1)
        try:
            return revise(*args)
        finally:
            revising.pop()

    monkeypatch.setattr(nodes.revise, "revise", counted)
    final, ctx = learn(
        tmp_path,
        {**learner(revise=broken), "learn.fix": f"```python\n{good}\n```"},
        agent(BAD_CALL),
        candidates=1,
        max_rounds=1,
    )
    assert len(calls_of(ctx.learner_model, "learn.fix")) == 1 and final["best"]["origin"] == "update"
    in_revision = [inst for revising_now, inst in made if revising_now]  # the training instance, the example's (trials)
    assert in_revision and len(in_revision) == len(
        set(in_revision)
    )  # two checks (the update's, the repair's), one each


def test_a_revisions_repairs_are_streamed_once_as_the_revisions_own_events(tmp_path):
    good = UPDATE.split("```python\n")[1].split("```")[0]
    broken = UPDATE.replace("    move(src, dst)", "    move(src, dst, nowhere)")
    learner_fn = {**learner(revise=broken), "learn.fix": f"```python\n{good}\n```"}
    ctx = Context(
        agent_model=ScriptedChatModel(agent(BAD_CALL)),
        learner_model=ScriptedChatModel(learner_fn),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        run_dir=str(tmp_path / "run"),
        rollout_graph=build_act_graph(checkpointer=False),
        candidates=1,
        learn_max_steps=4,
        max_rounds=1,
        concurrency=1,
    )
    inputs = {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}
    try:
        events = list(stream_events(build_learn_graph(), inputs, context=ctx))
    finally:
        ctx.episodes.close_all()
    repairs = [e for e in events if e["event"] == "repair"]
    assert [(e["candidate_id"], e["attempt"]) for e in repairs] == [("r1s0", 1)] and "NameError" in repairs[0]["error"]
    assert [e["candidate_id"] for e in events if e["event"] == "candidate_ready"] == ["r0s0", "r1s0"]


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ({"round": 0}, "no_working_candidate"),
        ({"round": 0, "best": {"id": "r0s0"}, "best_scores": {"success_rate": 1.0}}, "nothing_failed"),
        ({"round": 0, "best": {"id": "r0s0"}, "best_scores": {"success_rate": 0.5}}, "no_failed_learned_call"),
        ({"round": 2, "best": {"id": "r0s0"}, "failures": [{"name": "carry"}]}, "max_rounds"),
        ({"round": 1, "best": {"id": "r0s0"}, "failures": [{"name": "carry"}], "stale_rounds": 1}, "plateau"),
        ({"round": 1, "best": {"id": "r0s0"}, "failures": [{"name": "carry"}], "stale_rounds": 0}, None),
        (
            {"round": 0, "best": {"id": "r0s0"}, "failures": [{"name": "carry"}], "stale_rounds": 1},
            None,
        ),  # round 0 never plateaus
    ],
)
def test_the_stop_rules_are_one_function_read_in_order(state, reason):
    """nodes/learn.py ``stop_rule``: what error identification routes on and finalize reports (None: revise)."""
    from types import SimpleNamespace

    from nodes.learn import stop_rule

    assert stop_rule(state, SimpleNamespace(max_rounds=2, patience=1)) == reason
    fixed_rounds = SimpleNamespace(max_rounds=2, patience=0)  # patience 0: no plateau, however stale
    assert stop_rule({**state, "stale_rounds": 5}, fixed_rounds) == (None if reason == "plateau" else reason)
