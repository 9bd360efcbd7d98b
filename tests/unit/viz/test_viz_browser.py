"""The report in a real headless browser (Debian's chromium), driven over the DevTools protocol:
it loads with no console error or uncaught exception, the plots are laid out with a real size,
and a screenshot is kept in test-artifacts/report.png.

Chromium is installed by `make test`. Without it this test fails (set LEARNACT_SKIP_BROWSER=1 to skip).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest_helpers import ROOT
from test_viz_report import make_eval_run, make_learn_run

from learnact.viz.report import write_report

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
]


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("LEARNACT_SKIP_BROWSER") == "1":
        pytest.skip("no chromium and LEARNACT_SKIP_BROWSER=1")
    pytest.fail(
        "chromium is not installed: run `make test` (it installs it) or `sudo apt-get install -y chromium`; "
        "set LEARNACT_SKIP_BROWSER=1 to skip the browser test"
    )


class Browser:
    """A headless chromium with one page, spoken to over its DevTools websocket."""

    def __init__(self, user_dir: Path):
        self.proc = subprocess.Popen(
            [chromium_binary(), *CHROMIUM_FLAGS, f"--user-data-dir={user_dir}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = user_dir / "DevToolsActivePort"  # chromium writes the port it picked here
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                pytest.fail("chromium did not start (no DevToolsActivePort within 60 s)")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            pages = [t for t in json.load(resp) if t.get("type") == "page"]
        self.ws_url = pages[0]["webSocketDebuggerUrl"]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@contextlib.asynccontextmanager
async def cdp_session(ws_url: str, on_event=lambda msg: None):
    """A Chrome DevTools connection: yields ``(call, loaded)``, ``call(method, **params)`` awaiting the
    result and ``loaded`` set once the page has loaded; ``on_event(msg)`` sees every other event."""
    import websockets

    ids = itertools.count(1)
    async with websockets.connect(ws_url, max_size=64 * 2**20) as ws:
        pending: dict[int, asyncio.Future] = {}
        loaded = asyncio.Event()

        async def reader() -> None:
            async for raw in ws:
                msg = json.loads(raw)
                if "id" in msg and msg["id"] in pending:
                    pending.pop(msg["id"]).set_result(msg)
                elif msg.get("method") == "Page.loadEventFired":
                    loaded.set()
                else:
                    on_event(msg)

        async def call(method: str, **params) -> dict:
            n = next(ids)
            pending[n] = asyncio.get_running_loop().create_future()
            await ws.send(json.dumps({"id": n, "method": method, "params": params}))
            reply = await asyncio.wait_for(pending[n], 60)
            if "error" in reply:
                raise AssertionError(f"{method}: {reply['error']}")
            return reply.get("result", {})

        task = asyncio.create_task(reader())
        try:
            yield call, loaded
        finally:
            task.cancel()


async def inspect_page(ws_url: str, url: str, screenshot: Path) -> dict:
    problems: list[str] = []

    def on_event(msg: dict) -> None:
        if msg.get("method") == "Runtime.exceptionThrown":
            problems.append("exception: " + json.dumps(msg["params"]["exceptionDetails"])[:500])
        elif msg.get("method") == "Runtime.consoleAPICalled" and msg["params"]["type"] in ("error", "assert"):
            problems.append("console: " + json.dumps(msg["params"]["args"])[:500])
        elif msg.get("method") == "Log.entryAdded" and msg["params"]["entry"]["level"] == "error":
            problems.append("log: " + msg["params"]["entry"].get("text", "")[:500])

    async with cdp_session(ws_url, on_event) as (call, loaded):
        for domain in ("Page", "Runtime", "Log"):
            await call(f"{domain}.enable")
        await call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        await call("Page.navigate", url=url)
        await asyncio.wait_for(loaded.wait(), 60)
        probe = """JSON.stringify({
            ready: document.documentElement.getAttribute('data-report-ready'),
            plots: Array.from(document.querySelectorAll('svg.plot')).map(s => {
                const r = s.getBoundingClientRect();
                return {id: s.id, w: r.width, h: r.height, marks: s.querySelectorAll('circle, polygon, rect.bar').length};
            }),
            height: document.documentElement.scrollHeight})"""
        result = await call("Runtime.evaluate", expression=probe, returnByValue=True)
        facts = json.loads(result["result"]["value"])
        shot = await call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": 1280, "height": min(facts["height"], 2400), "scale": 1},
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        await asyncio.sleep(0.2)  # late console messages
    facts["problems"] = problems
    return facts


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path / "chromium-profile")
    yield b
    b.close()


def test_learn_report_renders_in_chromium_without_errors(tmp_path, browser):
    run = make_learn_run(tmp_path)
    from learnact.viz.draw import back_edges  # noqa: F401 - the graph section is built for real when the graphs import

    report = write_report(run)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    facts = asyncio.run(inspect_page(browser.ws_url, report.as_uri(), shot))
    assert facts["problems"] == [], facts["problems"]
    assert facts["ready"] == "yes"  # the inline script ran to its end
    plots = {p["id"]: p for p in facts["plots"]}
    assert plots["learning-curve"]["w"] > 300 and plots["learning-curve"]["h"] > 100
    assert plots["learning-curve"]["marks"] >= 5  # every candidate of both rounds, plus the legend
    assert plots["tokens-per-node"]["marks"] == 2
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


def test_evaluation_report_renders_in_chromium_without_errors(tmp_path, browser):
    report = write_report(make_eval_run(tmp_path), graph_html="")
    facts = asyncio.run(inspect_page(browser.ws_url, report.as_uri() + "#eps-act-pddl-gripper", tmp_path / "eval.png"))
    assert facts["problems"] == [], facts["problems"]
    assert facts["ready"] == "yes"
    assert re.match(rb"\x89PNG", (tmp_path / "eval.png").read_bytes())
