"""Live resources built from a ``Context``'s plain fields, once per process.

``run.py`` puts its chat models and usage tracker into the ``Context`` itself. A graph
invoked any other way (``langgraph dev`` / Studio, or ``graph.invoke(..., context=Context(model=...))``
in a user's code) gets a context of plain, serialisable fields only; the nodes then reach the models
through ``Context.agent`` and ``Context.learner``, which ask this module. Here each chat model is built
once per distinct ``ModelSpec`` (``OPENAI_API_KEY`` from the environment) and the embedded llama.cpp
server is started once per process, on first use, when a role's model is ``"local"``; it stops when the
process exits (``llm.local`` stops its servers at exit and on SIGTERM, and the server dies with its parent).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from learnact.llm.config import ModelSpec

_lock = threading.Lock()
_models: dict[tuple, Any] = {}
_servers: dict[
    str | None, Any
] = {}  # model_path -> running LocalServer (a strong reference: llm.local keeps weak ones)


def local_server(model_path: str | None = None):
    """The embedded model's server for ``model_path`` (None: the embedded GGUF), started on first use."""
    from learnact.llm.local import LocalServer

    with _lock:
        server = _servers.get(model_path)
        if server is None or not server.running:
            server = LocalServer(model_path=model_path).start()
            _servers[model_path] = server
        return server


def chat_model(spec: ModelSpec, cache_dir: str | None = None):
    """The chat model for ``spec`` (replies cached in ``cache_dir`` when given), built once per process (the same
    spec gives the same object)."""
    from learnact.llm.errors import ModelConfigError
    from learnact.llm.models import make_chat_model

    if spec.model == "local" and spec.base_url:
        raise ModelConfigError(
            f"model 'local' is the embedded model this process serves itself; for the server at {spec.base_url} "
            "give the name it serves as `model` (any name, for a server that serves one model)"
        )
    key = (*sorted(dataclasses.asdict(spec).items()), cache_dir)
    with _lock:
        model = _models.get(key)
    if model is not None:
        return model
    server = local_server(spec.model_path) if spec.model == "local" else None
    model = make_chat_model(spec, server=server, cache_dir=cache_dir)
    with _lock:
        return _models.setdefault(key, model)
