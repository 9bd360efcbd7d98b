"""LocalServer: assembling the embedded GGUF (on small fake parts) and the real server's life cycle."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest_helpers import ROOT as REPO

from learnact.llm.config import ModelSpec
from learnact.llm.errors import LocalModelError
from learnact.llm.local import EmbeddedModel, LocalServer, assemble_parts, ensure_model_file, find_part_files
from learnact.llm.models import invoke_text, make_chat_model
from learnact.llm.usage import UsageTracker


def fake_parts(tmp_path: Path, contents: list[bytes]) -> list[Path]:
    paths = []
    for n, data in enumerate(contents, 1):
        path = tmp_path / f"part{n:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


CONTENTS = [b"GGUF" + b"a" * 1000, b"b" * 2000, b"c" * 7]
WHOLE = b"".join(CONTENTS)
SHA = hashlib.sha256(WHOLE).hexdigest()


def test_assemble_concatenates_in_order_and_verifies(tmp_path):
    parts = fake_parts(tmp_path, CONTENTS)
    target = assemble_parts(parts, tmp_path / "cache" / "model.gguf", size=len(WHOLE), sha256=SHA)
    assert target.read_bytes() == WHOLE
    assert (tmp_path / "cache" / "model.gguf.verified.json").is_file()


def test_verified_file_is_not_reassembled_or_rehashed(tmp_path, monkeypatch):
    parts = fake_parts(tmp_path, CONTENTS)
    target = assemble_parts(parts, tmp_path / "model.gguf", size=len(WHOLE), sha256=SHA)
    import learnact.llm.model_file as local

    def no_hashing(*args, **kwargs):
        raise AssertionError("re-hashed a verified file")

    monkeypatch.setattr(local, "_hash_file", no_hashing)
    monkeypatch.setattr(local.hashlib, "sha256", no_hashing)
    gone = [tmp_path / "gone.bin"]  # the parts are not even read
    assert assemble_parts(gone, target, size=len(WHOLE), sha256=SHA) == target


def test_changed_file_is_rebuilt(tmp_path):
    parts = fake_parts(tmp_path, CONTENTS)
    target = assemble_parts(parts, tmp_path / "model.gguf", size=len(WHOLE), sha256=SHA)
    target.write_bytes(b"x" * len(WHOLE))  # same size, other content: the marker no longer matches
    assemble_parts(parts, target, size=len(WHOLE), sha256=SHA)
    assert target.read_bytes() == WHOLE


def test_wrong_hash_leaves_nothing_behind(tmp_path):
    parts = fake_parts(tmp_path, CONTENTS)
    (tmp_path / "cache").mkdir()
    with pytest.raises(LocalModelError, match="sha256"):
        assemble_parts(parts, tmp_path / "cache" / "model.gguf", size=len(WHOLE), sha256="0" * 64)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["model.gguf.lock"]


def test_wrong_total_size_is_reported(tmp_path):
    parts = fake_parts(tmp_path, CONTENTS[:2])
    with pytest.raises(LocalModelError, match="expected 3,011"):
        assemble_parts(parts, tmp_path / "model.gguf", size=len(WHOLE), sha256=SHA)


def make_fake_packages(root: Path, prefix: str, contents: list[bytes]) -> None:
    for n, data in enumerate(contents, 1):
        pkg = root / f"{prefix}{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(data)


def test_ensure_model_file_finds_installed_parts(tmp_path, monkeypatch):
    make_fake_packages(tmp_path / "site", "fakemodel_part", CONTENTS)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = EmbeddedModel(file_name="fake.gguf", package_prefix="fakemodel_part", parts=3, size=len(WHOLE), sha256=SHA)
    monkeypatch.setenv("LEARNACT_MODEL_CACHE", str(tmp_path / "models"))
    assert ensure_model_file(model=model) == tmp_path / "models" / "fake.gguf"
    assert (tmp_path / "models" / "fake.gguf").read_bytes() == WHOLE


def test_missing_packages_name_the_install_command(tmp_path, monkeypatch):
    make_fake_packages(tmp_path / "site", "halfmodel_part", CONTENTS[:1])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = EmbeddedModel(package_prefix="halfmodel_part", parts=3)
    with pytest.raises(LocalModelError, match=r"halfmodel_part2, halfmodel_part3\).*pip install -e \.\[local\]"):
        find_part_files(model)


def test_bad_model_path_and_ram_cache_are_refused(tmp_path):
    with pytest.raises(LocalModelError, match="no such file"):
        LocalServer(model_path=str(tmp_path / "nope.gguf")).start()
    with pytest.raises(LocalModelError, match="--cache"):
        LocalServer(extra_args=["--cache", "true"])


def test_server_that_cannot_load_the_model_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf file" * 100)
    server = LocalServer(model_path=str(junk), startup_timeout_s=60)
    with pytest.raises(LocalModelError, match="exited with code"):
        server.start()
    assert not server.running


# -- the real server ------------------------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its process-table entry is left


def wait_dead(pid: int, timeout_s: float = 15) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_real_server_replies_with_usage(local_llm):
    model = make_chat_model(ModelSpec(model="local", max_tokens=16), server=local_llm)
    usage = UsageTracker()
    reply = invoke_text(model, [("user", "Reply with the single word: ready")], usage=usage, node="ping", key="t")
    assert reply.strip()
    stats = usage.totals(node="ping")
    assert stats["prompt_tokens"] > 5 and stats["completion_tokens"] >= 1 and stats["cost"] == 0.0
    assert 100 < local_llm.rss_mb() < 8000  # the model is loaded, and no RAM cache has run away


def test_real_server_stops_with_its_context(local_llm):  # local_llm: make sure the model is assembled
    with LocalServer() as server:
        pid = server.pid
        assert pid is not None and alive(pid)
        assert server.base_url.startswith("http://127.0.0.1:")
    assert wait_dead(pid) and server.rss_mb() == 0.0


CHILD = textwrap.dedent(
    """
    import signal, sys, time
    # A shell starts background jobs (`make test &`, nohup) with SIGINT ignored, and Python keeps it
    # ignored: Ctrl-C is then a no-op. The test is about a program that does get Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from learnact.llm.local import LocalServer
    with LocalServer() as server:
        print(server.pid, flush=True)
        time.sleep(600)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill-9", "term", "ctrl-c"])
def test_server_dies_with_its_parent(local_llm, sig):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    server_pid = None
    try:
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"the child did not start a server: {line!r}"
        server_pid = int(line)
        assert alive(server_pid)
        parent.send_signal(sig)
        try:
            parent.wait(30)
        except subprocess.TimeoutExpired:  # say where the parent was stuck
            parent.send_signal(signal.SIGABRT)  # faulthandler dumps every thread's stack to stderr
            _, err = parent.communicate(timeout=10)
            pytest.fail(f"the parent did not exit within 30 s of {sig.name}; its stacks:\n{err[-4000:]}")
        assert wait_dead(server_pid), f"server {server_pid} outlived its parent after {sig.name}"
    finally:
        if parent.poll() is None:
            parent.kill()
        if server_pid is not None and alive(server_pid):  # the test failed: do not leave an orphan behind
            os.kill(server_pid, signal.SIGKILL)


# -- a runtime built for instructions this CPU refuses ---------------------------------------------

SIGILL_SERVER = textwrap.dedent(
    """
    # A model server that dies of SIGILL on its first matrix product, as a llama.cpp built for another CPU does:
    # it answers /models (loading works), then dies on the request named by argv[2] ("any" or "chat").
    import http.server, json, os, signal, sys
    port, die_on = int(sys.argv[1]), sys.argv[2]
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def _send(self, body):
            data = json.dumps(body).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
        def do_GET(self): self._send({"object": "list", "data": [{"id": "local"}]})
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if die_on == "any" or self.path.endswith("/chat/completions"):
                print("starting a matrix product", flush=True)
                os.kill(os.getpid(), signal.SIGILL)
            self._send({"choices": [{"text": "x", "index": 0, "finish_reason": "length"}]})
    http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
    """
)


class SigillServer(LocalServer):
    def __init__(self, script: Path, die_on: str, **kwargs):
        super().__init__(**kwargs)
        self.script, self.die_on, self.starts = script, die_on, 0

    def resolve_model_path(self) -> Path:
        return self.script

    def command(self, model_file: Path, port: int) -> list[str]:
        self.starts += 1
        return [sys.executable, str(self.script), str(port), self.die_on]


@pytest.fixture
def sigill_script(tmp_path, monkeypatch) -> Path:
    import types

    monkeypatch.setitem(sys.modules, "llama_cpp", sys.modules.get("llama_cpp") or types.ModuleType("llama_cpp"))
    script = tmp_path / "sigill_server.py"
    script.write_text(SIGILL_SERVER)
    return script


def test_a_runtime_that_dies_of_sigill_at_start_is_one_line_and_not_restarted(sigill_script):
    from learnact.llm.errors import LocalRuntimeCrash
    from learnact.llm.runtime_build import SIGILL_MESSAGE

    server = SigillServer(sigill_script, "any", startup_timeout_s=60)
    with pytest.raises(LocalRuntimeCrash) as caught:
        server.start()
    assert str(caught.value) == SIGILL_MESSAGE and server.starts == 1 and not server.running


def test_a_runtime_that_dies_of_sigill_mid_run_is_not_revived(sigill_script):
    from learnact.llm.errors import LocalRuntimeCrash
    from learnact.llm.runtime_build import SIGILL_MESSAGE

    server = SigillServer(sigill_script, "chat", startup_timeout_s=60).start()
    try:
        model = make_chat_model(ModelSpec(model="local", max_retries=1, timeout_s=10), server=server)
        with pytest.raises(LocalRuntimeCrash) as caught:
            invoke_text(model, "hi", usage=UsageTracker())
        assert str(caught.value) == SIGILL_MESSAGE and server.starts == 1  # said why; no restart loop
    finally:
        server.stop()
