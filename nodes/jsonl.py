"""Durable JSONL appends: a record is on disk (fsynced) when ``append_line`` returns.

A ``kill -9`` can cut the last line of a file in half. The next append then starts on a fresh
line, so the torn fragment costs only itself (readers skip it) and never the record written after it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append_line(path: str | Path, record: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, default=str) + "\n").encode("utf-8")
    with open(path, "ab+") as out:
        if out.seek(0, os.SEEK_END) > 0:
            out.seek(-1, os.SEEK_END)
            if out.read(1) != b"\n":
                line = b"\n" + line
        out.write(line)
        out.flush()
        os.fsync(out.fileno())
