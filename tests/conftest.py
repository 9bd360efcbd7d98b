"""Shared pytest fixtures: a scripted OpenAI-compatible stub server and the real local model server."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# tests/fakes.py and tests/conftest_helpers.py, and every folder of test modules (tests/unit/<layer>/, tests/e2e/),
# which import each other by name (``from test_learn_graph import learner``); and the checkout, for ``benchmarks``
# (the scripted stub server and model, not installed with the package).
sys.path[:0] = [
    str(TESTS),
    str(TESTS.parent),
    *sorted({str(p.parent) for p in TESTS.rglob("test_*.py")} - {str(TESTS)}),
]

from benchmarks.stub_server import Reply, StubOpenAI  # noqa: E402

SKIP_LOCAL_ENV = "LEARNACT_SKIP_LOCAL_MODEL"


@pytest.fixture
def stub_server() -> Iterator[Callable[..., StubOpenAI]]:
    """Factory: ``stub_server(script=[...], default=..., respond=...)`` returns a started ``StubOpenAI``."""
    started: list[StubOpenAI] = []

    def make(script: list[Reply | str] | None = None, **kwargs) -> StubOpenAI:
        stub = StubOpenAI(script, **kwargs).start()
        started.append(stub)
        return stub

    yield make
    for stub in started:
        stub.stop()


@pytest.fixture(scope="session")
def local_llm():
    """The real embedded model served once for the whole test session (a ``llm.local.LocalServer``).

    Missing llama-cpp-python or model packages are a failure, not a skip: the local model is part of
    the product. ``LEARNACT_SKIP_LOCAL_MODEL=1`` skips these tests on purpose (e.g. a quick run).
    """
    if os.environ.get(SKIP_LOCAL_ENV) == "1":
        pytest.skip(f"{SKIP_LOCAL_ENV}=1: tests with the real local model are skipped")
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail(
            f"llama-cpp-python is not installed: `pip install -e .[local]` (or set {SKIP_LOCAL_ENV}=1 to skip local-model tests)",
            pytrace=False,
        )
    from learnact.llm.errors import LocalModelError
    from learnact.llm.local import LocalServer

    server = LocalServer(model_path=os.environ.get("LEARNACT_TEST_MODEL_PATH") or None)
    try:
        server.start()
    except LocalModelError as exc:
        pytest.fail(
            f"the local model server did not start: {exc} (set {SKIP_LOCAL_ENV}=1 to skip local-model tests)",
            pytrace=False,
        )
    yield server
    server.stop()
