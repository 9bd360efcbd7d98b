"""UsageTracker and the price table."""

from __future__ import annotations

import json
import threading

import pytest

from learnact.llm import usage as usage_mod
from learnact.llm.usage import UsageTracker, cost_of, load_prices, price_for, register_price


@pytest.fixture(autouse=True)
def restore_prices(monkeypatch):
    monkeypatch.setattr(usage_mod, "PRICES", dict(usage_mod.PRICES))


def test_prices_local_free_dated_and_prefixed_names():
    assert cost_of("local", 10_000, 10_000) == 0.0
    assert price_for("gpt-4o-mini-2024-07-18") == price_for("gpt-4o-mini") == (0.15, 0.60)
    assert price_for("gpt-4o-2024-08-06") == price_for("gpt-4o")
    assert price_for("openai:gpt-4.1-mini") == (0.40, 1.60)
    assert price_for("ft:gpt-4o-mini-2024-07-18:acme::abc") == (0.15, 0.60)
    assert price_for("mystery-model") is None and cost_of("mystery-model", 1, 1) is None


def test_register_and_load_prices(tmp_path):
    register_price("my-model", 1.0, 2.0)
    assert cost_of("my-model", 1_000_000, 500_000) == pytest.approx(2.0)
    table = tmp_path / "prices.json"
    table.write_text(json.dumps({"a-model": [3, 4], "b-model": {"input": 0.5, "output": 1}}))
    assert load_prices(table) == 2
    assert price_for("a-model") == (3.0, 4.0) and price_for("b-model") == (0.5, 1.0)
    table.write_text(json.dumps({"c-model": "cheap"}))
    with pytest.raises(ValueError, match="c-model"):
        load_prices(table)
    with pytest.raises(ValueError, match="prices.json"):
        load_prices(tmp_path / "missing" / "prices.json")
    with pytest.raises(ValueError, match="negative"):
        register_price("x", -1, 0)


def test_groups_by_node_key_and_model():
    tracker = UsageTracker()
    tracker.add("gpt-4o-mini", 1000, 100, node="act.decide", key="e1")
    tracker.add("gpt-4o-mini", 2000, 200, node="act.decide", key="e2")
    tracker.add("local", 500, 50, node="learn.write", key="e1")
    tracker.add("local", 500, 50, node="learn.write", key="e1", cache_hit=True)
    summary = json.loads(json.dumps(tracker.summary()))  # JSON-able
    assert summary["totals"]["calls"] == 4 and summary["totals"]["cache_hits"] == 1
    assert summary["totals"]["total_tokens"] == 1100 + 2200 + 550
    assert summary["per_node"]["act.decide"]["prompt_tokens"] == 3000
    assert summary["per_key"]["e1"]["total_tokens"] == 1100 + 550
    assert summary["per_model"]["local"]["cost"] == 0.0
    assert tracker.totals(key="e2")["cost"] == pytest.approx((2000 * 0.15 + 200 * 0.6) / 1e6)
    assert tracker.totals(key="e1", node="learn.write")["calls"] == 2


def test_unknown_price_makes_the_group_cost_unknown():
    tracker = UsageTracker()
    tracker.add("gpt-4o", 10, 10, node="a")
    tracker.add("mystery", 10, 10, node="a")
    tracker.add("gpt-4o", 10, 10, node="b")
    assert tracker.totals()["cost"] is None
    assert tracker.totals(node="b")["cost"] > 0


def test_parallel_adds_are_all_counted():
    tracker = UsageTracker()

    def work(i: int) -> None:
        for _ in range(500):
            tracker.add("local", 3, 1, node=f"n{i % 2}", key=f"k{i}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tracker.totals()["calls"] == 4000 and tracker.totals()["total_tokens"] == 16000
    assert tracker.summary()["per_node"]["n0"]["calls"] == 2000


def test_callback_records_usage_metadata():
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    tracker = UsageTracker()
    reply = AIMessage(
        "hi",
        usage_metadata={"input_tokens": 7, "output_tokens": 2, "total_tokens": 9},
        response_metadata={"model_name": "gpt-4o"},
    )
    GenericFakeChatModel(messages=iter([reply])).invoke(
        "hello", config={"callbacks": [tracker.callback(node="summarize", key="r0")]}
    )
    stats = tracker.totals(node="summarize")
    assert (stats["calls"], stats["prompt_tokens"], stats["completion_tokens"]) == (1, 7, 2)
    assert stats["cost"] == pytest.approx((7 * 2.5 + 2 * 10) / 1e6)
