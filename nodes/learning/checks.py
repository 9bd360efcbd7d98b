"""A candidate's code checked against its task, with the learner repairing it: the primitives (and state
queries) as the learner's prompts show them, the sandbox checks of the task (smoke.py), one check and one
repair request wired to the run context (the loop around them: graphs/repair.py, nodes/repair.py)."""

from __future__ import annotations

from learnact.llm.models import invoke_text

from .. import assist
from ..context import Context
from ..episodes import TaskEnvs
from ..events import emit
from .repair import Checked, check_code, render_attempts
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


def primitives_of(
    env_name: str, instance: str, ctx: Context, envs: TaskEnvs | None = None
) -> tuple[str, str, dict[str, int]]:
    """The primitives and (aid ``state_queries``) the state queries as the learner's prompts show them,
    and the primitives' argument counts; made once per run (``ctx.episodes.primitives``: each check and repair
    of a candidate asks), from ``envs``' environment (else one made for it)."""
    key = (env_name, instance, assist.queries_on(ctx))
    if key not in ctx.episodes.primitives:
        with TaskEnvs(ctx.episodes) as own:
            env = (envs or own).get(env_name, instance)
            queries = assist.learner_queries(env) if assist.queries_on(ctx) else ""
            ctx.episodes.primitives[key] = (
                render_primitives(env),
                queries,
                {p.name: len(p.params) for p in env.primitives},
            )
    return ctx.episodes.primitives[key]


def check_once(code: str, task: dict, ctx: Context, demonstration: str | None, envs: TaskEnvs | None = None) -> Checked:
    """One check of ``code`` against ``task`` (repair.py ``check_code``): static, then in the sandbox the
    demonstration's learned calls and (``ctx.creation_trials``) the creation trials, on ``envs``' environments
    (a caller that checks again passes its own; else they are made for this check)."""
    env_name, instance = task["env_name"], task["train_instances"][0]
    with TaskEnvs(ctx.episodes) as own:
        envs = envs or own
        _, _, arities = primitives_of(env_name, instance, ctx, envs)
        return check_code(code, arities, sandbox_check(env_name, instance, ctx, demonstration, envs))


def ask_repair(
    code: str,
    error: str,
    earlier: list[dict[str, str]],
    task: dict,
    ctx: Context,
    key: str,
    opening: list | None = None,
) -> str:
    """The learner's repair of ``code`` that failed with ``error`` (``fix_actions``), shown the ``earlier`` failed tries.

    Under the paper's prompt set with the request that asked for the code (``opening``), the repair goes on as the
    reference's conversation does: that request, then per failed try the code as the learner's turn and the error
    as a ``fix_actions`` turn."""
    emit("repair", candidate_id=key, attempt=len(earlier) + 1, error=brief_error(error, 200))
    primitives, queries, _ = primitives_of(task["env_name"], task["train_instances"][0], ctx)

    def fix(code: str, error: str, attempts: str) -> list:
        return ctx.prompts.render(
            "fix_actions", code=code, error=error, primitives=primitives, queries=queries, attempts=attempts
        )

    if ctx.prompt_set == "paper" and opening:
        messages = list(opening)
        for t in [*earlier, {"code": code, "error": error}]:
            messages += [("assistant", f"```python\n{t['code'].strip()}\n```"), *fix(t["code"], t["error"], "")]
    else:
        messages = fix(code, error, render_attempts(earlier))
    return clean_reply(ask_learner(ctx, "learn.fix", messages, key))
