"""Creation as a subgraph: each attempt (write, check, fix, demonstrate) is a step of its own, checkpointed
and drawn; the candidate's library stays an ActionLibrary value, through the SQLite checkpointer too; and the
learned code runs in the sandbox the run's Context makes."""

from __future__ import annotations

from conftest_helpers import CARRY, tiny_gripper
from fakes import ScriptedChatModel
from test_learn_graph import BROKEN, GOOD_CALL, agent, learner

from graphs.act import build_act_graph
from graphs.create import build_creation_graph
from graphs.learn import build_learn_graph
from graphs.repair import build_repair_graph
from learnact.actions import ActionLibrary, Executor
from learnact.llm.usage import UsageTracker
from nodes.checkpoint import sqlite_checkpointer
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.events import stream_events


def make_ctx(tmp_path, learner_fn, **kw) -> Context:
    return Context(
        agent_model=ScriptedChatModel(agent(GOOD_CALL)),
        learner_model=ScriptedChatModel(learner_fn),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        run_dir=str(tmp_path / "run"),
        rollout_graph=build_act_graph(checkpointer=False),
        candidates=1,
        learn_max_steps=4,
        max_rounds=1,
        **kw,
    )


def test_the_repair_loop_is_in_the_graph():
    """One check-and-repair loop (graphs/repair.py): creation embeds it, a revision runs it."""
    loop = build_repair_graph().get_graph()
    assert {("__start__", "check"), ("check", "fix"), ("fix", "check"), ("check", "__end__")} <= {
        (e.source, e.target) for e in loop.edges
    }
    creation = build_creation_graph().get_graph()
    assert {"write", "repair", "after_check", "demonstrate", "finish"} <= set(creation.nodes)
    edges = {(e.source, e.target) for e in creation.edges}
    assert {
        ("write", "repair"),
        ("repair", "after_check"),
        ("after_check", "demonstrate"),
        ("demonstrate", "repair"),
    } <= edges
    learning = build_learn_graph(checkpointer=False).get_graph(xray=2)
    assert {"create_candidate:repair:check", "create_candidate:repair:fix"} <= set(learning.nodes)
    revise = learning.nodes["revise_candidate"].data
    assert revise.func.keywords["repair_graph"].get_graph().nodes.keys() == loop.nodes.keys()


def test_each_attempt_is_checkpointed_and_the_library_comes_back_as_a_value(tmp_path):
    ctx = make_ctx(tmp_path, learner(create=BROKEN, fix=CARRY))
    inputs = {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}
    config = {"configurable": {"thread_id": "t"}}
    try:
        with sqlite_checkpointer(tmp_path / "checkpoints.sqlite") as saver:
            events = list(stream_events(build_learn_graph(checkpointer=saver), inputs, config, context=ctx))
    finally:
        ctx.episodes.close_all()
    assert [e["event"] for e in events if e["event"] in ("candidate_start", "repair", "candidate_ready")] == [
        "candidate_start",
        "repair",
        "candidate_ready",
    ]  # the subgraph's events reach the run's stream
    with sqlite_checkpointer(tmp_path / "checkpoints.sqlite") as saver:  # a new connection: read back from disk
        namespaces = [c.config["configurable"]["checkpoint_ns"] for c in saver.list(None)]
        best = build_learn_graph(checkpointer=saver).get_state(config).values["best"]
    # write, check, fix, check, demonstrate, check, finish: a checkpoint after each (and the subgraph's input)
    assert sum(ns.startswith("create_candidate:") for ns in namespaces) >= 7
    assert isinstance(best["library"], ActionLibrary) and best["library"].names == ("carry",)
    assert best["library"] == ActionLibrary.from_code(CARRY)
    assert best["attempts"] and "NameError" in best["attempts"][0]


def test_learned_code_runs_in_the_sandbox_the_context_makes(tmp_path):
    made: list[tuple[str, ...]] = []

    def sandbox(env, library, **options) -> Executor:
        made.append(library.names)
        return Executor(env, library, **options)

    ctx = make_ctx(tmp_path, learner(), sandbox=sandbox, creation_trials=True)
    inputs = {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}
    try:
        final = build_learn_graph().invoke(inputs, context=ctx)
    finally:
        ctx.episodes.close_all()
    assert final["best"] is not None
    # the demonstration's smoke run, the creation trials, the rollout (and its worked steps): all through ctx.sandbox
    assert len(made) >= 3 and all(names == ("carry",) for names in made)


def test_a_checkpoint_from_before_the_library_was_a_value_resumes_with_one():
    """Runs checkpointed by earlier versions hold the library's record (a dict); resuming them must not crash."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from langgraph.types import Send

    from nodes.checkpoint import checkpoint_serde

    record = ActionLibrary.from_code(
        "def go_twice(a, b):\n    '''Go to a, then b.'''\n    goto(a)\n    return goto(b)\n"
    ).to_dict()
    old = JsonPlusSerializer()
    candidates = [{"id": "r0s0", "library": record, "code": "x"}, {"id": "r0s1", "library": None}]
    loaded = checkpoint_serde().loads_typed(old.dumps_typed(candidates))
    assert isinstance(loaded[0]["library"], ActionLibrary) and loaded[0]["library"].names == ("go_twice",)
    assert loaded[1]["library"] is None and loaded[0]["code"] == "x"
    send = checkpoint_serde().loads_typed(old.dumps_typed([Send("rollout", {"candidate": candidates[0]})]))[0]
    assert send.node == "rollout" and isinstance(send.arg["candidate"]["library"], ActionLibrary)
