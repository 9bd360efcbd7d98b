"""Settings of one chat model role (agent or learner); plain data so a run can save and reload them."""

from __future__ import annotations

from dataclasses import dataclass

from learnact.settings.defaults import DEFAULTS


@dataclass
class ModelSpec:
    """What ``llm.models.make_chat_model`` builds.

    ``model`` is ``"local"`` (the embedded GGUF served by llama.cpp), an OpenAI-style name such as
    ``"gpt-4o-mini"`` (OpenAI, or any OpenAI-compatible server at ``base_url``), or
    ``"provider:model"`` (e.g. ``"anthropic:claude-3-5-haiku-latest"``) through ``init_chat_model``.
    """

    model: str = "local"
    base_url: str | None = None
    temperature: float = 0.0
    max_tokens: int = 512
    model_path: str | None = None  # a GGUF that replaces the embedded one (model == "local")
    timeout_s: float = DEFAULTS.timeout
    max_retries: int = DEFAULTS.max_retries
    requests_per_second: float | None = None
    # Sampling seed (OpenAI and OpenAI-compatible servers, llama.cpp included); each call varies it by
    # node and key, so parallel samples differ while a re-run repeats them. None: the server's choice.
    seed: int | None = None
