"""Code-as-Policies baseline: one call of the agent model writes a whole program, run once, open-loop.

The program runs in the same sandbox as learned actions (it is untrusted code too), with a
primitive-call budget equal to the episode's step cap. Each primitive it runs is one step.
"""
from __future__ import annotations

import ast

from langgraph.runtime import Runtime

from learnact.actions import ActionLibrary, Limits, strip_fences
from learnact.llm.models import invoke_text
from prompts import load_domain_material, load_paper_material

from .context import Context
from .events import emit
from .learning.checks import render_primitives
from .learning.reply import functions_only
from .state import EpisodeState, StepRecord

UNCAPPED_PRIMITIVES = 10_000  # a safety bound only: no benchmark task needs more than a few hundred steps


def statements_as_solve(program: str) -> str:
    """``program`` with its module-level statements moved into ``def solve():`` (when it defines no solve of
    its own and has such statements); a program that does not parse is returned as it is."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return program
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    body = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom))]
    if any(d.name == "solve" for d in defs) or not body:
        return program
    steps = "\n".join(ast.unparse(n) for n in body)
    solve = "def solve():\n" + "\n".join("    " + line for line in steps.splitlines())
    return "\n\n\n".join([*(ast.unparse(d) for d in defs), solve]) + "\n"


def write_program(state: EpisodeState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rt = ctx.episodes.get(state, ctx.sandbox)
    material = load_domain_material(state["env_name"], ctx.prompts_dir, ctx.feedback)
    paper = load_paper_material(state["env_name"], ctx.prompts_dir) if ctx.prompt_set == "paper" else None
    messages = ctx.prompts.render(
        "code_as_policy",
        system=paper["system"] if paper else "",
        instruction=material.instruction,
        primitives=render_primitives(rt.env),
        example=paper["program example"] if paper else material.example,
        goal=state.get("goal", ""),
        observation=state.get("first_observation", ""),
    )
    # A baseline of the acting model (as in the paper): the agent writes the program, never the learner.
    reply = invoke_text(
        ctx.agent, messages, usage=ctx.usage, node="code_as_policy.write", key=state["episode_id"], max_tokens=ctx.program_max_tokens
    )
    program = strip_fences(reply or "")  # a reply cut at the token cap keeps its unclosed block
    if paper:  # the paper's programs act at module level, as its example does: those statements become solve()
        program = statements_as_solve(program)
    # Small models end the program with `solve()` or `print(solve())`, or put constants at module level.
    # Those statements are dropped, never run (the sandbox refuses module-level code); the functions
    # are kept and solve() is called once, as the method intends. The record keeps the program as written.
    runnable = functions_only(program)
    if runnable != program:
        emit("episode_note", episode_id=state["episode_id"], note="module-level statements dropped from the program (not run)")
    return {"pending_action": runnable, "program": program}


def run_program(state: EpisodeState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rt = ctx.episodes.get(state, ctx.sandbox)
    cap = state.get("max_steps") or ctx.max_steps
    program = state.get("pending_action", "")
    try:
        # A function named like a primitive is refused here (a bad program), not by the Executor (a crash).
        library = ActionLibrary.from_code(program, primitives=[p.name for p in rt.env.primitives])
        if library.get("solve") is None:
            raise ValueError("the program does not define solve()")
    except ValueError as exc:
        step: StepRecord = {
            "index": 0, "action": "solve()", "observation": f"The program could not be used: {exc}", "ok": False,
            "is_learned": True, "name": "solve", "error_kind": "syntax", "trace": [],
        }
        emit("episode_note", episode_id=state["episode_id"], note=f"bad program: {exc}")
        return {"steps": [step], "done": True, "stop_reason": "bad_program"}
    # program_cap "none" (the paper): no cap on the program's primitives beyond the sandbox's safety bound.
    budget = cap if ctx.program_cap == "step_cap" else UNCAPPED_PRIMITIVES
    limits = Limits(max_primitive_calls=budget, wall_s=ctx.program_wall_s or max(30.0, cap * 2.0))
    with ctx.sandbox(rt.env, library, limits=limits) as ex:
        result = ex.run("solve()")
    info = dict(getattr(result, "info", None) or {})
    rt.last_info.update(info)
    # One step per primitive the program ran, so steps compare with the closed-loop agents.
    steps: list[StepRecord] = [
        {
            "index": i, "action": t.action, "observation": t.observation, "ok": bool(t.valid),
            "is_learned": False, "name": None, "error_kind": None if t.valid else "invalid_primitive",
            "trace": [{"action": t.action, "observation": t.observation, "valid": bool(t.valid)}],
        }
        for i, t in enumerate(result.trace)
    ]
    kind = getattr(result.error, "kind", None)
    # Running out of primitive calls is the step cap (as for an agent), not an extra failed step.
    if result.error is not None and kind not in ("invalid_primitive", "primitive_limit"):
        steps.append({
            "index": len(steps), "action": "solve()", "observation": result.observation, "ok": False, "is_learned": True,
            "name": "solve", "error_kind": kind, "trace": [],
        })
    success = bool(rt.last_info.get("success"))
    if success:
        stop_reason = "success"
    elif kind == "primitive_limit":
        stop_reason = "max_steps"
    else:
        stop_reason = "program_error" if result.error is not None else "program_ended"
    update = {
        "steps": steps,
        "success": success,
        "progress": max(float(state.get("progress", 0.0)), float(rt.last_info.get("progress", 0.0))),
        "done": True,
        "stop_reason": stop_reason,
    }
    if rt.last_info.get("cost") is not None:
        update["action_cost"] = float(rt.last_info["cost"])
    return update
