"""A candidate's code checked against its task, with the learner repairing it: the primitives (and the state
queries aid, nodes/assist/state_queries.py) as the learner's prompts show them, the sandbox checks of the task
(smoke.py), and the check and repair loop (repair.py) wired to the run context."""
from __future__ import annotations

from learnact.actions import ActionLibrary
from environments import make_env
from learnact.llm.models import invoke_text

from .. import assist
from ..context import Context
from ..events import emit
from .repair import Checked, check_code, check_with_repairs, render_attempts
from .reply import brief_error, clean_reply
from .smoke import sandbox_check


def ask_learner(ctx: Context, node: str, messages, key: str) -> str:
    return invoke_text(ctx.learner, messages, usage=ctx.usage, node=node, key=key)


def render_primitives(env) -> str:
    out = []
    for p in env.primitives:
        line = f"- {p.signature}: {p.description}" if p.description else f"- {p.signature}"
        if p.preconditions:
            line += f"\n    requires: {p.preconditions}"
        if p.effects:
            line += f"\n    effect: {p.effects}"
        out.append(line)
    return "\n".join(out)


def primitives_of(env_name: str, instance: str, ctx: Context) -> tuple[str, str, dict[str, int]]:
    """The primitives and (setting ``state_queries``) the state queries as the learner's prompts show them,
    and the primitives' argument counts; made once per run (``ctx.episodes.primitives``: each check and repair
    of a candidate asks)."""
    key = (env_name, instance, assist.queries_on(ctx))
    if key not in ctx.episodes.primitives:
        ctx.episodes.primitives[key] = _primitives_of(env_name, instance, ctx)
    return ctx.episodes.primitives[key]


def _primitives_of(env_name: str, instance: str, ctx: Context) -> tuple[str, str, dict[str, int]]:
    env = make_env(env_name, instance, data_dir=ctx.episodes.data_dir, **ctx.episodes.env_options)
    try:
        queries = assist.learner_queries(env) if assist.queries_on(ctx) else ""
        return render_primitives(env), queries, {p.name: len(p.params) for p in env.primitives}
    finally:
        env.close()


def check_once(code: str, task: dict, ctx: Context, demonstration: str | None) -> Checked:
    """One check of ``code`` against ``task`` (repair.py ``check_code``): static, then in the sandbox the
    demonstration's learned calls and (``ctx.creation_trials``) the creation trials."""
    env_name, instance = task["env_name"], task["train_instances"][0]
    _, _, arities = primitives_of(env_name, instance, ctx)
    return check_code(code, arities, sandbox_check(env_name, instance, ctx, demonstration))


def ask_repair(
    code: str, error: str, earlier: list[dict[str, str]], task: dict, ctx: Context, key: str, opening: list | None = None
) -> str:
    """The learner's repair of ``code`` that failed with ``error`` (``fix_actions``), shown the ``earlier`` failed tries.

    Under the paper's prompt set with the request that asked for the code (``opening``), the repair goes on as the
    reference's conversation does: that request, then per failed try the code as the learner's turn and the error
    as a ``fix_actions`` turn."""
    emit("repair", candidate_id=key, attempt=len(earlier) + 1, error=brief_error(error, 200))
    primitives, queries, _ = primitives_of(task["env_name"], task["train_instances"][0], ctx)

    def fix(code: str, error: str, attempts: str) -> list:
        return ctx.prompts.render("fix_actions", code=code, error=error, primitives=primitives, queries=queries, attempts=attempts)

    if ctx.prompt_set == "paper" and opening:
        messages = list(opening)
        for t in [*earlier, {"code": code, "error": error}]:
            messages += [("assistant", f"```python\n{t['code'].strip()}\n```"), *fix(t["code"], t["error"], "")]
    else:
        messages = fix(code, error, render_attempts(earlier))
    return clean_reply(ask_learner(ctx, "learn.fix", messages, key))


def check_and_repair(
    code: str, task: dict, ctx: Context, demonstration: str | None, key: str, opening: list | None = None
) -> tuple[ActionLibrary | None, str, list[str]]:
    """The whole of ``code`` must work (a revision): while anything fails, the learner repairs it, at most
    ``create_tries`` times. (library or None, the last code, errors met and renames made)."""
    outcome = check_with_repairs(
        code, lambda c: check_once(c, task, ctx, demonstration),
        lambda c, error, earlier: ask_repair(c, error, earlier, task, ctx, key, opening), ctx.create_tries, strict=True,
    )  # fmt: skip
    notes = [f"renamed {r['from']} to {r['to']}: {r['reason']}" for r in outcome.checked.renamed]
    library = outcome.library
    return library, library.code if library is not None else outcome.checked.code, [t["error"] for t in outcome.tries] + notes
