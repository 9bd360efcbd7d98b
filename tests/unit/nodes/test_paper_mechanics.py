"""The paper's mechanics, each where it acts: the history's last lines, the observation after a learned call, the
first failure, the Plan note on the failing function cleared by an Update, argmax ties, the answer format,
Code-as-Policies' module-level programs, the generic-feedback instruction and the paper material of every task."""

from __future__ import annotations

import re

import pytest
from conftest_helpers import CARRY

from environments import ENV_NAMES
from learnact.actions import ActionLibrary
from learnact.actions.results import CallResult, TraceStep
from nodes.code_policy import statements_as_solve
from nodes.history import render_history
from nodes.learning.revision import first_failure, paper_revision_format, parse_revision
from nodes.learning.scoring import select_best
from nodes.paper_prompt import CALL_INVALID, CALL_NO_CHANGE, notes_block, plan_line, reference_observation
from prompts import load_domain_material, load_paper_material
from prompts.paper_material import SECTIONS

STEPS = [{"action": f"move('rooma', 'roomb') #{i}", "observation": f"state {i}"} for i in range(15)]


def test_last_trimming_shows_exactly_the_references_last_lines():
    for n in (0, 4, 9, 10, 15):
        lines = render_history("start", STEPS[:n], window=10, trim="last").splitlines()
        full = ["Observation: start"] + [
            x for s in STEPS[:n] for x in (f"Action: {s['action']}", f"Observation: {s['observation']}")
        ]
        assert lines == full[-20:], n
    assert "hidden" in render_history("start", STEPS, window=10)  # the default says what it hides, in chunks
    thought = [{"action": "Think: plan", "observation": "OK.", "thought": True}]
    assert render_history("s", thought, window=10, trim="last").splitlines() == [
        "Observation: s",
        "Think: plan",
        "Observation: OK.",
    ]


def call(*steps: tuple[str, bool]) -> CallResult:
    trace = [TraceStep(action=f"p{i}()", observation=obs, valid=ok) for i, (obs, ok) in enumerate(steps)]
    return CallResult(ok=bool(trace) and trace[-1].valid, observation="ours", trace=trace, is_learned=True)


def test_the_observation_after_a_learned_call_is_the_references():
    bad = "The action is not valid and therefore takes no effect. Please check valid actions."
    assert reference_observation(call(("A", True), ("B", True)), "before", "pddl/gripper") == "B"
    assert reference_observation(call(("A", True), (bad, False)), "before", "pddl/gripper") == f"{bad} A"
    assert reference_observation(call((bad, False)), "before", "pddl/gripper") == bad
    assert reference_observation(call(), "before", "pddl/gripper") == CALL_INVALID
    assert reference_observation(call(("same", True)), "same", "pddl/gripper") == CALL_NO_CHANGE
    # ALFWorld: the valid observations joined, after the invalid sentence when the last step was refused.
    assert (
        reference_observation(call(("You arrive.", True), ("You open it.", True)), "x", "alfworld/put")
        == "You arrive. You open it."
    )
    assert (
        reference_observation(call(("You arrive.", True), ("Nothing happens.", False)), "x", "alfworld/put")
        == f"{CALL_INVALID} You arrive."
    )


def test_first_failure_is_the_first_failing_task_in_the_runs_order_for_every_sample():
    failures = [
        {"instance": "b", "name": "f", "call": "f(1)"},
        {"instance": "a", "name": "g", "call": "g(1)"},
        {"instance": "a", "name": "f", "call": "f(2)"},
    ]
    assert first_failure(failures, ["a", "b"]) == [failures[1]] and first_failure([], ["a"]) == []


def test_a_plan_goes_to_the_failing_function_and_an_update_clears_its_notes():
    revision = parse_revision(
        "Failed reason: x\nImprove: Plan ['carry']\nContent: Stand in src first.", default_target="carry"
    )
    assert (revision.kind, revision.target) == ("plan", "carry")
    unnamed = parse_revision("Failed reason: x\nImprove: Plan\nContent: Stand in src first.", default_target="carry")
    assert unnamed.target == "carry"
    with pytest.raises(ValueError, match="must name a function"):
        parse_revision("Failed reason: x\nImprove: Plan\nContent: note")
    library = ActionLibrary.from_code(CARRY).with_note("carry", "Stand in src first.", iteration=1, reason="r")
    new_code = CARRY.replace("with one gripper.", "with one gripper, going to src first.")
    kept, _ = library.with_update(new_code, iteration=2, reason="u")
    cleared, _ = library.with_update(new_code, iteration=2, reason="u", keep_notes=False)
    assert kept.get("carry").notes == ["Stand in src first."] and cleared.get("carry").notes == []
    assert (
        notes_block(library) == "Notes on the actions:\ncarry(obj, src, dst, gripper): Stand in src first.\n"
        and notes_block(cleared) == ""
    )
    update = parse_revision(
        f"Failed reason: x\nImprove: Update ['carry']\nContent:\n```python\n{new_code}```\nTest case:\n```python\ncarry('b', 'a', 'c', 'l')\n```"
    )
    assert update.test_case == "carry('b', 'a', 'c', 'l')" and "going to src first" in update.content


def test_the_paper_answer_format_offers_the_allowed_kinds():
    both, update, plan = (paper_revision_format(k) for k in ("both", "update", "plan"))
    assert "Update or Plan" in both and "Test case: <a call> (for an Update only" in both
    assert "Plan" not in update.split("Answer")[0] and "Test case" not in plan


def test_ties_go_to_the_first_candidate_with_argmax():
    prev = {"id": "prev", "scores": {"s": 1.0, "success_rate": 0.0}}
    new = {"id": "new", "scores": {"s": 1.0, "success_rate": 1.0}}
    assert select_best([prev, new], "s")["id"] == "new"  # ours: the higher training success
    assert select_best([prev, new], "s", "first")["id"] == "prev"  # the reference's np.argmax


def test_a_module_level_program_becomes_solve():
    program = "def go(a, b):\n    move(a, b)\n\ngo('rooma', 'roomb')\nmove('roomb', 'rooma')\n"
    converted = statements_as_solve(program)
    lib = ActionLibrary.from_code(converted)
    assert lib.get("solve") is not None and "go('rooma', 'roomb')" in lib.get("solve").source
    assert statements_as_solve("def solve():\n    pass\n") == "def solve():\n    pass\n"
    assert statements_as_solve("not python (") == "not python ("


def test_generic_feedback_does_not_promise_the_failed_precondition():
    for task in ("gripper", "blockworld", "barman", "tyreworld"):
        named = load_domain_material(f"pddl/{task}").instruction
        generic = load_domain_material(f"pddl/{task}", feedback="generic").instruction
        assert "which precondition does not hold" in named and "precondition does not hold" not in generic
        assert "only says that it is not valid" in generic


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_every_task_has_its_paper_material(env_name):
    material = load_paper_material(env_name)
    assert set(material) == set(SECTIONS) and all(text.strip() for text in material.values())
    assert "def " in material["learned example"] and "Improve: Update" in material["revision cases"]
    assert "Improve: Plan" in material["revision cases"] and "Think:" in material["react example"]
    assert plan_line(["a", "b"]) == "Follow this high-level plan: a\nb\n" and plan_line([]) == ""
    if env_name in ("alfworld/examine", "alfworld/puttwo"):  # the type's own sections replace the shared ones
        assert material["learned example"] != load_paper_material("alfworld/put")["learned example"]
        assert material["revision cases"] == load_paper_material("alfworld/put")["revision cases"]


def test_the_revision_shows_the_last_observation_of_the_state_before_the_call():
    from nodes.learning.revision import failure_context

    refused = "The action is not valid and therefore takes no effect. Please check valid actions."
    rollout = {
        "first_observation": "start",
        "steps": [
            {"action": "a()", "observation": "state 1"},
            {"action": "b()", "observation": refused},
            {"action": "carry()", "observation": refused},
        ],
    }
    assert failure_context(rollout, 2)["last_observation"] == "state 1"  # the refused b() is walked over
    assert failure_context(rollout, 0)["last_observation"] == "start"
    assert failure_context(rollout, 2)["lines"] == [
        "Observation: start",
        "Action: a()",
        "Observation: state 1",
        "Action: b()",
        f"Observation: {refused}",
    ]


def test_describe_actions_asks_the_learner_for_each_function_with_either_prompt_set(tmp_path):
    from fakes import calls_of
    from test_learn_graph import GOOD_CALL, agent, learn, learner

    replies = {**learner(), "learn.describe": "Moves one ball from src to dst."}
    final, ctx = learn(tmp_path, replies, agent(GOOD_CALL), describe_actions=True)
    (ask,) = {c["user"] for c in calls_of(ctx.learner_model, "learn.describe")}
    assert "Action carry:" in ask and "def carry(obj, src, dst, gripper):" in ask
    assert final["best"]["library"].get("carry").description == "Moves one ball from src to dst."
    (tmp_path / "off").mkdir()
    final, ctx = learn(tmp_path / "off", learner(), agent(GOOD_CALL))
    assert not calls_of(ctx.learner_model, "learn.describe")
    assert (
        final["best"]["library"].get("carry").description == "Carry a ball from one room to another with one gripper."
    )


def test_an_alfworld_paper_demonstration_continues_the_examples_opening():
    from fakes import ScriptedChatModel, calls_of

    from learnact.llm.usage import UsageTracker
    from nodes.context import Context
    from nodes.learning.paper import ask_demonstration, episode_opening

    model = ScriptedChatModel({"learn.demonstrate": "Action: goto('desk 1')\n\nObservation: You arrive at loc 1."})
    ctx = Context(learner_model=model, agent_model=model, usage=UsageTracker(), prompt_set="paper")
    library = ActionLibrary.from_code("def fetch(obj, recep):\n    goto(recep)\n    take(obj, recep)\n")
    demo = ask_demonstration(ctx, "alfworld/put", library, "k")
    opening = episode_opening(load_domain_material("alfworld/put").example)
    assert opening.startswith("Goal: put some alarmclock on desk.\nObservation: You are in the middle of a room.")
    assert calls_of(model, "learn.demonstrate")[0]["user"].rstrip().endswith("Example:\n" + opening)
    assert demo == opening + "\nAction: goto('desk 1')\nObservation: You arrive at loc 1."
    pddl = ask_demonstration(ctx, "pddl/gripper", ActionLibrary.from_code(CARRY), "k")
    assert calls_of(model, "learn.demonstrate")[1]["user"].rstrip().endswith("Example:") and not pddl.startswith(
        "Goal:"
    )


def test_a_learned_call_that_changes_nothing_fails_as_in_the_reference(tmp_path):
    from conftest_helpers import tiny_gripper
    from fakes import ScriptedChatModel

    from graphs.registry import build_graph
    from learnact.llm.usage import UsageTracker
    from nodes.context import Context
    from nodes.episodes import EpisodeRegistry
    from nodes.learning.revision import failure_kind

    there_and_back = "def shuttle(a, b):\n    move(a, b)\n    move(b, a)\n"
    outcomes = {}
    for rule in ("reference", "trace"):
        model = ScriptedChatModel(lambda s, u: "shuttle('rooma', 'roomb')")
        ctx = Context(
            agent_model=model,
            learner_model=model,
            usage=UsageTracker(),
            episodes=EpisodeRegistry(learned_call_invalid="continue"),
            agent_prompt="paper",
            prompt_set="paper",
            learned_observation=rule,
            grammar=False,
            max_steps=1,
        )
        inputs = {
            "episode_id": rule,
            "env_name": "pddl/gripper",
            "instance": tiny_gripper(tmp_path),
            "max_steps": 1,
            "library": ActionLibrary.from_code(there_and_back),
        }
        try:
            (step,) = build_graph("act").invoke(inputs, context=ctx)["steps"]
        finally:
            ctx.episodes.close_all()
        outcomes[rule] = (step["observation"] == CALL_NO_CHANGE, failure_kind(step))
    assert outcomes == {"reference": (True, "no_change"), "trace": (False, None)}


@pytest.mark.parametrize("react", [False, True])
def test_paper_reflexion_reflects_on_the_first_failed_task_with_the_rollouts_worked_note(tmp_path, react):
    from conftest_helpers import tiny_gripper
    from fakes import ScriptedChatModel, calls_of

    from graphs.act import build_act_graph
    from graphs.react import build_react_graph
    from graphs.reflexion import build_reflexion_graph
    from learnact.llm.usage import UsageTracker
    from nodes.context import Context
    from nodes.episodes import EpisodeRegistry

    wander = lambda s, u: (
        "Think: hm."
        if "Action:" not in u.split("Your goal:")[-1] and "Think: hm." not in u.split("Your goal:")[-1]
        else "move('roomb', 'rooma')"
    )
    learner = ScriptedChatModel({"reflexion.reflect": "Look before moving."})
    ctx = Context(
        agent_model=ScriptedChatModel(wander),
        learner_model=learner,
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        prompt_set="paper",
        agent_prompt="paper",
        reflexion="first_failure",
        grammar=False,
        resample_refused=0,
        learn_max_steps=3,
        rollout_graph=(build_react_graph if react else build_act_graph)(checkpointer=False),
    )
    first, second = tiny_gripper(tmp_path, "b.pddl"), tiny_gripper(tmp_path, "a.pddl")
    try:
        final = build_reflexion_graph().invoke(
            {"env_name": "pddl/gripper", "train_instances": [first, second], "max_rounds": 3}, context=ctx
        )
    finally:
        ctx.episodes.close_all()
    asks = [c["user"] for c in calls_of(learner, "reflexion.reflect")]
    assert len(asks) == 2 and final["lessons"] == ["Look before moving."] * 2 and final["stop_reason"] == "max_rounds"
    paper = load_paper_material("pddl/gripper")
    worked = paper["react reflexion example" if react else "reflexion example"]
    assert all(worked in a for a in asks) and ("Think:" in worked) == react
    attempt = asks[0].split("Now a short note for this attempt:")[1]
    assert (
        "Observation: Ok." in attempt
    ) == react and "Think: hm." not in attempt  # a thought shows only its observation


def test_every_paper_template_and_material_file_names_the_reference_prompt_it_stands_for():
    from prompts.loader import PAPER_TEMPLATE_DIR
    from prompts.paper_material import PAPER_DOMAIN_DIR

    for path in [*PAPER_TEMPLATE_DIR.glob("*.md"), *PAPER_DOMAIN_DIR.glob("*.md")]:
        header = " ".join(path.read_text(encoding="utf-8").split("\n## ", 1)[0].split("=== ", 1)[0].split())
        assert header.startswith("<!--") and re.search(r"\w+\.py", header), path.name
        assert "this project" in header, path.name  # written in the project's own words
