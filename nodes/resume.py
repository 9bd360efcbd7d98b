"""Where a checkpointed run stopped, from its latest ``StateSnapshot``.

``snapshot.next`` is not the test for "finished": LangGraph leaves out of it the tasks of the current
step that already returned (their writes are saved, the step's own checkpoint not yet). A run killed
after the last task of a step and before that checkpoint has ``next == ()`` but is not over; resuming
it (``invoke(None, config)``) applies the saved writes and goes on. ``snapshot.tasks`` lists every
task of the step, finished or not: a run is over when it has state and no task left.
"""

from __future__ import annotations

from typing import Any


def finished(snapshot: Any) -> bool:
    """The run reached its end: it has state and no task of a step is pending or awaiting its checkpoint."""
    return bool(snapshot.values) and not snapshot.tasks


def pending_names(snapshot: Any) -> list[str]:
    """The current step's task names, finished ones included (a resume runs those that did not finish)."""
    return [t.name for t in snapshot.tasks] or list(snapshot.next)
