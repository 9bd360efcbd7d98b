"""A person in the loop (issue 28, nodes/review.py): the learning graph pauses with interrupt() for a review of new and
changed code and is resumed with Command(resume=answers); scripted learner and agent, real PDDL env and sandbox,
the run's SQLite checkpointer."""

from __future__ import annotations

import json

from conftest_helpers import CARRY, TINY_PLAN, actions_taken, tiny_gripper
from fakes import ScriptedChatModel, calls_of
from langgraph.types import Command

from graphs.act import build_act_graph
from graphs.learn import build_learn_graph
from learnact.actions import ActionStore
from learnact.llm.usage import UsageTracker
from nodes.checkpoint import sqlite_checkpointer
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.review import review_note_text

GOOD_CALL = "carry('ball1', 'rooma', 'roomb', 'left')"
BAD_CALL = "carry('ball1', 'roomb', 'rooma', 'left')"  # wrong room order: the learner's carry fails on it
DEMO = "Goal: ball1 in roomb\nObservation: ...\nAction: carry('ball1', 'rooma', 'roomb', 'left')\nObservation: done"
SWAPPED = '''def carry(obj, dst, src, gripper):
    """Carry a ball; the rooms in the order the agent gives them (a person's edit)."""
    pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)
'''
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
SWAPPED_UPDATE = UPDATE.replace("def carry(obj, src, dst, gripper):", "def carry(obj, dst, src, gripper):").replace(
    "going to src first", "rooms in either order"
)
REASON = "Do not assume where the robot starts; take the rooms in the order the agent gives them."


def learner(revise=UPDATE):
    return {
        "learn.create": f"```python\n{CARRY}\n```",
        "learn.fix": f"```python\n{CARRY}\n```",
        "learn.demonstrate": DEMO,
        "learn.revise": revise,
    }


def agent(call: str):
    def respond(system: str, user: str) -> str:
        return call if "carry(" in system else TINY_PLAN[min(actions_taken(user), 2)]

    return respond


class Run:
    """One learning run with its checkpointer: start it, answer its reviews, read its state."""

    def __init__(self, tmp_path, learner_fn, agent_fn, problem_dir=None, **knobs):
        tmp_path.mkdir(parents=True, exist_ok=True)
        knobs = {"candidates": 1, "learn_max_steps": 4, "max_rounds": 2, "patience": 0, "review": True, **knobs}
        self.ctx = Context(
            agent_model=ScriptedChatModel(agent_fn),
            learner_model=ScriptedChatModel(learner_fn),
            usage=UsageTracker(),
            episodes=EpisodeRegistry(),
            run_dir=str(tmp_path / "run"),
            rollout_graph=build_act_graph(checkpointer=False),
            **knobs,
        )
        self.inputs = {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(problem_dir or tmp_path)]}
        self.db, self.config = tmp_path / "checkpoints.sqlite", {"configurable": {"thread_id": "learn"}}
        self.run_dir = tmp_path / "run"

    def step(self, value):
        """Run until the next review or the end; the pending review's payload (None at the end)."""
        with sqlite_checkpointer(self.db) as saver:
            graph = build_learn_graph(checkpointer=saver)
            try:
                graph.invoke(value, self.config, context=self.ctx)
            finally:
                self.ctx.episodes.close_all()
            snapshot = graph.get_state(self.config)
            self.values = snapshot.values
            return snapshot.interrupts[0].value if snapshot.interrupts else None

    def until_done(self, answer):
        """Start, answer each review with ``answer(request)``; every request seen."""
        seen, request = [], self.step(self.inputs)
        while request is not None:
            seen.append(request)
            request = self.step(Command(resume=answer(request)))
        return seen


def approve_all(request):
    return [{"candidate_id": f["candidate_id"], "name": f["name"], "decision": "approve"} for f in request["functions"]]


def test_the_review_shows_new_code_with_its_diff_and_what_judged_it(tmp_path):
    run = Run(tmp_path, learner(), agent(GOOD_CALL))
    request = run.step(run.inputs)
    assert request["kind"] == "review" and request["round"] == 0 and request["problems"] == []
    (f,) = request["functions"]
    assert (f["candidate_id"], f["name"], f["status"], f["version"]) == ("r0s0", "carry", "new", 1)
    assert f["code"].strip() == CARRY.strip() and f["description"].startswith("Carry a ball")
    assert "+def carry(obj, src, dst, gripper):" in f["diff"] and "--- /dev/null" in f["diff"]
    assert any("carry('ball1', 'rooma', 'roomb', 'left')" in j for j in f["judged_by"])  # the demonstration's calls
    assert not run.values.get("rollouts")  # nothing of the code ran in a rollout before the person answered


def test_approving_everything_learns_the_same_library_as_without_review(tmp_path):
    reviewed = Run(tmp_path / "a", learner(), agent(BAD_CALL), tmp_path)
    requests = reviewed.until_done(approve_all)
    assert [r["round"] for r in requests] == [0, 1, 2]  # after creation and after each revision that changed code
    assert (
        requests[1]["functions"][0]["status"] == "changed" and "-def carry" not in requests[1]["functions"][0]["diff"]
    )
    plain = Run(tmp_path / "b", learner(), agent(BAD_CALL), tmp_path, review=False)
    assert plain.step(plain.inputs) is None
    ours, theirs = reviewed.values, plain.values
    assert ours["best"]["library"].code == theirs["best"]["library"].code
    assert [(a.name, a.version, a.author) for a in ours["best"]["library"].all_functions] == [
        (a.name, a.version, a.author) for a in theirs["best"]["library"].all_functions
    ]
    assert ours["stop_reason"] == theirs["stop_reason"]
    assert (
        calls_of(reviewed.ctx.learner_model, "learn.revise")[0]["user"]
        == calls_of(plain.ctx.learner_model, "learn.revise")[0]["user"]
    )


def test_a_rejection_is_told_to_the_learner_and_the_next_version_differs(tmp_path):
    def revise(system: str, user: str) -> str:  # told why, the learner writes another version
        return SWAPPED_UPDATE if REASON in user else UPDATE

    def answer(request):
        if request["round"] == 1:
            return [{"candidate_id": "r1s0", "name": "carry", "decision": "reject", "reason": REASON}]
        return approve_all(request)

    run = Run(tmp_path, learner(revise), agent(BAD_CALL), max_rounds=3)
    requests = run.until_done(answer)
    revisions = calls_of(run.ctx.learner_model, "learn.revise")
    assert REASON not in revisions[0]["user"] and REASON in revisions[1]["user"]
    rejected = next(c for c in run.values["candidates"] if c["id"] == "r1s0")
    assert rejected["library"] is None and "rejected carry" in rejected["error"]
    assert rejected["review"] == [
        {"name": "carry", "decision": "reject", "reason": REASON, "learner_code": rejected["review"][0]["learner_code"]}
    ]
    second = next(r for r in requests if r["round"] == 2)["functions"][0]
    assert (
        "def carry(obj, dst, src, gripper)" in second["code"]
        and "going to src first" in rejected["review"][0]["learner_code"]
    )
    assert run.values["best"]["id"] == "r2s0" and run.values["stop_reason"] == "nothing_failed"


def test_an_edit_is_checked_called_by_the_agent_and_recorded_as_the_persons(tmp_path):
    def answer(request):
        return [
            {"candidate_id": "r0s0", "name": "carry", "decision": "edit", "code": SWAPPED, "reason": "rooms as given"}
        ]

    run = Run(tmp_path, learner(), agent(BAD_CALL))
    run.until_done(answer)
    final = run.values
    carry = final["best"]["library"].get("carry")
    assert carry.author == "person" and carry.params == ("obj", "dst", "src", "gripper") and carry.version == 2
    assert (
        final["stop_reason"] == "nothing_failed" and final["best_scores"]["success_rate"] == 1.0
    )  # the agent's BAD_CALL works with the edit
    (rollout,) = final["rollouts"]
    assert rollout["steps"][0]["action"] == BAD_CALL and rollout["steps"][0]["ok"]
    history = [json.loads(line) for line in (run.run_dir / "library" / "history.jsonl").read_text().splitlines()]
    assert [(h["name"], h["version"], h.get("author"), h["reason"]) for h in history] == [
        ("carry", 2, "person", "edited by a person: rooms as given")
    ]
    assert "written by: person" in (run.run_dir / "library" / "carry" / "v2.py").read_text()
    assert ActionStore(run.run_dir / "library").load().get("carry").author == "person"


def test_an_edit_that_fails_the_checks_is_asked_again(tmp_path):
    broken = SWAPPED.replace("    move(src, dst)", "    move(src, dst, nowhere)")  # NameError in the sandbox
    answers = iter(
        [
            [{"name": "carry", "decision": "edit", "code": broken}],
            [{"name": "carry", "decision": "maybe"}],
            [{"name": "carry", "decision": "approve"}],
        ]
    )
    run = Run(tmp_path, learner(), agent(GOOD_CALL))
    requests = run.until_done(lambda request: next(answers))
    assert len(requests) == 3 and requests[0]["problems"] == []
    assert "does not pass the checks" in requests[1]["problems"][0] and "NameError" in requests[1]["problems"][0]
    assert "decision must be one of approve, reject, edit" in requests[2]["problems"][0]
    assert run.values["best"]["library"].get("carry").author == "" and run.values["stop_reason"] == "nothing_failed"


def test_the_note_the_learner_gets():
    assert review_note_text([]) == ""
    text = review_note_text([{"name": "carry", "round": 1, "reason": "too slow"}])
    assert text.startswith("A person reviewing your code rejected") and "- carry (round 1): too slow" in text


def test_answers_are_read_leniently_and_wrong_ones_are_said():
    from nodes.learning.review_apply import parse_answers

    functions = [
        {"candidate_id": "r0s0", "name": "carry"},
        {"candidate_id": "r0s1", "name": "carry"},
        {"candidate_id": "r0s1", "name": "go"},
    ]
    answers, problems = parse_answers(
        {"answers": [{"name": "go", "decision": "reject", "reason": " slow "}]}, functions
    )
    assert answers == {("r0s1", "go"): {"decision": "reject", "reason": "slow", "code": ""}} and problems == []
    assert parse_answers(None, functions) == ({}, [])  # nothing answered: everything approved
    _, problems = parse_answers(
        [
            {"name": "carry", "decision": "approve"},
            {"name": "fly", "decision": "approve"},
            {"candidate_id": "r0s0", "name": "carry", "decision": "edit"},
            "yes",
        ],
        functions,
    )
    assert problems == [
        "carry is under review in several candidates (r0s0, r0s1): give its candidate_id",
        "no function 'fly' of candidate None is under review",
        "r0s0:carry: an edit needs the function's code",
        "an answer must be an object, got 'yes'",
    ]
    assert parse_answers("approve", functions)[1] == [
        "the answers must be a list of {candidate_id, name, decision}, got str"
    ]
