"""Golden requests of ``--protocol paper``: a learning run and an evaluation run through run.py against the
scripted stub server, every captured request checked part by part against the reference (zhao-ht/LearnAct).

The specification below was written from the reference's code: for each request, the parts it sends in its
order (``SPEC``), which worked example it shows (the task's own, from prompts/paper/domains), the history
window of the agent (the last 20 lines, ``memory[-20:]``) and the decoding (temperature 0, no grammar, no
resampling, one sample). ``test_the_spec_covers_every_part_of_every_paper_template`` ties the specification to
the templates, so that removing or reordering a part of any paper template fails here.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest_helpers import CARRY, TINY_PLAN, actions_taken, tiny_gripper
from test_e2e_cli import ROOT, by_prompt, cli, cli_env, read_jsonl

from prompts import PromptSet, load_domain_material, load_paper_material
from prompts.loader import PAPER_TEMPLATE_DIR, PLACEHOLDER

TASK = "pddl/gripper"
MATERIAL = load_domain_material(TASK, feedback="generic")
PAPER = load_paper_material(TASK)
BAD_CALL = "carry('ball1', 'roomb', 'rooma', 'left')"  # every primitive of it is refused: a failed learned call
GOOD_CALL = "carry('ball1', 'rooma', 'roomb', 'left')"
BROKEN = CARRY.replace("    move(src, dst)", "    move(src, dst, nowhere)")  # a NameError: creation repairs it
UPDATED = CARRY.replace("with one gripper.", "with one gripper, going to src first.")
UPDATE = (
    "Failed reason: carry was called from the wrong room.\nImprove: Update ['carry']\nContent:\nThe function becomes\n"
    f"```python\n{UPDATED}```\nTest case:\n```python\n{GOOD_CALL}\n```"
)
DEMO = f"Goal: ball1 to roomb\nObservation: start\nAction: {BAD_CALL}\nObservation: done"
DEMO_AFTER_UPDATE = f"Goal: ball1 to roomb\nObservation: start\nAction: {GOOD_CALL}\nObservation: done"
DESCRIBED, DESCRIBED_UPDATE = "Carries a ball between rooms.", "Goes to src first, then carries the ball."
LESSON = "Check where the robot is before moving."
WANDER = "move('roomb', 'rooma')"  # refused in every state where Robby is in rooma
PROGRAM = "```python\n" + "\n".join(["move('rooma', 'roomb')", "move('roomb', 'rooma')"] * 18 + TINY_PLAN) + "\n```"

# ------------------------------------------------------------------ the specification
# request -> its parts in the reference's order: (what the part is, a text that shows it). The template each
# request stands for names the reference prompt in its header. Sentences the paper templates share:
EXAMPLES = ("examples header", "Worked examples:")
CALLABLE = (
    "basic actions are callable, with one call",
    "The basic actions are Python functions that can be called directly, "
    "for example:\n```python\n" + PAPER["action example"] + "\n```",
)
NOTHING_ELSE = (
    "nothing else available",
    "Nothing besides these actions is available; there is no function that lists the valid actions.",
)
CODE_BLOCK = ("code in a python block", "Put all the code in a ```python block.")
WORKED = ("worked example header", "A worked example:")
FUNCTIONS = "Below are Python functions that each combine several basic actions into one high-level step of this task."
GOAL = ("goal", "Your goal: The goal is to satisfy the following conditions:")
SPEC: dict[str, list[tuple[str, str]]] = {
    # learnact_learner.create_tool: query_zero + tool_maker_decompose_combination_prompt_v3, tool_example["free_precise"]
    "learn.create": [
        ("instruction (generic feedback: no named precondition)", MATERIAL.instruction),
        EXAMPLES,
        ("the task's example episode", MATERIAL.example),
        (
            "request: high-level steps as general functions of at least two basic actions, values as parameters",
            "Sum up the high-level steps that complete this task. Write each high-level step as a general Python function that "
            "calls at least two of the basic actions. Give every value the function works with as a parameter instead of fixing "
            "it inside the function.",
        ),
        CALLABLE,
        NOTHING_ELSE,
        CODE_BLOCK,
        WORKED,
        ("the task's own learned action", PAPER["learned example"]),
        ("cue", "Your functions:"),
    ],
    # learnact_learner.wrap_tool_description: query_zero + tool_wrap_prompt_combination, tool_explanation
    "learn.describe": [
        ("instruction", MATERIAL.instruction),
        EXAMPLES,
        ("example episode", MATERIAL.example),
        (
            "request: an instruction for one function",
            FUNCTIONS + " Write the instruction for the function given at the end: "
            "what it does, what must hold before it is called and what holds afterwards.",
        ),
        WORKED,
        ("the task's own description", PAPER["description example"]),
        ("which function", "Now the instruction for the high-level step carry:"),
        ("function header", "Function:"),
        ("its code", "def carry(obj, src, dst, gripper):"),
        ("cue", "Instruction:"),
    ],
    # learnact_learner.wrap_tool_usage_together: query_zero + tool_in_context_prompt_combination_together
    "learn.demonstrate": [
        ("instruction", MATERIAL.instruction),
        EXAMPLES,
        ("example episode", MATERIAL.example),
        (
            "request: a usage example in the examples' format",
            FUNCTIONS + " Write an example of their use in the format of the "
            "worked example: a goal line, then Observation and Action lines in turn, with no blank lines between them.",
        ),
        WORKED,
        ("the task's own demonstration", PAPER["demonstration example"]),
        ("request again", "Now the example of use:"),
        ("function header", "Function:"),
        ("every function's code", "def carry("),
        ("cue", "Example:"),
    ],
    # learnact_learner.optimize_tool_step: tool_optimizer_prompt_step_single, format "both", tool_improve_in_context_both
    "learn.revise": [
        ("instruction", MATERIAL.instruction),
        EXAMPLES,
        ("example episode", MATERIAL.example),
        ("goal", "Your goal: The goal is to satisfy the following conditions: Ball1 is at roomb."),
        CALLABLE,
        NOTHING_ELSE,
        CODE_BLOCK,
        (
            "what the high-level steps are",
            "Below are high-level steps for this task: general Python functions that each call at "
            "least two basic actions, with every value they use given as a parameter.",
        ),
        ("one failed", "The high-level steps were run, and one of them failed."),
        (
            "answer format: Update or Plan",
            "Find out why it failed and give one improvement, Update or Plan.\nAnswer in this format:\n"
            "Failed reason: <>\nImprove: <Update or Plan: [the function]>\nContent: <>\nTest case: <a call> (for an Update only, not for a Plan)",
        ),
        ("worked cases header", "Worked cases:"),
        ("the task's own Update and Plan cases", PAPER["revision cases"]),
        ("this case", "Now this case:"),
        ("the current functions", "def carry(obj, src, dst, gripper):"),
        ("the failing function", "The high-level action carry was run in this state:"),
        (
            "the observation before the call, the call, the error's first sentence",
            f"Action: {BAD_CALL}\n\nand failed (The action is not valid and therefore takes no effect):",
        ),
        ("the primitive steps inside", "Action: pick('ball1', 'roomb', 'left')\nObservation: The action is not valid"),
        ("cue", "Failed reason:"),
    ],
    # learnact_user.make_prompt (note_position before_example, example_order tool_first), learnact_user_prompt_dict
    "act.decide": [
        ("instruction", MATERIAL.instruction),
        EXAMPLES,
        ("example episode", MATERIAL.example),
        GOAL,
        ("history", "Observation: "),
        ("cue", "Action:"),
    ],
    # react_py_agent: the instruction allows Think, the example has Think lines, no cue
    "react.decide": [
        ("instruction", MATERIAL.instruction),
        ("think allowed", 'You may also write a line "Think: ..." to work out what to do next.'),
        EXAMPLES,
        ("the task's example with Think lines", PAPER["react example"]),
        GOAL,
        ("history", "Observation: "),
    ],
    # learnact_learner.recursive_code_generation: the creation request, the learner's code, the error and the retry
    "learn.fix": [
        ("the creation request", "Sum up the high-level steps that complete this task."),
        ("its cue", "Your functions:"),
        ("the learner's code", "```python\ndef carry(obj, src, dst, gripper):"),
        ("the error", "Running the code failed with this error:"),
        ("the traceback", "NameError"),
        ("fix and answer again", "Fix it and write your whole answer again."),
    ],
    # reflexion_optimizer.create_reflexion with reflexion_prompt_agent[task]
    "reflexion.reflect": [
        (
            "request: a short general note from a failed attempt",
            "Below is the record of an earlier attempt at a task in this "
            "environment. The attempt did not succeed. Write a short note that will help you with similar tasks later. Use general "
            "words such as object and room instead of the names in this attempt, so that the note carries over.",
        ),
        WORKED,
        ("the task's own failed attempt and note", PAPER["reflexion example"]),
        ("this attempt", "Now a short note for this attempt:"),
        ("the failed attempt: goal first", "Goal: The goal is to satisfy"),
        ("then the transcript", f"Action: {WANDER}"),
        ("cue", "Note for the future:"),
    ],
    # code_as_policy.make_prompt with hier=True, code_as_policy_prompt_hier_dict[task]
    "code_as_policy.write": [
        ("instruction", MATERIAL.instruction),
        (
            "functions may be defined, the example's are not available",
            "You may define Python functions to solve the task. The "
            "functions of the example do not exist here: define your own.",
        ),
        EXAMPLES,
        ("the task's own program", PAPER["program example"]),
        GOAL,
        ("first observation", "Observation: "),
        ("cue", "Action:"),
    ],
}
SYSTEM = {
    "act.decide": PAPER["system"],
    "react.decide": PAPER["system"],
    "code_as_policy.write": PAPER["system"],
}  # else none
TEMPLATE_OF = {
    "learn.create": "create_actions",
    "learn.fix": "fix_actions",
    "learn.describe": "describe_action",
    "learn.demonstrate": "demonstrate",
    "learn.revise": "revise_actions",
    "act.decide": "act",
    "react.decide": "react",
    "reflexion.reflect": "reflect",
    "code_as_policy.write": "code_as_policy",
}
HISTORY_LINES = 20  # the reference's memory_size for PDDL: its last 20 lines


def check_parts(text: str, parts: list[tuple[str, str]], where: str) -> None:
    """Every part in ``text``, in this order."""
    at = 0
    for what, shows in parts:
        found = text.find(shows, at)
        assert found >= 0, (
            f"{where}: part '{what}' missing or out of order (looked for {shows[:80]!r} after offset {at})"
        )
        at = found + len(shows)


# ------------------------------------------------------------------ the scripted models
def respond(system: str, user: str, node: str | None) -> str:
    if node == "learn.create":
        return f"```python\n{BROKEN}```"
    if node == "learn.fix":
        return f"```python\n{CARRY}```"
    if node == "learn.describe":
        return DESCRIBED_UPDATE if "going to src first" in user else DESCRIBED
    if node == "learn.demonstrate":
        return DEMO_AFTER_UPDATE if "going to src first" in user else DEMO
    if node == "learn.revise":
        return UPDATE
    if node == "reflexion.reflect":
        return LESSON
    if node == "code_as_policy.write":
        return PROGRAM
    if node == "react.decide":
        return "Think: where is the ball?" if actions_taken(user.split("Your goal:")[-1]) == 0 else WANDER
    if node == "act.decide":
        if DESCRIBED_UPDATE in user:
            return GOOD_CALL
        if "- carry(" in user:
            return BAD_CALL
        return WANDER
    raise AssertionError(f"no scripted reply for node {node!r}")


def run(stub_server, tmp_path, name: str, *args: str) -> tuple[dict, list[dict]]:
    stub = stub_server(respond=by_prompt(respond))
    run_dir = tmp_path / name
    out = subprocess.run(
        cli(*args, "--protocol", "paper", "--base-url", stub.url, "--model", "stub-model", "--run-dir", str(run_dir)),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads((run_dir / "config.json").read_text()), [q.body for q in stub.chat_requests]


def requests_of(bodies: list[dict]) -> dict[str, list[dict]]:
    from fakes import node_of_prompt

    out: dict[str, list[dict]] = {}
    for body in bodies:
        system = "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")
        user = "\n".join(m["content"] for m in body["messages"] if m["role"] != "system")
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        out.setdefault(node_of_prompt(system, last) or "?", []).append({"system": system, "user": user, "body": body})
    return out


def check_request(node: str, request: dict) -> None:
    check_parts(request["user"], SPEC[node], node)
    assert request["system"] == SYSTEM.get(node, ""), f"{node}: system message {request['system'][:80]!r}"
    body = request["body"]
    assert body["temperature"] == 0.0, f"{node}: temperature {body['temperature']}"  # the reference samples at 0
    assert "grammar" not in json.dumps(body), f"{node}: a grammar was sent"
    assert body.get("n", 1) == 1
    # The agent's reply is cut at the first line break (the reference's stop=["\n"]); the learner and a program are not.
    assert body.get("stop") == (["\n"] if node in ("act.decide", "react.decide") else None), (
        f"{node}: stop {body.get('stop')}"
    )


# ------------------------------------------------------------------ the runs
def test_a_paper_learning_run_sends_the_references_requests(stub_server, tmp_path):
    config, bodies = run(
        stub_server, tmp_path, "learn", "--graph", "learn", "--env", TASK, "--instance", tiny_gripper(tmp_path)
    )
    got = requests_of(bodies)
    assert set(got) == {
        "learn.create",
        "learn.fix",
        "learn.describe",
        "learn.demonstrate",
        "learn.revise",
        "act.decide",
    }, set(got)
    for node, requests in got.items():
        for request in requests:
            check_request(node, request)
    assert len(got["learn.create"]) == 4 and len({r["user"] for r in got["learn.create"]}) == 1  # K=4 at temperature 0
    # A repair continues the conversation: the creation request, the learner's code, the error.
    assert len(got["learn.fix"]) == 4 and all(
        [m["role"] for m in r["body"]["messages"]] == ["user", "assistant", "user"] for r in got["learn.fix"]
    )
    # A description per function and a demonstration per candidate at creation, both again after each Update.
    assert (
        len(got["learn.describe"]) == 8
        and sum(DESCRIBED_UPDATE in r["user"] or "going to src first" in r["user"] for r in got["learn.describe"]) == 4
    )
    assert len(got["learn.demonstrate"]) == 8
    # The first failure, revised by all K samples.
    assert len(got["learn.revise"]) == 4 and len({r["user"] for r in got["learn.revise"]}) == 1
    agent = [r["user"] for r in got["act.decide"]]
    assert all("Learned actions (each call" not in u and "Reply with exactly one action" not in u for u in agent)
    assert any(
        f"- carry(obj, src, dst, gripper): {DESCRIBED}" in u for u in agent
    )  # the learner's description, not the docstring
    after = [u for u in agent if DESCRIBED_UPDATE in u]
    assert after and all(
        u.index(DEMO_AFTER_UPDATE) < u.index(MATERIAL.example) for u in after
    )  # the new demonstration first
    # 4 candidates x 10 failing steps in round 0, and the previous best rolled out again in round 1 (10 more).
    assert sum(DESCRIBED_UPDATE not in u for u in agent) == 50
    summary = json.loads((tmp_path / "learn" / "learn_summary.json").read_text())
    assert [r["round"] for r in summary["rounds"]] == [0, 1] and summary["rounds"][1]["candidates"][0]["id"] == "r0s0"


def test_a_paper_evaluation_sends_the_references_requests(stub_server, tmp_path):
    config, bodies = run(
        stub_server,
        tmp_path,
        "eval",
        "--graph",
        "evaluate",
        "--methods",
        "act,react,reflexion,code_as_policy",
        "--instance",
        tiny_gripper(tmp_path),
        "--runs",
        "1",
    )
    got = requests_of(bodies)
    assert set(got) == {"act.decide", "react.decide", "reflexion.reflect", "code_as_policy.write"}, set(got)
    for node, requests in got.items():
        for request in requests:
            check_request(node, request)
    # Reflexion: at most 2 reflections (3 rounds of rollouts), each from the first failed training task, injected
    # as a plan line after the goal and before the history.
    reflections = got["reflexion.reflect"]
    first_task = f"Goal: {goal_of(config['train'][TASK][0])}\n"
    assert len(reflections) == 2 and all(
        r["user"].split("Now a short note for this attempt:")[1].lstrip().startswith(first_task) for r in reflections
    )
    tiny = f"Your goal: {goal_of(tiny_gripper(tmp_path))}\n"
    plan = f"Follow this high-level plan: {LESSON}\n{LESSON}\n"
    planned = [
        r["user"] for r in got["act.decide"] if "Follow this high-level plan:" in r["user"] and tiny in r["user"]
    ]
    assert len(planned) == 30 and all(re.search(re.escape(tiny + plan) + "(Observation|Action): ", u) for u in planned)
    # The history: the last 20 lines, one more each step; the first observation drops out after 10 steps.
    test_episode = [
        r["user"] for r in got["act.decide"] if tiny in r["user"] and "Follow this high-level plan:" not in r["user"]
    ]
    sizes = [len(history_lines(u, tiny)) for u in test_episode]
    assert len(test_episode) == 30 and sizes == [min(1 + 2 * i, HISTORY_LINES) for i in range(30)], sizes
    assert not any("entries of the history are hidden" in u for u in test_episode)
    # ReAct ends without an action cue; Code-as-Policies runs its program past the 30-step cap (no cap).
    assert all(not r["user"].rstrip().endswith("Action:") for r in got["react.decide"])
    assert any(
        "\nThink: where is the ball?\nObservation: Ok.\n" in r["user"] for r in got["react.decide"]
    )  # a thought's "Ok."
    episodes = {r["method"]: r for r in read_jsonl(tmp_path / "eval" / "episodes.jsonl")}
    assert episodes["code_as_policy"]["steps"] == 39 and episodes["code_as_policy"]["success"]
    assert config["runs"] == 1 and config["protocol_departures"] == {"runs": 1}


def history_lines(user: str, goal_line: str) -> list[str]:
    """The history lines of an agent request: the Observation/Action lines after its goal line."""
    return [line for line in user.split(goal_line, 1)[1].splitlines() if line.startswith(("Observation: ", "Action: "))]


def goal_of(instance: str) -> str:
    from environments import make_env

    env = make_env(TASK, instance)
    try:
        return env.reset()[1]["goal"]
    finally:
        env.close()


# ------------------------------------------------------------------ the specification against the templates
@pytest.mark.parametrize("node", sorted(SPEC))
def test_the_spec_covers_every_part_of_every_paper_template(node):
    """Each fixed line of a paper template is a part of the specification, in the template's order: removing or
    reordering a part of a template makes the golden runs fail."""
    template = PromptSet(prompt_set="paper").get(TEMPLATE_OF[node])
    assert template.source.startswith(str(PAPER_TEMPLATE_DIR))
    fixed = [line.strip() for line in PLACEHOLDER.sub("\n", template.user).splitlines() if line.strip()]
    spec_text = "\n".join(shows for _, shows in SPEC[node])
    check_parts(spec_text, [(line, line) for line in fixed if line not in ("```python", "```")], f"spec of {node}")
