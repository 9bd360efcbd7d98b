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

# (module, class) of every project value that graph state may hold.
STATE_TYPES = (("actions.library", "ActionLibrary"), ("actions.library", "LearnedAction"))


def checkpoint_serde() -> JsonPlusSerializer:
    return JsonPlusSerializer(allowed_msgpack_modules=STATE_TYPES)


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
