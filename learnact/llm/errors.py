"""Model errors the CLI prints as one line (``str(exc)``) instead of a traceback."""

from __future__ import annotations

import signal


class ModelError(Exception):
    """Base class: a model call or model setup failed for a reason the user can act on."""

    def __init__(self, message: str):
        # One line: server messages can carry newlines and pages of HTML.
        super().__init__(" ".join(str(message).split()))


class ModelConfigError(ModelError):
    """The model settings cannot work (unknown provider, missing package, missing key)."""


class AuthError(ModelError):
    """The server refused the credentials (HTTP 401/403). Not retried."""


class ModelNotFoundError(ModelError):
    """The server does not know the model (HTTP 404). Not retried."""


class BadRequestError(ModelError):
    """The server rejected the request itself (HTTP 400/422, e.g. the prompt exceeds the context)."""


class ServerError(ModelError):
    """The server failed, timed out, was unreachable or answered garbage (after the retries)."""


class GarbledReplyError(ServerError):
    """The server answered, but not with a chat completion (retried a couple of times)."""


class RateLimitError(ServerError):
    """Still rate limited (HTTP 429) after the retries."""


class LocalModelError(ModelError):
    """The embedded local model could not be assembled or its server could not start."""


class LocalRuntimeCrash(LocalModelError):
    """The embedded runtime died of a signal that will repeat (SIGILL: a build for another CPU). Not retried."""


SIGILL_MESSAGE = (
    "the embedded llama.cpp build uses CPU instructions this machine refuses (SIGILL); "
    "rebuild it for this machine with `make rebuild-model`"
)


def crash_reason(returncode: int) -> str | None:
    """One line for a runtime that died of a signal that will repeat, else None."""
    if returncode == -signal.SIGILL:
        return SIGILL_MESSAGE
    if returncode in (-signal.SIGBUS, -signal.SIGSEGV):
        return f"the embedded llama.cpp runtime crashed ({signal.Signals(-returncode).name}); rebuild it with `make rebuild-model`"
    return None
