"""make_chat_model + invoke_text through the real ChatOpenAI against the stub server, and with fake models."""

from __future__ import annotations

import sys
import types

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.rate_limiters import InMemoryRateLimiter

from benchmarks.stub_server import Reply, error_reply
from learnact.llm import errors
from learnact.llm.config import ModelSpec
from learnact.llm.grammar import call_grammar
from learnact.llm.models import invoke_text, is_local, make_chat_model
from learnact.llm.usage import UsageTracker

MESSAGES = [("system", "You are terse."), ("user", "Say hi.")]


@pytest.fixture(autouse=True)
def no_openai_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def openai_model(stub, **spec):
    return make_chat_model(ModelSpec(model=spec.pop("model", "gpt-4o-mini"), base_url=stub.url, **spec))


def fake_local_server(stub) -> types.SimpleNamespace:
    """Looks like a started LocalServer, but the 'llama.cpp' behind it is the stub."""
    return types.SimpleNamespace(base_url=stub.url, model_path=None, resolved_model_file=None)


def test_reply_text_and_usage_with_price(stub_server):
    stub = stub_server([Reply("hello there", prompt_tokens=1000, completion_tokens=200)])
    usage = UsageTracker()
    text = invoke_text(openai_model(stub), MESSAGES, usage=usage, node="decide", key="episode-1")
    assert text == "hello there"
    body = stub.chat_requests[0].body
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0.0 and body["max_tokens"] == 512
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    totals = usage.totals(key="episode-1")
    assert (totals["prompt_tokens"], totals["completion_tokens"], totals["calls"]) == (1000, 200, 1)
    assert totals["cost"] == pytest.approx((1000 * 0.15 + 200 * 0.60) / 1e6)
    assert usage.summary()["per_node"]["decide"]["total_tokens"] == 1200


def test_stop_sequences_are_sent_and_applied(stub_server):
    stub = stub_server(["move('a', 'b')\nmore text"])  # a server that ignores stop
    assert invoke_text(openai_model(stub), MESSAGES, stop=["\n"]) == "move('a', 'b')"
    assert stub.chat_requests[0].body["stop"] == ["\n"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retries_with_backoff_then_succeeds(stub_server, status):
    stub = stub_server([error_reply(status, "try later"), "after retry"])
    assert invoke_text(openai_model(stub, max_retries=2), MESSAGES) == "after retry"
    first, second = stub.chat_requests
    assert second.at - first.at >= 0.3  # the client waited (0.5 s base delay, jittered) instead of hammering


def test_rate_limited_after_all_retries(stub_server):
    stub = stub_server(default=error_reply(429, "quota", **{"retry-after-ms": "10"}))
    with pytest.raises(errors.RateLimitError, match="429") as info:
        invoke_text(openai_model(stub, max_retries=2), MESSAGES)
    assert len(stub.chat_requests) == 3
    assert "\n" not in str(info.value)


def test_auth_error_is_immediate(stub_server):
    stub = stub_server(default=error_reply(401, "Incorrect API key provided"))
    with pytest.raises(errors.AuthError, match="Incorrect API key"):
        invoke_text(openai_model(stub, max_retries=4), MESSAGES)
    assert len(stub.chat_requests) == 1


def test_unknown_model_is_immediate(stub_server):
    stub = stub_server(default=error_reply(404, "The model `gpt-nope` does not exist"))
    with pytest.raises(errors.ModelNotFoundError, match="gpt-nope"):
        invoke_text(openai_model(stub, model="gpt-nope"), MESSAGES)
    assert len(stub.chat_requests) == 1


@pytest.mark.parametrize("raw", ["<html><body>Bad gateway\n</body></html>", '{"unexpected": true}', "null"])
def test_garbage_body_is_a_server_error(stub_server, raw):
    stub = stub_server(default=Reply(raw=raw))
    with pytest.raises(errors.ServerError, match="not a valid chat completion") as info:
        invoke_text(openai_model(stub, max_retries=0), MESSAGES)
    assert "\n" not in str(info.value)


def test_timeout_is_retried_then_a_server_error(stub_server):
    stub = stub_server(default=Reply("late", delay_s=1.5))
    with pytest.raises(errors.ServerError, match="no reply within"):
        invoke_text(openai_model(stub, timeout_s=0.3, max_retries=1), MESSAGES)
    assert len(stub.chat_requests) == 2


def test_unreachable_server(stub_server):
    stub = stub_server()
    url = stub.url
    stub.stop()
    model = make_chat_model(ModelSpec(model="gpt-4o-mini", base_url=url, max_retries=0))
    with pytest.raises(errors.ServerError, match="cannot connect"):
        invoke_text(model, MESSAGES)


def test_cache_hit_does_not_reach_the_server(stub_server, tmp_path):
    stub = stub_server(["first answer", "second answer"])
    usage = UsageTracker()
    cached = make_chat_model(ModelSpec(model="gpt-4o-mini", base_url=stub.url), cache_dir=str(tmp_path))
    first = invoke_text(cached, MESSAGES, usage=usage, node="n", key="run1")
    # A new model object, as in a re-run of the program: same answer, no request, no cost.
    again = make_chat_model(ModelSpec(model="gpt-4o-mini", base_url=stub.url), cache_dir=str(tmp_path))
    assert invoke_text(again, MESSAGES, usage=usage, node="n", key="run2") == first == "first answer"
    assert len(stub.chat_requests) == 1
    assert usage.totals(key="run2") | {"seconds": 0} == {
        "calls": 1,
        "cache_hits": 1,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "cost": 0.0,
        "seconds": 0,
    }
    # Different messages or parameters are different keys.
    assert invoke_text(again, [("user", "Something else")]) == "second answer"
    hotter = make_chat_model(
        ModelSpec(model="gpt-4o-mini", base_url=stub.url, temperature=0.7), cache_dir=str(tmp_path)
    )
    invoke_text(hotter, MESSAGES)
    assert len(stub.chat_requests) == 3


def test_local_model_sends_max_tokens_and_grammar_in_body(stub_server):
    stub = stub_server(["move('a', 'b')"])
    model = make_chat_model(ModelSpec(model="local", max_tokens=48), server=fake_local_server(stub))
    assert is_local(model)
    grammar = call_grammar({"move": 2})
    invoke_text(model, MESSAGES, grammar=grammar, stop=["\n"])
    body = stub.chat_requests[0].body
    assert body["max_tokens"] == 48 and body["grammar"] == grammar
    assert "max_completion_tokens" not in body
    assert stub.chat_requests[0].headers.get("authorization") == "Bearer sk-local"


def test_grammar_is_not_sent_to_other_models(stub_server):
    stub = stub_server(["x"])
    invoke_text(openai_model(stub), MESSAGES, grammar=call_grammar(["go"]))
    assert "grammar" not in stub.chat_requests[0].body


def test_invalid_grammar_is_refused_before_sending(stub_server):
    stub = stub_server(["x"])
    model = make_chat_model(ModelSpec(model="local"), server=fake_local_server(stub))
    with pytest.raises(errors.BadRequestError, match="invalid GBNF"):
        invoke_text(model, MESSAGES, grammar="root ::= oops(")
    assert stub.chat_requests == []


def test_local_cache_survives_a_new_port(stub_server, tmp_path):
    """The local server gets a new port every run; a re-run must still hit the cache."""
    first, second = stub_server(["cached reply"]), stub_server(["fresh reply"])
    spec = ModelSpec(model="local")
    assert (
        invoke_text(make_chat_model(spec, server=fake_local_server(first), cache_dir=str(tmp_path)), MESSAGES)
        == "cached reply"
    )
    assert (
        invoke_text(make_chat_model(spec, server=fake_local_server(second), cache_dir=str(tmp_path)), MESSAGES)
        == "cached reply"
    )
    assert second.chat_requests == []


def test_rate_limiter_spaces_requests(stub_server):
    stub = stub_server(default="ok")
    model = openai_model(stub, requests_per_second=5)
    assert isinstance(model.rate_limiter, InMemoryRateLimiter)
    for _ in range(3):
        invoke_text(model, MESSAGES)
    times = [r.at for r in stub.chat_requests]
    assert all(b - a >= 0.15 for a, b in zip(times, times[1:]))


def test_missing_key_without_base_url_is_a_clear_error():
    with pytest.raises(errors.AuthError, match="OPENAI_API_KEY"):
        make_chat_model(ModelSpec(model="gpt-4o-mini"))


def test_key_from_environment_is_used(stub_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    stub = stub_server(["ok"])
    invoke_text(openai_model(stub), MESSAGES)
    assert stub.chat_requests[0].headers.get("authorization") == "Bearer sk-test-123"


def test_openai_provider_prefix_uses_chat_openai(stub_server):
    stub = stub_server(["ok"])
    invoke_text(make_chat_model(ModelSpec(model="openai:gpt-4o-mini", base_url=stub.url)), MESSAGES)
    assert stub.chat_requests[0].body["model"] == "gpt-4o-mini"


def test_provider_without_its_package_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)  # as if not installed
    with pytest.raises(errors.ModelConfigError, match="pip install .*langchain-anthropic"):
        make_chat_model(ModelSpec(model="anthropic:claude-3-5-haiku-latest"))


def test_local_without_server_and_bad_settings_are_clear_errors():
    with pytest.raises(errors.ModelConfigError, match="LocalServer"):
        make_chat_model(ModelSpec(model="local"))
    with pytest.raises(errors.ModelConfigError, match="max tokens"):
        make_chat_model(ModelSpec(model="local", max_tokens=0))
    with pytest.raises(errors.ModelConfigError, match="requests per second"):
        make_chat_model(ModelSpec(model="gpt-4o", base_url="http://127.0.0.1:9", requests_per_second=0))


def test_fake_model_usage_and_stop():
    """Any LangChain chat model works with invoke_text; usage comes from usage_metadata."""
    reply = AIMessage(
        "pick('b', 'r', 'l')\nextra", usage_metadata={"input_tokens": 40, "output_tokens": 9, "total_tokens": 49}
    )
    model = GenericFakeChatModel(messages=iter([reply]))
    usage = UsageTracker()
    assert (
        invoke_text(
            model, MESSAGES, stop=["\n"], grammar=call_grammar(["pick"]), usage=usage, node="act.decide", key="e"
        )
        == "pick('b', 'r', 'l')"
    )
    stats = usage.totals(node="act.decide")
    assert (stats["prompt_tokens"], stats["completion_tokens"]) == (40, 9)
    assert stats["cost"] is None  # no price for a fake model: unknown, not $0


def test_non_api_exceptions_are_not_swallowed():
    class Broken(GenericFakeChatModel):
        def _generate(self, *args, **kwargs):
            raise RuntimeError("a bug, not an API failure")

    with pytest.raises(RuntimeError, match="a bug"):
        invoke_text(Broken(messages=iter([])), MESSAGES)


def test_spec_is_json_able():
    import json
    from dataclasses import asdict

    spec = ModelSpec(model="gpt-4o", base_url="http://x/v1", requests_per_second=2.0)
    assert ModelSpec(**json.loads(json.dumps(asdict(spec)))) == spec


def test_seed_varies_per_call_key_and_repeats_on_a_rerun(stub_server):
    stub = stub_server(default="ok")
    model = openai_model(stub, seed=7)
    for key in ("r1s0", "r1s1", "r1s0"):
        invoke_text(model, MESSAGES, node="learn.revise", key=key)
    seeds = [r.body["seed"] for r in stub.chat_requests]
    assert seeds[0] != seeds[1] and seeds[0] == seeds[2]  # parallel samples differ; the same call repeats
    invoke_text(openai_model(stub, seed=8), MESSAGES, node="learn.revise", key="r1s0")
    assert stub.chat_requests[-1].body["seed"] != seeds[0]  # --seed changes every sample
    invoke_text(openai_model(stub), MESSAGES, node="learn.revise", key="r1s0")
    assert "seed" not in stub.chat_requests[-1].body  # no seed configured: none sent


def test_max_tokens_override_per_call(stub_server):
    stub = stub_server(default="ok")
    local = make_chat_model(ModelSpec(model="local", max_tokens=48), server=fake_local_server(stub))
    invoke_text(local, MESSAGES, max_tokens=2048, grammar=call_grammar({"move": 2}))
    body = stub.chat_requests[-1].body
    assert body["max_tokens"] == 2048 and "grammar" in body  # in the body for llama.cpp, grammar kept
    invoke_text(local, MESSAGES)
    assert stub.chat_requests[-1].body["max_tokens"] == 48  # the model's own cap otherwise
    invoke_text(openai_model(stub, max_tokens=64), MESSAGES, max_tokens=900)
    assert stub.chat_requests[-1].body["max_tokens"] == 900
