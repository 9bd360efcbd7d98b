"""Chat models for the graphs and the one helper every node calls them through (``invoke_text``).

- ``"local"``: ``ChatOpenAI`` against the llama.cpp server of a ``LocalServer`` (max tokens through
  ``extra_body`` because that server ignores ``max_completion_tokens``; grammars allowed).
- ``"gpt-4o-mini"`` or any other name: ``ChatOpenAI`` (OpenAI, or the OpenAI-compatible ``base_url``).
- ``"provider:model"``: ``init_chat_model`` (the ``langchain`` package plus the provider's package).

Retries: the OpenAI client retries 408/409/429/5xx, timeouts and connection errors with exponential
backoff (0.5 s doubling, capped at 8 s, jittered; ``Retry-After`` honoured) ``max_retries`` times;
``invoke_text`` retries an empty or garbage reply as many times; 401/403/404/400 fail at once.
Failures become ``llm.errors`` exceptions with one-line messages. Given a ``RetryCounter``
(``llm.retries``), the failed attempts are counted per kind.
"""
from __future__ import annotations

import importlib.util
import json
import os
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.rate_limiters import InMemoryRateLimiter

from . import errors
from .cache import SQLiteResponseCache
from .config import ModelSpec
from .grammar import GrammarError, validate_gbnf
from .retries import RetryCounter, counting_http_client

if TYPE_CHECKING:
    from .local import LocalServer

LOCAL_BACKEND = "llama.cpp"  # model.metadata["learnact_backend"]: grammar-capable server
# init_chat_model provider -> the package that provides it
PROVIDER_PACKAGES: dict[str, str] = {
    "openai": "langchain-openai",
    "azure_openai": "langchain-openai",
    "anthropic": "langchain-anthropic",
    "google_genai": "langchain-google-genai",
    "google_vertexai": "langchain-google-vertexai",
    "bedrock": "langchain-aws",
    "bedrock_converse": "langchain-aws",
    "cohere": "langchain-cohere",
    "fireworks": "langchain-fireworks",
    "together": "langchain-together",
    "mistralai": "langchain-mistralai",
    "huggingface": "langchain-huggingface",
    "groq": "langchain-groq",
    "ollama": "langchain-ollama",
    "deepseek": "langchain-deepseek",
    "xai": "langchain-xai",
    "perplexity": "langchain-perplexity",
}


def _module_of(package: str) -> str:
    return package.replace("-", "_")


def _rate_limiter(spec: ModelSpec) -> InMemoryRateLimiter | None:
    if spec.requests_per_second is None:
        return None
    if spec.requests_per_second <= 0:
        raise errors.ModelConfigError(f"requests per second must be positive, got {spec.requests_per_second}")
    return InMemoryRateLimiter(requests_per_second=spec.requests_per_second, check_every_n_seconds=0.05, max_bucket_size=1)


def _local_identity(server: Any) -> str:
    """What makes replies of the local server reproducible: the model file's content."""
    from .local import EMBEDDED

    path = getattr(server, "resolved_model_file", None) or getattr(server, "model_path", None)
    if path is None:
        return "local"
    if not getattr(server, "model_path", None):
        return f"local:{EMBEDDED.sha256}"
    p = Path(path)
    return f"local:{p.name}:{p.stat().st_size if p.exists() else '?'}"


def make_chat_model(
    spec: ModelSpec, *, server: LocalServer | None = None, cache_dir: str | None = None, retries: RetryCounter | None = None
) -> BaseChatModel:
    """The chat model for ``spec``; raises ``ModelConfigError`` with a one-line reason when it cannot be built.
    ``retries`` counts the failed attempts of OpenAI-compatible models (the local one included) per kind."""
    if spec.max_tokens <= 0:
        raise errors.ModelConfigError(f"max tokens must be positive, got {spec.max_tokens}")
    limiter = _rate_limiter(spec)
    cache_path = Path(cache_dir) / "responses.sqlite" if cache_dir else None
    if spec.model == "local":
        if server is None:
            raise errors.ModelConfigError("model 'local' needs a running LocalServer (llm.local.LocalServer)")
        cache = SQLiteResponseCache(cache_path, namespace=_local_identity(server), mask_loopback_port=True) if cache_path else None
        return _chat_openai(
            model="local", base_url=server.base_url, api_key="sk-local", spec=spec, limiter=limiter, cache=cache,
            max_tokens_in_body=True, backend=LOCAL_BACKEND, retries=retries,
        )  # fmt: skip
    provider, _, name = spec.model.partition(":")
    if name and provider in PROVIDER_PACKAGES and provider != "openai":
        cache = SQLiteResponseCache(cache_path, namespace=spec.model) if cache_path else None
        return _init_chat_model(provider, name, spec, limiter, cache)
    model_name = name if provider == "openai" and name else spec.model
    api_key = os.environ.get("OPENAI_API_KEY")
    if not api_key:
        if not spec.base_url:
            raise errors.AuthError(f"model {spec.model!r} needs OPENAI_API_KEY (or --base-url for an OpenAI-compatible server, or --model local)")
        api_key = "sk-none"  # most self-hosted OpenAI-compatible servers accept any key
    custom_server = bool(spec.base_url) and "api.openai.com" not in spec.base_url
    cache = SQLiteResponseCache(cache_path, namespace=f"{spec.base_url or 'openai'}|{model_name}") if cache_path else None
    return _chat_openai(
        model=model_name, base_url=spec.base_url, api_key=api_key, spec=spec, limiter=limiter, cache=cache,
        max_tokens_in_body=custom_server, backend="openai-compatible" if custom_server else "openai", retries=retries,
    )  # fmt: skip


def _chat_openai(
    *, model: str, base_url: str | None, api_key: str, spec: ModelSpec, limiter, cache, max_tokens_in_body: bool, backend: str,
    retries: RetryCounter | None = None,
) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    token_limit: dict[str, Any] = {"extra_body": {"max_tokens": spec.max_tokens}} if max_tokens_in_body else {"max_tokens": spec.max_tokens}
    if retries is not None:
        token_limit["http_client"] = counting_http_client(retries)
    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=api_key,
        temperature=spec.temperature,
        timeout=spec.timeout_s,
        max_retries=spec.max_retries,
        stream_usage=True,
        rate_limiter=limiter,
        cache=cache,
        metadata={"learnact_backend": backend},
        seed=spec.seed,
        **token_limit,
    )


def _init_chat_model(provider: str, name: str, spec: ModelSpec, limiter, cache) -> BaseChatModel:
    package = PROVIDER_PACKAGES[provider]
    missing = [p for p in ("langchain", package) if importlib.util.find_spec(_module_of(p)) is None]
    if missing:
        raise errors.ModelConfigError(f"model {spec.model!r} needs `pip install {' '.join(missing)}`")
    from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]

    try:
        return init_chat_model(
            name, model_provider=provider, temperature=spec.temperature, max_tokens=spec.max_tokens,
            timeout=spec.timeout_s, max_retries=spec.max_retries, rate_limiter=limiter, cache=cache,
            **({"base_url": spec.base_url} if spec.base_url else {}),
        )  # fmt: skip
    except (ImportError, ValueError) as exc:
        raise errors.ModelConfigError(f"model {spec.model!r}: {exc}") from exc


# -- calling ---------------------------------------------------------------------------------------


def model_label(model: BaseChatModel) -> str:
    """The name prices are looked up by."""
    for attr in ("model_name", "model", "model_id"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def call_seed(model: BaseChatModel, node: str | None, key: str | None) -> int | None:
    """The model's seed varied by ``node`` and ``key``: the K revision samples of a round (keys r1s0,
    r1s1, ...) differ, and the same call in a re-run gets the same seed. None when the model has no seed."""
    base = getattr(model, "seed", None)
    if not isinstance(base, int):
        return None
    return (base + zlib.crc32(f"{node}|{key}".encode())) % 2**31


def with_seed_offset(model: BaseChatModel, offset: int) -> BaseChatModel:
    """A copy of ``model`` whose seed is shifted by ``offset`` (run k of an evaluation learns with seed + k);
    ``model`` itself when the offset is 0 or it has no seed."""
    base = getattr(model, "seed", None)
    if not offset or not isinstance(base, int):
        return model
    return model.model_copy(update={"seed": base + offset})


def is_local(model: BaseChatModel) -> bool:
    return (getattr(model, "metadata", None) or {}).get("learnact_backend") == LOCAL_BACKEND


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content if isinstance(b, (str, dict)))
    return str(content)


GARBAGE_RETRIES = 4  # when the model does not say its max_retries


LOCAL_RESTARTS = 2  # restarts of a dead embedded server within one call


def _revive_local(model: BaseChatModel, exc: Exception) -> bool:
    """For the embedded model, after a refused connection (not a timeout: a slow server is not dead):
    restart its server if the process died (``llm.local.revive``); True when it answers again."""
    try:
        import openai
    except ImportError:  # pragma: no cover - langchain-openai depends on it
        return False
    if not is_local(model) or not isinstance(exc, openai.APIConnectionError) or isinstance(exc, openai.APITimeoutError):
        return False
    from .local import revive

    try:
        return revive(getattr(model, "openai_api_base", None))
    except errors.LocalRuntimeCrash:
        raise  # the runtime will crash again: one line saying why, no retry
    except errors.LocalModelError:
        return False


def garbled_kind(exc: BaseException) -> str:
    """``empty`` for a reply with no body, ``garbage`` for any other body that is not a chat completion."""
    while exc is not None:
        if isinstance(exc, json.JSONDecodeError):
            return "empty" if not exc.doc.strip() else "garbage"
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return "garbage"


def invoke_text(
    model: BaseChatModel,
    messages: Sequence[BaseMessage] | Sequence[tuple[str, str]] | str,
    *,
    stop: list[str] | None = None,
    grammar: str | None = None,
    usage: Any = None,
    node: str | None = None,
    key: str | None = None,
    tags: list[str] | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> str:
    """Call ``model`` once and return the reply text (cut at the first ``stop`` sequence).

    ``grammar`` (GBNF) constrains decoding on the local llama.cpp server and is ignored by other
    models. ``max_tokens`` overrides the model's reply cap for this call. ``usage`` (a ``UsageTracker``) records tokens and cost under ``node`` and ``key``.
    Raises ``llm.errors.ModelError`` subclasses for API failures.
    """
    kwargs: dict[str, Any] = {}
    if grammar:
        try:  # checked for every model so a bad grammar shows up in tests with fake models too
            validate_gbnf(grammar)
        except GrammarError as exc:
            raise errors.BadRequestError(f"not sent to {_where(model)}: {exc}") from exc
    if (seed := call_seed(model, node, key)) is not None:
        kwargs["seed"] = seed
    if grammar and is_local(model):
        kwargs["extra_body"] = {**(getattr(model, "extra_body", None) or {}), "grammar": grammar}
    if temperature is not None:  # this call only (e.g. a resample after a repeated refused call)
        kwargs["temperature"] = temperature
    if max_tokens is not None:
        body = kwargs.get("extra_body") or getattr(model, "extra_body", None) or {}
        if "max_tokens" in body:  # OpenAI-compatible servers take the cap in the body (llama.cpp ignores the field)
            kwargs["extra_body"] = {**body, "max_tokens": max_tokens}
        else:
            kwargs["max_tokens"] = max_tokens
    config: dict[str, Any] = {"tags": list(tags or []) + ([node] if node else []), "metadata": {"node": node, "key": key}}
    if node:
        config["run_name"] = node
    t0 = time.monotonic()
    message = _invoke_retrying(model, messages, stop, config, kwargs, counter=getattr(usage, "retries", None))
    seconds = time.monotonic() - t0
    text = _text_of(message.content)
    for s in stop or []:  # providers and fakes that ignore stop sequences
        if s and s in text:
            text = text[: text.index(s)]
    if usage is not None:
        meta = getattr(message, "usage_metadata", None) or {}
        usage.add(
            model_label(model), meta.get("input_tokens", 0), meta.get("output_tokens", 0), node=node, key=key,
            cache_hit=bool(message.response_metadata.get("cache_hit")), seconds=seconds,
        )  # fmt: skip
    return text


def _invoke_retrying(
    model: BaseChatModel, messages: Any, stop: list[str] | None, config: dict[str, Any], kwargs: dict[str, Any], *, counter: Any
) -> Any:
    """``model.invoke`` with the retries the client does not do: a garbled body, a dead embedded server."""
    garbage_retries = getattr(model, "max_retries", None)
    garbage_retries = garbage_retries if isinstance(garbage_retries, int) else GARBAGE_RETRIES
    attempt = restarts = 0
    while True:
        try:
            return model.invoke(messages, stop=stop, config=config, **kwargs)
        except errors.ModelError:
            raise
        except Exception as exc:
            mapped = map_error(exc, model)
            if mapped is None:
                raise
            # The client retries HTTP errors itself but not a garbled body (a proxy hiccup, a
            # server restarting): retry that as often, backing off the same way.
            if isinstance(mapped, errors.GarbledReplyError):
                if isinstance(counter, RetryCounter):
                    counter.add(garbled_kind(exc))
                if attempt < garbage_retries:
                    time.sleep(min(0.5 * 2**attempt, 8.0))
                    attempt += 1
                    continue
            # The embedded server's process died (killed, out of memory): start it again and retry.
            elif restarts < LOCAL_RESTARTS and _revive_local(model, exc):
                restarts += 1
                continue
            raise mapped from exc


# -- errors ----------------------------------------------------------------------------------------


def _short(text: Any, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(model: BaseChatModel) -> str:
    base = getattr(model, "openai_api_base", None) or getattr(model, "base_url", None)
    return f"{model_label(model)!r} at {base}" if base else repr(model_label(model))


def _server_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return _short(inner["message"])
        if isinstance(inner, str):
            return _short(inner)
    return _short(getattr(exc, "message", None) or exc)


def map_error(exc: Exception, model: BaseChatModel) -> errors.ModelError | None:
    """The ``ModelError`` for an exception raised by a model call, or None when it is not an API failure."""
    where = _where(model)
    retries = getattr(model, "max_retries", None)
    after = f" after {retries} retries" if retries else ""
    try:
        import openai
    except ImportError:  # pragma: no cover - langchain-openai depends on it
        openai = None  # type: ignore[assignment]
    if openai is not None:
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return errors.AuthError(f"model {where}: authentication refused (HTTP {exc.status_code}): {_server_message(exc)}; check OPENAI_API_KEY")
        if isinstance(exc, openai.NotFoundError):
            return errors.ModelNotFoundError(f"model {where}: not found (HTTP 404): {_server_message(exc)}")
        if isinstance(exc, openai.RateLimitError):
            return errors.RateLimitError(f"model {where}: still rate limited (HTTP 429){after}: {_server_message(exc)}")
        if isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
            return errors.BadRequestError(f"model {where}: request rejected (HTTP {exc.status_code}): {_server_message(exc)}")
        if isinstance(exc, openai.APITimeoutError):
            return errors.ServerError(f"model {where}: no reply within {getattr(model, 'request_timeout', '?')} s{after}")
        if isinstance(exc, openai.APIConnectionError):
            return errors.ServerError(f"model {where}: cannot connect{after}: {_short(exc.__cause__ or exc)}")
        if isinstance(exc, openai.APIStatusError):
            return errors.ServerError(f"model {where}: server error (HTTP {exc.status_code}){after}: {_server_message(exc)}")
        if isinstance(exc, openai.APIResponseValidationError):
            return errors.GarbledReplyError(f"model {where}: the reply is not a valid chat completion: {_server_message(exc)}")
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403):
        return errors.AuthError(f"model {where}: authentication refused (HTTP {status}): {_short(exc)}")
    if status == 404:
        return errors.ModelNotFoundError(f"model {where}: not found (HTTP 404): {_short(exc)}")
    if isinstance(status, int) and status >= 500:
        return errors.ServerError(f"model {where}: server error (HTTP {status}): {_short(exc)}")
    if isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)) and _looks_like_reply_parsing(exc):
        return errors.GarbledReplyError(f"model {where}: the reply is not a valid chat completion ({type(exc).__name__}: {_short(exc)})")
    return None


def _looks_like_reply_parsing(exc: Exception) -> bool:
    """A parsing failure inside the client libraries (not a bug in our code) means a garbage reply."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename if tb is not None else ""
    return any(part in filename for part in ("openai", "langchain_openai", "json", "httpx", "pydantic"))
