"""Creation rules a small model needs: salvage of working functions, renaming of colliding names,
early stop of repairs on a repeated error, every candidate's code saved (dropped ones included).

Unit tests of nodes/learning (checking and repairing the learner's code), then the learning graph with a
scripted learner (replies picked by the calling node's tag) on a real gripper problem and the real sandbox.
"""

from __future__ import annotations

import ast
import json
import re

import pytest
from conftest_helpers import CARRY, ROOT, learn_on_tiny_gripper, tiny_gripper
from fakes import ScriptedChatModel

from graphs.act import build_act_graph
from graphs.learn import build_learn_graph
from learnact.llm.usage import UsageTracker
from nodes.context import Context
from nodes.episodes import EpisodeRegistry
from nodes.learning.functions import Piece
from nodes.learning.repair import Checked, check_code, render_attempts
from nodes.learning.reply import error_key
from prompts import PromptSet, load_learned_example

GRIPPER = {"move": 2, "pick": 3, "drop": 3}
GOOD_CALL = "carry('ball1', 'rooma', 'roomb', 'left')"
UNPACK_CALL = "carry_unpack('ball1', 'rooma', 'roomb', 'left')"

UNPACK = '''def carry_unpack(obj, src, dst, gripper):
    """Carry a ball, reading what pick returned."""
    obs, info = pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)
'''
NAME_ERROR = CARRY.replace("    move(src, dst)", "    move(src, dst, nowhere)")
COLLIDING = '''def drop(obj, room):
    """Drop a ball held in the left gripper."""
    return drop(obj, room, 'left')


def carry(obj, src, dst):
    """Carry a ball from src to dst with the left gripper."""
    pick(obj, src, 'left')
    move(src, dst)
    return drop(obj, dst)
'''


# ---------------------------------------------------------------- salvage, statically


def test_a_broken_function_is_dropped_alone_and_its_callers_with_it():
    code = (
        CARRY
        + '''

def broken(x:
    pass


def sneaky(obj):
    """Reads a file."""
    import os
    return os.listdir(obj)


def uses_broken(obj):
    """Calls the broken one."""
    return broken(obj)
'''
    )
    checked = check_code(code, GRIPPER)
    assert checked.library is not None and checked.library.names == ("carry",)
    reasons = {d["name"]: d["reason"] for d in checked.dropped}
    assert set(reasons) == {"broken", "sneaky", "uses_broken"}
    assert reasons["broken"].startswith("syntax error at line")
    assert "import" in reasons["sneaky"] and "sandbox refuses" in reasons["sneaky"]
    assert "calls broken" in reasons["uses_broken"]
    assert all(d["code"].startswith("def ") for d in checked.dropped)  # each dropped function keeps its code
    assert checked.error() is None and checked.error(strict=True)  # a revision must work whole


def test_module_level_prose_between_functions_does_not_lose_them():
    code = CARRY + "\nThis function carries a ball.\n\n" + CARRY.replace("def carry(", "def carry_again(")
    checked = check_code(code, GRIPPER)
    assert checked.library is not None and set(checked.library.names) == {"carry", "carry_again"}


def test_a_reply_indented_as_a_whole_is_read():
    checked = check_code("\n".join("    " + ln if ln else ln for ln in CARRY.splitlines()), GRIPPER)
    assert checked.library is not None and checked.library.names == ("carry",)


def test_the_last_of_two_definitions_is_kept():
    code = CARRY + "\n\n" + CARRY.replace("Carry a ball", "Carry one ball")
    checked = check_code(code, GRIPPER)
    assert "Carry one ball" in checked.library.get("carry").source
    assert [d["name"] for d in checked.dropped] == ["carry"] and "defined again" in checked.dropped[0]["reason"]


def test_nothing_kept_is_an_error_that_names_each_function():
    checked = check_code("def a(:\n  pass\n\ndef _helper():\n    return 1\n", GRIPPER)
    assert checked.library is None and "a: syntax error" in checked.error()
    assert check_code("x = 1\n", GRIPPER).error().startswith("the code defines no function")


# ---------------------------------------------------------------- renaming


def test_a_function_named_like_a_primitive_is_renamed_and_its_callers_follow():
    checked = check_code(COLLIDING, GRIPPER)
    assert checked.renamed == [
        {"from": "drop", "to": "learned_drop", "reason": "'drop' is the name of a primitive action"}
    ]
    lib = checked.library
    assert lib is not None and set(lib.names) == {"learned_drop", "carry"}
    # inside the renamed function the call that fits the primitive still reaches the primitive ...
    assert "return drop(obj, room, 'left')" in lib.get("learned_drop").source
    # ... and the other function's 2-argument call is the learned one
    assert "return learned_drop(obj, dst)" in lib.get("carry").source
    assert not checked.dropped


def test_a_call_that_fits_only_the_primitive_keeps_the_primitive():
    code = (
        COLLIDING
        + '''

def swap(obj, room):
    """Drop from the right gripper."""
    return drop(obj, room, 'right')
'''
    )
    lib = check_code(code, GRIPPER).library
    assert "return drop(obj, room, 'right')" in lib.get("swap").source


def test_a_pass_through_of_the_primitive_is_dropped_with_a_note_and_builtins_are_renamed():
    code = '''def move(a, b):
    """Move."""
    return move(a, b)


def open(room):
    """Enter a room."""
    return move('rooma', room)


def tour(room):
    """Go and look."""
    open(room)
    return observe()
'''
    checked = check_code(code, GRIPPER)
    assert [d["name"] for d in checked.dropped] == ["move"] and "only calls that primitive" in checked.dropped[0][
        "reason"
    ]
    assert {r["from"]: r["to"] for r in checked.renamed} == {"open": "learned_open"}
    assert "learned_open(room)" in checked.library.get("tour").source
    assert "observe()" in checked.library.get("tour").source  # the state-reading helpers are not blocked


# ---------------------------------------------------------------- repairs


def _fake_check(errors: dict[str, str]):
    """A check whose verdict on a code string is looked up in ``errors`` (missing: it works)."""

    def check(code: str) -> Checked:
        reason = errors.get(code.strip())
        piece = Piece("f", code, ast.parse("def f():\n    return 1\n").body[0], reason)
        return Checked([piece], [], library=None if reason else check_code(CARRY, GRIPPER).library)

    return check


def test_error_key_ignores_line_numbers_and_the_traceback_around_the_exception():
    a = (
        "Calling carry('b') failed (exception):\nTraceback:\n"
        '  File "<learned>", line 3, in carry\nValueError: too many values to unpack (expected 2)'
    )
    b = a.replace("line 3", "line 7").replace("carry('b')", "carry('c')")
    assert error_key(a) == error_key(b) == "ValueError: too many values to unpack (expected 2)"
    assert (
        error_key("syntax error at line 2: x")
        == error_key("syntax error at line 9: x")
        != error_key("syntax error at line 2: y")
    )


def run_repair_loop(monkeypatch, errors: dict[str, str], repair, strict: bool = False) -> dict:
    """The check-and-repair loop (graphs/repair.py) from code "v1", its checks looked up in ``errors``."""
    import nodes.repair
    from graphs.repair import build_repair_graph

    check = _fake_check(errors)
    monkeypatch.setattr(nodes.repair, "check_once", lambda code, *rest: check(code))
    monkeypatch.setattr(nodes.repair, "ask_repair", lambda code, error, earlier, *rest: repair(code, error, earlier))
    ctx = Context(usage=UsageTracker(), episodes=EpisodeRegistry(), create_tries=4)
    inputs = {
        "env_name": "pddl/gripper",
        "train_instances": ["p"],
        "candidate_id": "c",
        "code": "v1",
        "strict": strict,
        "tries": [],
    }
    return build_repair_graph(checkpointer=False).invoke(inputs, context=ctx)


def test_repairs_stop_when_the_same_error_comes_back(monkeypatch):
    same = "carry: ValueError: too many values to unpack (expected 2)"
    repairs = []
    final = run_repair_loop(
        monkeypatch, {"v1": same, "v2": same}, lambda code, error, earlier: repairs.append(code.strip()) or "v2"
    )
    assert repairs == ["v1"]  # one repair, whose result failed the same way: no second one
    assert final["outcome"]["library"] is None and "same error" in final["outcome"]["stop"] and len(final["tries"]) == 2


def test_repairs_see_the_earlier_failed_attempts_and_go_on_while_errors_change(monkeypatch):
    errors = {"v1": "ValueError: unpack", "v2": "NameError: name 'nowhere' is not defined"}
    seen = []

    def repair(code, error, earlier):
        seen.append([t["code"].strip() for t in earlier])
        return {"v1": "v2", "v2": "v3"}[code.strip()]

    final = run_repair_loop(monkeypatch, errors, repair)
    assert final["outcome"]["library"] is not None and final["outcome"]["stop"] is None
    assert seen == [[], ["v1"]]  # the second repair is shown the first attempt
    text = render_attempts([{"code": "v1", "error": errors["v1"]}])
    assert "Earlier attempts" in text and "v1" in text and "ValueError: unpack" in text


# ---------------------------------------------------------------- prompts


def test_the_create_prompt_shows_a_learned_example_from_no_learned_domain():
    example = load_learned_example()
    messages = PromptSet().render(
        "create_actions", instruction="I", primitives="P", example="E", task="t", learned_example=example, queries=""
    )
    system = messages[0][1]
    assert "water_plant(" in system and "returns the observation text, one string" in system
    assert "never unpack it" in system
    code = re.search(r"```python\n(.*?)```", example, re.S).group(1)
    used = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)} | {
        f.name for f in ast.parse(code).body if isinstance(f, ast.FunctionDef)
    }
    domains = ROOT / "environments" / "pddl" / "domains"
    pddl_ops = {
        m.replace("-", "_") for f in domains.rglob("*.pddl") for m in re.findall(r"\(:action\s+([\w-]+)", f.read_text())
    }
    alfworld = {
        "goto",
        "take",
        "put",
        "open",
        "close",
        "toggle",
        "clean",
        "heat",
        "cool",
        "use",
        "examine",
        "inventory",
        "look",
    }
    assert pddl_ops and not used & (pddl_ops | alfworld)
    for word in ("ball", "room", "gripper", "block", "shaker", "shot", "wheel", "jack", "fridge", "microwave"):
        assert word not in example.lower()


# ---------------------------------------------------------------- the graph, with a scripted learner


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def scripted_learner(create: str, fixes: list[str] = (), demonstrate=None):
    """Replies by node tag; ``fixes`` in order (the last one repeats); ``demonstrate(user) -> text``."""
    fixes = list(fixes)

    def respond(system: str, user: str, node: str) -> str:
        if node == "learn.create":
            return fenced(create)
        if node == "learn.fix":
            return fenced(fixes.pop(0) if len(fixes) > 1 else fixes[0])
        if node == "learn.demonstrate":
            return demonstrate(user) if demonstrate else f"Goal: ball1 in roomb\nAction: {GOOD_CALL}\nObservation: done"
        raise AssertionError(f"unexpected learner call from {node}")

    return respond


def learn(tmp_path, learner_fn, **knobs):
    defaults = {"candidates": 1, "learn_max_steps": 2, "max_rounds": 0, "creation_trials": False}
    return learn_on_tiny_gripper(tmp_path, lambda system, user: GOOD_CALL, learner_fn, **{**defaults, **knobs})


def _nodes(ctx) -> list[str]:
    return [c["node"] for c in ctx.learner_model.calls]


def test_the_demonstration_smoke_run_drops_only_the_function_that_raises(tmp_path):
    def demonstrate(user: str) -> str:
        calls = [UNPACK_CALL, GOOD_CALL] if "carry_unpack" in user else [GOOD_CALL]
        return "Goal: ball1 in roomb\n" + "".join(f"Action: {c}\nObservation: ...\n" for c in calls)

    final, ctx = learn(tmp_path, scripted_learner(UNPACK + "\n\n" + CARRY, demonstrate=demonstrate))
    cand = final["candidates"][0]
    assert cand["library"] is not None and [a.name for a in cand["library"].all_functions] == ["carry"]
    [dropped] = cand["dropped_functions"]
    assert dropped["name"] == "carry_unpack" and "too many values to unpack" in dropped["reason"]
    assert "obs, info = pick" in dropped["code"]
    assert "learn.fix" not in _nodes(ctx)  # salvage, not repair
    # the first demonstration showed the dropped action: written again for what is left
    assert _nodes(ctx).count("learn.demonstrate") == 2 and "carry_unpack" not in cand["demonstration"]
    assert final["best"]["id"] == "r0s0"
    saved = json.loads((tmp_path / "run" / "candidates" / "r0s0.json").read_text())
    assert saved["status"] == "scored" and saved["dropped_functions"][0]["name"] == "carry_unpack"


def test_a_colliding_name_is_renamed_without_a_repair(tmp_path):
    final, ctx = learn(
        tmp_path, scripted_learner(COLLIDING, demonstrate=lambda user: "Action: carry('ball1', 'rooma', 'roomb')\n")
    )
    cand = final["candidates"][0]
    assert cand["library"] is not None and {a.name for a in cand["library"].all_functions} == {"learned_drop", "carry"}
    assert cand["renamed"] == [
        {"from": "drop", "to": "learned_drop", "reason": "'drop' is the name of a primitive action"}
    ]
    assert "learn.fix" not in _nodes(ctx) and not cand["attempts"]
    assert final["best"]["id"] == "r0s0" and final["rollouts"]  # kept and rolled out


def test_repairs_stop_early_on_a_repeated_error_and_the_dropped_code_is_saved(tmp_path):
    demo = lambda user: f"Action: {UNPACK_CALL}\n"  # noqa: E731
    final, ctx = learn(tmp_path, scripted_learner(UNPACK, fixes=[UNPACK], demonstrate=demo), create_tries=4)
    cand = final["candidates"][0]
    assert cand["library"] is None and final["stop_reason"] == "no_working_candidate"
    assert _nodes(ctx).count("learn.fix") == 1  # not 4: the repair brought the same error back
    assert "same error" in cand["repair_stop"] and "too many values to unpack" in cand["error"]
    folder = tmp_path / "run" / "candidates"
    assert "obs, info = pick(obj, src, gripper)" in (folder / "r0s0.py").read_text()
    saved = json.loads((folder / "r0s0.json").read_text())
    assert saved["status"] == "dropped" and "too many values to unpack" in saved["error"]
    assert len(saved["tries"]) == 2 and all("def carry_unpack" in t["code"] and t["error"] for t in saved["tries"])


def test_the_second_repair_prompt_shows_the_first_failed_attempt(tmp_path):
    demo = lambda user: f"Action: {UNPACK_CALL}\n" if "carry_unpack" in user else f"Action: {GOOD_CALL}\n"  # noqa: E731
    final, ctx = learn(tmp_path, scripted_learner(UNPACK, fixes=[NAME_ERROR, CARRY], demonstrate=demo))
    fix_prompts = [c["user"] for c in ctx.learner_model.calls if c["node"] == "learn.fix"]
    assert len(fix_prompts) == 2
    assert "Earlier attempts" not in fix_prompts[0]
    assert (
        "Earlier attempts" in fix_prompts[1]
        and "obs, info = pick" in fix_prompts[1]
        and "too many values to unpack" in fix_prompts[1]
    )
    assert (
        "nowhere" in fix_prompts[1] and "NameError" in fix_prompts[1]
    )  # and the code that failed last, with its error
    assert final["candidates"][0]["library"] is not None


@pytest.mark.parametrize("create", ["def carry(:\n    pass\n", "I cannot write code for this."])
def test_every_dropped_candidate_leaves_its_code_in_candidates(tmp_path, create):
    final, ctx = learn(tmp_path, scripted_learner(create, fixes=[create]), candidates=2, create_tries=2)
    folder = tmp_path / "run" / "candidates"
    for cid in ("r0s0", "r0s1"):
        code = (folder / f"{cid}.py").read_text()
        assert create.strip() in code
        assert json.loads((folder / f"{cid}.json").read_text())["status"] == "dropped"


def test_the_live_view_says_what_was_dropped_and_renamed():
    import io

    from learnact.cli.progress import ProgressPrinter

    class Usage:
        def totals(self, key=None):
            return {"total_tokens": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": None}

    out = io.StringIO()
    progress = ProgressPrinter(Usage(), stream=out)
    progress(
        {
            "event": "candidate_ready",
            "candidate_id": "r0s0",
            "round": 0,
            "dropped": ["carry_unpack"],
            "renamed": {"drop": "learned_drop"},
        }
    )
    progress.close()
    assert "candidate r0s0 ready (create); renamed drop to learned_drop; dropped carry_unpack" in out.getvalue()


def repair_update(code: str, task: dict, ctx: Context, calls: list[str]):
    """A revision's Update through the check-and-repair loop (nodes/revise.py)."""
    from graphs.repair import build_repair_graph
    from nodes.revise import repair_update as through_the_loop

    return through_the_loop(
        build_repair_graph(checkpointer=False), code, {**task, "candidate_id": "r1s0"}, ctx, calls, None
    )


def test_a_revision_named_like_a_primitive_is_renamed_and_the_rename_reported(tmp_path):
    ctx = Context(
        learner_model=ScriptedChatModel(lambda system, user, node: pytest.fail(f"no {node} call expected")),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
    )
    task = {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}
    library, code, errors = repair_update(COLLIDING, task, ctx, ["carry('ball1', 'rooma', 'roomb')"])
    assert library is not None and set(library.names) == {"learned_drop", "carry"} and "learned_drop(obj, dst)" in code
    assert errors == [
        "renamed drop to learned_drop: 'drop' is the name of a primitive action"
    ]  # so the revision keeps the renamed code


def test_a_revision_must_work_whole_so_a_failing_function_is_repaired(tmp_path):
    ctx = Context(
        learner_model=ScriptedChatModel(scripted_learner("", fixes=[CARRY])),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
    )
    task = {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}
    library, _, errors = repair_update(CARRY + "\n\n" + UNPACK, task, ctx, [UNPACK_CALL])
    assert [c["node"] for c in ctx.learner_model.calls] == ["learn.fix"]
    assert library is not None and library.names == ("carry",) and "too many values to unpack" in errors[0]


def test_a_dropped_revision_leaves_a_file_in_candidates(tmp_path):
    bad_call = "carry('ball1', 'roomb', 'rooma', 'left')"  # the ball is in rooma: the learned call fails

    def learner_fn(system: str, user: str, node: str) -> str:
        if node == "learn.revise":
            return "I cannot help with that."
        return scripted_learner(CARRY, demonstrate=lambda user: f"Action: {GOOD_CALL}\n")(system, user, node)

    inst = tiny_gripper(tmp_path)
    ctx = Context(
        agent_model=ScriptedChatModel(lambda system, user: bad_call),
        learner_model=ScriptedChatModel(learner_fn),
        usage=UsageTracker(),
        episodes=EpisodeRegistry(),
        run_dir=str(tmp_path / "run"),
        rollout_graph=build_act_graph(checkpointer=False),
        candidates=1,
        learn_max_steps=2,
        max_rounds=1,
    )
    try:
        build_learn_graph().invoke({"env_name": "pddl/gripper", "train_instances": [inst]}, context=ctx)
    finally:
        ctx.episodes.close_all()
    folder = tmp_path / "run" / "candidates"
    assert (folder / "r1s0.py").read_text().startswith("# no code")
    saved = json.loads((folder / "r1s0.json").read_text())
    assert saved["status"] == "dropped" and "Improve" in saved["error"] and saved["parent"] == "r0s0"


def test_when_the_second_demonstration_breaks_the_rest_the_first_ones_survivors_stay(tmp_path):
    picky = CARRY.replace(
        '    """Carry a ball from one room to another with one gripper."""\n',
        '    """Carry a ball from one room to another with one gripper."""\n'
        "    if gripper == 'right':\n        raise ValueError('not with the right gripper')\n",
    )
    assert "raise ValueError" in picky

    def demonstrate(user: str) -> str:  # the second demonstration uses the right gripper
        calls = [UNPACK_CALL, GOOD_CALL] if "carry_unpack" in user else [GOOD_CALL.replace("'left'", "'right'")]
        return "".join(f"Action: {c}\nObservation: ...\n" for c in calls)

    final, ctx = learn(tmp_path, scripted_learner(UNPACK + "\n\n" + picky, demonstrate=demonstrate), create_tries=0)
    cand = final["candidates"][0]
    assert [a.name for a in cand["library"].all_functions] == ["carry"] and cand["demonstration"] == ""
    assert [d["name"] for d in cand["dropped_functions"]] == ["carry_unpack"]  # carry is kept, so not listed
    assert any("not with the right gripper" in t["error"] for t in cand["tries"])  # the failed check is on record


def test_a_function_that_never_calls_a_primitive_is_dropped_alone():
    from nodes.learning.repair import check_code

    code = '''def learned_move(a, b):
    """Pretend to move."""
    return f"move({a}, {b})"


def helper_free(room):
    """Only looks."""
    return observe()


def go(a, b):
    """Go there."""
    return move(a, b)


def go_twice(a, b):
    """There and back, through go."""
    go(a, b)
    return go(b, a)
'''
    checked = check_code(code, {"move": 2, "pick": 3, "drop": 3})
    assert checked.library is not None and set(checked.library.names) == {"go", "go_twice"}
    reasons = {d["name"]: d["reason"] for d in checked.dropped}
    assert set(reasons) == {"learned_move", "helper_free"} and "never calls a primitive" in reasons["learned_move"]


# ---------------------------------------------------------------- trials in the example episode's situations

LEAVES_FIRST = '''def go_and_pick(obj, src, dst, gripper):
    """Go to dst and pick up the ball there."""
    move(src, dst)
    return pick(obj, src, gripper)
'''


def test_an_action_that_works_in_no_situation_of_the_example_is_dropped_alone_with_the_failed_steps(tmp_path):
    final, ctx = learn(tmp_path, scripted_learner(LEAVES_FIRST + "\n\n" + CARRY), creation_trials=True)
    cand = final["candidates"][0]
    assert [a.name for a in cand["library"].all_functions] == ["carry"]  # carry works from the example's start
    [dropped] = cand["dropped_functions"]
    assert dropped["name"] == "go_and_pick" and "situations of the example episode" in dropped["reason"]
    # the step that ran and the step that was refused, with the environment's reason
    assert re.search(r"move\('\w+', '\w+'\): done\n  pick\(.*not valid because", dropped["reason"])
    assert "learn.fix" not in _nodes(ctx)


def test_when_no_action_works_in_the_example_the_repair_is_told_why(tmp_path):
    final, ctx = learn(tmp_path, scripted_learner(LEAVES_FIRST, fixes=[CARRY]), creation_trials=True)
    [fix_prompt] = [c["user"] for c in ctx.learner_model.calls if c["node"] == "learn.fix"]
    assert "go_and_pick: no call of it worked" in fix_prompt and "not valid because" in fix_prompt
    assert [a.name for a in final["candidates"][0]["library"].all_functions] == ["carry"]


def test_without_creation_trials_an_action_that_never_works_is_kept(tmp_path):
    final, _ = learn(tmp_path, scripted_learner(LEAVES_FIRST + "\n\n" + CARRY), creation_trials=False)
    assert [a.name for a in final["candidates"][0]["library"].all_functions] == ["go_and_pick", "carry"]


def test_the_learner_is_told_how_to_read_the_state_only_where_it_is_symbolic():
    from environments import make_env
    from nodes.assist.state_queries import learner_queries as render_queries

    full, bare = load_learned_example(), load_learned_example(queries=False)
    assert "find('you-at')" in full and "water_anywhere" in full and "<!--" not in full
    assert "find(" not in bare and "water_anywhere" not in bare and "water_plant(" in bare and "<!--" not in bare
    text = render_queries(make_env("pddl/gripper", "gen:seed=9,balls=2,rooms=3"))
    assert (
        "find(fact, *known)" in text and "('at-robby', 'roomc')" in text and "find('at-robby') returns 'roomc'" in text
    )
    assert "('ball', 'ball1')" not in text  # static facts are left out


def test_a_fact_without_arguments_is_no_find_example(tmp_path):
    """A user's domain folder with (handfree): find() of it would return the predicate's own name."""
    from fixtures.pddl_domains import hand_folder

    from environments import make_env
    from nodes.assist.state_queries import learner_queries as render_queries

    text = render_queries(make_env(f"pddl:{hand_folder(tmp_path, 'keys')}", "p01"))
    assert "('handfree',)" in text and "find() returns" not in text
    assert "find('at-robot') returns 'r0' and find('holding'" not in text and "find('at-robot') returns 'r0'" in text


def test_find_reads_the_state_in_the_sandbox_and_a_wrong_fact_name_is_shown_the_true_facts(tmp_path):
    from environments import make_env
    from learnact.actions import ActionLibrary, Executor

    code = '''def goto(room):
    """Go to room from wherever Robby is."""
    here = find('at-robby')
    return move(here, room)


def goto_copied(room):
    """Go to room, with the example's fact name."""
    here = find('you-at')
    return move(here, room)
'''
    env = make_env("pddl/gripper", "gen:seed=9,balls=2,rooms=3")
    env.reset()
    with Executor(env, ActionLibrary.from_code(code)) as ex:
        assert ex.run("goto('rooma')").trace[0].action == "move('roomc', 'rooma')"
    final, ctx = learn(tmp_path, scripted_learner(code + "\n\n" + CARRY), creation_trials=True)
    [dropped] = final["candidates"][0]["dropped_functions"]
    assert (
        dropped["name"] == "goto_copied"
        and "the true facts there: [" in dropped["reason"]
        and "'at-robby'" in dropped["reason"]
    )
