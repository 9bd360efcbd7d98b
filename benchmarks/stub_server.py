"""A small scripted OpenAI-compatible chat server on 127.0.0.1, in a background thread, for tests and
benchmarks (``benchmarks/chaos.py``, ``benchmarks/bench_load.py``, ``benchmarks/bench_scale.py``); not part of
the installed package.

Replies follow a script (one entry per request, then ``respond(body)`` or ``default``): a text, or a
``Reply`` with a status code, headers, usage or a raw (garbage) body. Every request is recorded with
its JSON body (``record=False`` keeps only a count, for long benchmarks).

``Faults`` make it misbehave at a given rate, each chat request drawing from a seeded generator:
429 with ``Retry-After``, 500, a connection reset (RST, no reply), a timeout (no reply before the
client gives up), a slow reply (late but complete), an empty body and a garbage body. A faulty
request does not consume the script, so a scripted or pure ``respond`` run gives the same replies
with or without faults; ``injected`` counts what was done, per kind.

``python benchmarks/stub_server.py --port P --reply TEXT`` serves one fixed reply from a process of its own.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = "ok"
    status: int = 200
    prompt_tokens: int = 11
    completion_tokens: int = 3
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None  # sent as is instead of a chat completion (garbage bodies, error bodies)
    delay_s: float = 0.0


def error_reply(status: int, message: str, **headers: str) -> Reply:
    kind = {401: "invalid_request_error", 404: "invalid_request_error", 429: "rate_limit_error"}.get(
        status, "server_error"
    )
    code = {401: "invalid_api_key", 404: "model_not_found"}.get(status)
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return Reply(status=status, raw=json.dumps(body), headers=dict(headers))


FAULT_KINDS = ("rate_limit", "server_error", "reset", "timeout", "slow", "empty", "garbage")


@dataclass
class Faults:
    """What goes wrong, how often: each chat request is faulty with probability ``rate``, its kind
    drawn uniformly from ``kinds``. ``timeout_s`` must exceed the client's request timeout."""

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after_s: int = 1
    timeout_s: float = 3.0
    slow_s: float = 1.0

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not 0.0 <= self.rate <= 1.0:
            raise ValueError(
                f"faults: rate must be in [0, 1] and kinds among {', '.join(FAULT_KINDS)} (got {self.rate}, {sorted(unknown)})"
            )


@dataclass
class Request:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]  # names lower-cased
    at: float


class StubOpenAI:
    def __init__(
        self,
        script: list[Reply | str] | None = None,
        default: Reply | str = "ok",
        respond: Callable[[dict], Reply | str] | None = None,
        *,
        faults: Faults | None = None,
        record: bool = True,
        port: int = 0,
    ):
        self.script = list(script or [])
        self.default = default
        self.respond = respond
        self.faults = faults or Faults()
        self.record = record
        self.requests: list[Request] = []
        self.chat_count = 0  # chat requests received, faulty ones included
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="stub-openai")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> StubOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StubOpenAI:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _fault(self) -> str | None:
        with self._lock:
            self.chat_count += 1
            if self.faults.rate <= 0 or self._rng.random() >= self.faults.rate:
                return None
            kind = self._rng.choice(self.faults.kinds)
            self.injected[kind] += 1
            return kind

    def _next_reply(self, body: dict) -> Reply:
        with self._lock:
            item = self.script.pop(0) if self.script else (self.respond(body) if self.respond else self.default)
        return Reply(text=item) if isinstance(item, str) else item

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"stub": self})


class _Handler(BaseHTTPRequestHandler):
    """Answers as an OpenAI-compatible server would, from ``stub`` (a subclass per server sets it)."""

    stub: StubOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(
        self, status: int, body: str, headers: dict[str, str] | None = None, content_type: str = "application/json"
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(
                200,
                json.dumps({"object": "list", "data": [{"id": "stub-model", "object": "model", "owned_by": "stub"}]}),
            )
        else:
            self._send(404, json.dumps({"error": {"message": "no such path"}}))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_unparsed": raw}
        if self.stub.record:
            with self.stub._lock:
                self.stub.requests.append(
                    Request(self.path, body, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                )
        fault = self.stub._fault() if self.path.endswith("/chat/completions") else None
        if fault is not None and self._misbehave(fault):
            return
        reply = self.stub._next_reply(body)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.raw is not None:
            self._send(reply.status, reply.raw, reply.headers)
        elif body.get("stream"):
            self._stream(body, reply)
        else:
            self._send(reply.status, json.dumps(completion(body, reply)), reply.headers)

    def _misbehave(self, kind: str) -> bool:
        """Act out fault ``kind``; True when the request is answered (or dropped) by it."""
        faults = self.stub.faults
        if kind == "rate_limit":
            self._send(
                429, error_reply(429, "rate limited (injected)").raw or "", {"Retry-After": str(faults.retry_after_s)}
            )
        elif kind == "server_error":
            self._send(500, error_reply(500, "internal error (injected)").raw or "")
        elif kind == "reset":  # close with RST: the client sees a reset connection and no reply
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif kind == "timeout":  # nothing until the client has given up, then drop the connection
            time.sleep(faults.timeout_s)
            self.close_connection = True
        elif kind == "empty":
            self._send(200, "")
        elif kind == "garbage":
            self._send(200, "<html><body>502 Bad Gateway \x00\x01 {not json", content_type="text/html")
        else:  # slow: a late but complete reply
            time.sleep(faults.slow_s)
            return False
        return True

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # the client gave up (timeout) or the connection was reset on purpose
            self.close_connection = True

    def _stream(self, body: dict, reply: Reply) -> None:
        chunks = [
            chunk(body, {"role": "assistant", "content": ""}),
            *(chunk(body, {"content": w}) for w in _pieces(reply.text)),
            chunk(body, {}, "stop"),
        ]
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**chunk(body, {}), "choices": [], "usage": usage(reply)})
        payload = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        self._send(reply.status, payload, reply.headers, content_type="text/event-stream")


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def usage(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def completion(body: dict, reply: Reply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "stub-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(reply),
    }


def chunk(body: dict, delta: dict, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "stub-model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def main(argv: list[str] | None = None) -> None:
    """Serve one fixed reply on ``--port`` until killed (a stand-in for a model server process)."""
    p = argparse.ArgumentParser(description="a scripted OpenAI-compatible server on 127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--reply", default="ok")
    args = p.parse_args(argv)
    stub = StubOpenAI(default=args.reply, record=False, port=args.port).start()
    print(stub.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stub.stop()


if __name__ == "__main__":
    main()
