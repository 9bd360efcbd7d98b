"""Token and cost accounting per node, per key (episode, round, ...) and per run.

Graph nodes run in parallel threads, so every update takes a lock. Prices are USD per 1M tokens
(input, output); a model without a known price gets ``cost: None`` ("n/a"), never a silent $0.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from .retries import RetryCounter

# USD per 1M tokens (input, output), list prices of the providers' standard tier.
PRICES: dict[str, tuple[float, float]] = {
    "local": (0.0, 0.0),
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.0, 30.0),
    "gpt-4": (30.0, 60.0),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.0, 60.0),
    "o3": (2.0, 8.0),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}
_prices_lock = threading.Lock()
_env_prices_loaded = False


def register_price(model: str, input_per_1m: float, output_per_1m: float) -> None:
    """Add or replace the price of ``model`` (USD per 1M input / output tokens)."""
    if input_per_1m < 0 or output_per_1m < 0:
        raise ValueError(f"price of {model!r} must not be negative")
    with _prices_lock:
        PRICES[model] = (float(input_per_1m), float(output_per_1m))


def load_prices(path: str | Path) -> int:
    """Read ``{"model": [input, output]}`` or ``{"model": {"input": x, "output": y}}`` into ``PRICES``."""
    try:
        table = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"price table {path}: {exc}") from exc
    if not isinstance(table, dict):
        raise ValueError(f"price table {path}: expected an object mapping model names to prices")
    for model, price in table.items():
        if isinstance(price, dict) and {"input", "output"} <= price.keys():
            register_price(model, price["input"], price["output"])
        elif isinstance(price, (list, tuple)) and len(price) == 2:
            register_price(model, price[0], price[1])
        else:
            raise ValueError(f"price table {path}: {model!r} needs [input, output] or {{input, output}} per 1M tokens")
    return len(table)


def price_for(model: str) -> tuple[float, float] | None:
    """Price of ``model``; dated variants (``gpt-4o-mini-2024-07-18``) and ``provider:`` prefixes match too."""
    global _env_prices_loaded
    if not _env_prices_loaded:
        _env_prices_loaded = True
        if os.environ.get("LEARNACT_PRICES"):
            load_prices(os.environ["LEARNACT_PRICES"])
    name = model.split(":", 1)[1] if ":" in model and not model.startswith("ft:") else model
    if name.startswith("ft:"):  # fine-tuned: ft:<base>:<org>:...
        name = name.split(":")[1]
    with _prices_lock:
        if name in PRICES:
            return PRICES[name]
        prefixes = [k for k in PRICES if name.startswith(k + "-")]
        return PRICES[max(prefixes, key=len)] if prefixes else None


def cost_of(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    price = price_for(model)
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


@dataclass
class UsageRecord:
    model: str
    node: str
    key: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    cache_hit: bool = False
    seconds: float = 0.0


def _stats(records: Iterable[UsageRecord]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "calls": 0,
        "cache_hits": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "cost": 0.0,
        "seconds": 0.0,
    }
    for r in records:
        out["calls"] += 1
        out["cache_hits"] += int(r.cache_hit)
        out["prompt_tokens"] += r.prompt_tokens
        out["completion_tokens"] += r.completion_tokens
        out["total_tokens"] += r.prompt_tokens + r.completion_tokens
        out["seconds"] += r.seconds
        out["cost"] = None if out["cost"] is None or r.cost is None else out["cost"] + r.cost
    out["seconds"] = round(out["seconds"], 3)
    return out


class UsageTracker:
    """Thread-safe log of model calls; ``summary()`` is JSON-able (``totals``, ``per_node``, ``per_key``, ``per_model``,
    and ``retries``: the failed attempts per kind, counted by the models built with this tracker's ``retries``)."""

    def __init__(self) -> None:
        self._records: list[UsageRecord] = []
        self._lock = threading.Lock()
        self.retries = RetryCounter()

    def add(
        self,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        node: str | None = None,
        key: str | None = None,
        cache_hit: bool = False,
        seconds: float = 0.0,
    ) -> UsageRecord:
        """Record one call. A cache hit costs nothing and counts no tokens (nothing was sent)."""
        if cache_hit:
            prompt_tokens = completion_tokens = 0
        record = UsageRecord(
            model=model,
            node=node or "?",
            key=key or "",
            prompt_tokens=int(prompt_tokens or 0),
            completion_tokens=int(completion_tokens or 0),
            cost=0.0 if cache_hit else cost_of(model, int(prompt_tokens or 0), int(completion_tokens or 0)),
            cache_hit=cache_hit,
            seconds=seconds,
        )
        with self._lock:
            self._records.append(record)
        return record

    def records(self) -> list[UsageRecord]:
        with self._lock:
            return list(self._records)

    def totals(self, *, key: str | None = None, node: str | None = None) -> dict[str, Any]:
        """Stats over all calls, or over the calls of one ``key`` and/or ``node``."""
        return _stats(r for r in self.records() if (key is None or r.key == key) and (node is None or r.node == node))

    def _grouped(self, field: str) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[UsageRecord]] = {}
        for r in self.records():
            groups.setdefault(getattr(r, field), []).append(r)
        return {name: _stats(rs) for name, rs in groups.items()}

    def summary(self, *, include_records: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "totals": self.totals(),
            "per_node": self._grouped("node"),
            "per_key": self._grouped("key"),
            "per_model": self._grouped("model"),
            "retries": self.retries.counts(),
        }
        if include_records:
            out["records"] = [asdict(r) for r in self.records()]
        return out

    def callback(self, *, node: str | None = None, key: str | None = None) -> UsageCallback:
        """A LangChain callback that records into this tracker (for calls that bypass ``invoke_text``)."""
        return UsageCallback(self, node=node, key=key)


class ScopedUsage(UsageTracker):
    """A tracker for one part of a run (e.g. one method's learning) that also records into the run's.

    Its own ``totals()`` cover only that part, even while other parts run in parallel; in the
    run's tracker the part's calls carry keys prefixed with ``scope/``.
    """

    def __init__(self, parent: UsageTracker, scope: str) -> None:
        super().__init__()
        self.parent, self.scope = parent, scope
        self.retries = parent.retries  # one count per run: the models are the run's

    def add(
        self,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        node: str | None = None,
        key: str | None = None,
        **kw: Any,
    ) -> UsageRecord:
        self.parent.add(
            model, prompt_tokens, completion_tokens, node=node, key=f"{self.scope}/{key}" if key else self.scope, **kw
        )
        return super().add(model, prompt_tokens, completion_tokens, node=node, key=key, **kw)


class UsageCallback(BaseCallbackHandler):
    """Records the ``usage_metadata`` of every chat generation a model returns."""

    def __init__(self, tracker: UsageTracker, *, node: str | None = None, key: str | None = None):
        self.tracker, self.node, self.key = tracker, node, key

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for gen in generations:
                message = getattr(gen, "message", None)
                usage = getattr(message, "usage_metadata", None) or {}
                meta = getattr(message, "response_metadata", None) or {}
                self.tracker.add(
                    str(meta.get("model_name") or meta.get("model") or "?"),
                    usage.get("input_tokens", 0),
                    usage.get("output_tokens", 0),
                    node=self.node,
                    key=self.key,
                    cache_hit=bool(meta.get("cache_hit")),
                )
