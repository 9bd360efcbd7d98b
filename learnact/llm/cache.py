"""An on-disk response cache for LangChain chat models (``BaseChatModel(cache=...)``).

Keyed by a namespace (the model's identity, e.g. the GGUF's sha256), the model's parameters
(LangChain's ``llm_string``: model name, temperature, max tokens, stop, grammar, ...) and the
serialized messages. A re-run with the same prompts replays the stored replies: free and identical.
The local server's port changes every run, so it is masked out of the key.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import warnings
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.load import dumps, loads

_LOOPBACK_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")


class SQLiteResponseCache(BaseCache):
    def __init__(self, path: str | Path, *, namespace: str = "", mask_loopback_port: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.namespace = namespace
        self.mask_loopback_port = mask_loopback_port
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")  # several runs may share one cache file
            self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def key(self, prompt: str, llm_string: str) -> str:
        if self.mask_loopback_port:
            llm_string = _LOOPBACK_PORT.sub(r"\1:PORT", llm_string)
        return hashlib.sha256("\x00".join((self.namespace, llm_string, prompt)).encode()).hexdigest()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM responses WHERE key = ?", (self.key(prompt, llm_string),)
            ).fetchone()
            if row is None:
                return None
        try:
            with (
                warnings.catch_warnings()
            ):  # langchain_core.load.loads is marked beta; the format is stable enough for a cache
                warnings.simplefilter("ignore")
                generations: list[Any] = loads(row[0], allowed_objects="core")
        except Exception:  # an entry from another langchain version: ask the model again
            return None
        for gen in generations:  # tell the caller (usage accounting) that nothing was sent
            message = getattr(gen, "message", None)
            if message is not None:
                message.response_metadata = {**message.response_metadata, "cache_hit": True}
        return generations

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        value = dumps(list(return_val))
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", (self.key(prompt, llm_string), value)
            )

    def clear(self, **kwargs: Any) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM responses")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
