"""Failed model requests, counted per kind, for usage.json and the report.

The OpenAI client retries 429, 5xx, timeouts and broken connections itself, out of sight: a run
that "worked" may have waited out hundreds of them. ``CountingTransport`` sits under the client
(the ``httpx`` transport of its ``http_client``) and sees every attempt; ``llm.models.invoke_text``
adds the empty and garbage replies it retries itself. A count is a failed attempt: it was retried
unless the call then failed for good (those calls end the run with a one-line error).
"""

from __future__ import annotations

import functools
import threading
from collections import Counter

KINDS = ("rate_limit", "server_error", "other_status", "timeout", "connection", "empty", "garbage")
RETRIED_STATUSES = (408, 409, 429)  # and every 5xx: what the OpenAI client retries


class RetryCounter:
    """Thread-safe counts of failed attempts per kind (``KINDS``)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self._counts[kind] += n

    def counts(self) -> dict[str, int]:
        """Every kind that happened, in ``KINDS`` order (an empty dict when nothing failed)."""
        with self._lock:
            return {k: self._counts[k] for k in (*KINDS, *sorted(set(self._counts) - set(KINDS))) if self._counts[k]}

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


def status_kind(status: int) -> str | None:
    if status == 429:
        return "rate_limit"
    if status >= 500:
        return "server_error"
    if status in RETRIED_STATUSES:
        return "other_status"
    return None


def _client_httpx():
    """The ``httpx`` the installed OpenAI client is built on (openai 3 ships its own fork, ``httpx2``)."""
    from openai import _base_client

    return getattr(_base_client, "httpx2", None) or _base_client.httpx


@functools.cache
def _transport_class(httpx) -> type:
    class CountingTransport(httpx.HTTPTransport):
        """An ``httpx`` transport that counts, per kind, the attempts that fail in a way the client retries."""

        def __init__(self, counter: RetryCounter, **kwargs) -> None:
            super().__init__(**kwargs)
            self.counter = counter

        def handle_request(self, request):
            try:
                response = super().handle_request(request)
            except httpx.TimeoutException:
                self.counter.add("timeout")
                raise
            except httpx.TransportError:  # refused, reset, closed without a reply
                self.counter.add("connection")
                raise
            kind = status_kind(response.status_code)
            if kind is not None:
                self.counter.add(kind)
            return response

    return CountingTransport


def counting_transport(counter: RetryCounter, **kwargs):
    """A transport of the OpenAI client's ``httpx`` that counts failed attempts into ``counter``."""
    return _transport_class(_client_httpx())(counter, **kwargs)


def counting_http_client(counter: RetryCounter):
    """The OpenAI client's default ``httpx`` client (its timeouts and connection limits), counting failures."""
    from openai import DefaultHttpxClient
    from openai._constants import DEFAULT_CONNECTION_LIMITS

    return DefaultHttpxClient(transport=counting_transport(counter, limits=DEFAULT_CONNECTION_LIMITS))
