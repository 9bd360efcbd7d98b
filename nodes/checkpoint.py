"""A run's checkpointer: LangGraph's SQLite saver, told which of the project's values graph state holds.

State must be serialisable for the checkpointer. The learning graph keeps a candidate's library as the
``actions.ActionLibrary`` value itself (parsed once from the learner's reply, never turned into a dict and
back between nodes); LangGraph's serde stores a dataclass by its fields and rebuilds it on a resume, for
the types named here (any other type that is not one of LangGraph's own is refused, not rebuilt blindly).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Send

# (module, class) of every project value that graph state may hold.
STATE_TYPES = (("learnact.actions.library", "ActionLibrary"), ("learnact.actions.library", "LearnedAction"))


class _Serde(JsonPlusSerializer):
    """LangGraph's serde, which also reads checkpoints written before the library became a value.

    Those stored a candidate's library as its record, ``{"format": 1, "actions": [...]}``; a run
    started by such a version resumes with the record turned back into an ``ActionLibrary``.
    """

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        value = super().loads_typed(data)
        # Only a blob with a "format" key can hold such a record: the rest skip the walk (every load passes here).
        return upgrade_records(value) if isinstance(data[1], bytes) and b"format" in data[1] else value


def upgrade_records(value: Any) -> Any:
    """``value`` with every action-library record inside it (dicts, lists, tuples) made an ``ActionLibrary``."""
    if isinstance(value, dict):
        if value.get("format") == 1 and isinstance(value.get("actions"), list) and set(value) == {"format", "actions"}:
            from learnact.actions import ActionLibrary

            return ActionLibrary.from_dict(value)
        return {k: upgrade_records(v) for k, v in value.items()}
    if isinstance(value, list):
        return [upgrade_records(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(upgrade_records(v) for v in value)
    if isinstance(value, Send):  # a pending rollout or creation task carries its candidate
        return Send(value.node, upgrade_records(value.arg))
    return value


def checkpoint_serde() -> JsonPlusSerializer:
    return _Serde(allowed_msgpack_modules=STATE_TYPES)


@contextlib.contextmanager
def sqlite_checkpointer(path: Path) -> Iterator[Any]:
    """A SQLite checkpointer on ``path`` (its folder made), closed on exit."""
    from langgraph.checkpoint.sqlite import SqliteSaver  # an optional extra: only runs that checkpoint need it

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        yield SqliteSaver(conn, serde=checkpoint_serde())
    finally:
        conn.close()
