"""Nodes of the one check-and-repair loop (graphs/repair.py): the creation subgraph embeds it for the reply and for
its demonstration, and a revision runs it for an Update (nodes/revise.py).

    check -> fix -> check ...    while the check fails and repairs are left

``check`` judges the code function by function (nodes/learning/checks.py ``check_once``) and keeps what works as an
``ActionLibrary`` value; ``repair.py`` ``judge`` decides: good enough (``strict``: nothing dropped; else something
kept), a repair, or a stop (the same error came back, or ``create_tries`` repairs over the candidate's tries made).
``fix`` asks the learner (``fix_actions``), shown the earlier failed tries.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from langgraph.graph import END
from langgraph.runtime import Runtime

from .context import Context, holds_slot
from .episodes import TaskEnvs
from .learn_state import LoopOutcome, RepairState
from .learning.checks import ask_repair, check_once
from .learning.repair import judge

# The environments of the caller's task while it runs the loop (a revision: made once for all its checks); unset,
# each check makes its own.
_TASK_ENVS: contextvars.ContextVar[TaskEnvs | None] = contextvars.ContextVar("learnact_task_envs", default=None)


@contextlib.contextmanager
def checks_on(envs: TaskEnvs) -> Iterator[TaskEnvs]:
    """Run the loop's checks (in this context) on ``envs``."""
    token = _TASK_ENVS.set(envs)
    try:
        yield envs
    finally:
        _TASK_ENVS.reset(token)


@holds_slot
def check_code(state: RepairState, runtime: Runtime[Context]) -> dict:
    """One check of ``code``; a failure goes to ``fix`` while repairs are left, else the loop ends with its outcome."""
    ctx = runtime.context
    tries = list(state.get("tries", []))
    checked = check_once(state["code"], state, ctx, state.get("demonstration"), _TASK_ENVS.get())
    error, stop = judge(checked, tries, ctx.create_tries, strict=bool(state.get("strict")))
    if error is not None and stop is None:
        return {"tries": tries, "route": "fix"}
    outcome = LoopOutcome(library=checked.library if stop is None else None, code=checked.code, stop=stop, error=error)
    return {
        "tries": tries,
        "route": "done",
        "outcome": outcome,
        "checked": {"dropped": checked.dropped, "renamed": checked.renamed},
    }


@holds_slot
def fix_code(state: RepairState, runtime: Runtime[Context]) -> dict:
    """The learner's repair of the last failed try, shown the ones before it."""
    tries = state["tries"]
    opening = state.get("opening")
    return {
        "code": ask_repair(
            tries[-1]["code"], tries[-1]["error"], tries[:-1], state, runtime.context, state["candidate_id"], opening
        )
    }


def route_after_check(state: RepairState) -> str:
    return "fix" if state.get("route") == "fix" else END
