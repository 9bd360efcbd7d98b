"""Custom stream events (``stream_mode="custom"``) that run.py renders as live progress."""
from __future__ import annotations

from typing import Any

from langgraph.config import get_stream_writer


def emit(event: str, /, **data: Any) -> None:
    """Send one progress event; a no-op outside a streaming run."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # not inside a runnable context (e.g. a node called directly in a test)
        return
    writer({"event": event, **data})
