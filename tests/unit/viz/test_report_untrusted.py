"""The HTML report is safe with untrusted content (issue 17, item 5): learned code, LLM replies,
observations, scores and counts read from run files, and file names are all escaped.

A synthetic run folder carries script and event-handler payloads in every field the report shows
(and in a candidate's file name, an action folder's name and the run folder's own name). The rendered
page must hold no element or attribute from them, and in headless Chromium (Debian's ``chromium``,
driven as in test_viz_browser.py) nothing of them may run: ``window.__pwned`` stays unset while the
report's own script runs to its end. A canary page with the same payload unescaped shows the probe
does catch a payload that runs.
"""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from learnact.viz.report import write_report

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '"><img src=x onerror="window.__pwned=1">'
SVG = "<svg onload=window.__pwned=1></svg>"
QUOTE = "' onmouseover='window.__pwned=1' x='"
PAYLOAD = f"{SCRIPT}{IMG}{SVG}{QUOTE}</pre></title></textarea></code>{SCRIPT}"
NAME = IMG.replace("/", "")  # file and folder names cannot hold '/'
SCORE = "step_correction_call_ratio_success"


def _jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def make_hostile_run(root: Path) -> Path:
    """A learn run with an evaluation's records too, every shown field holding the payload."""
    run = root / f"run-{NAME}"
    (run / "candidates").mkdir(parents=True)
    (run / "config.json").write_text(
        json.dumps(
            {
                "graph": "learn",
                "env": PAYLOAD,
                "train_instances": [PAYLOAD],
                "score": SCORE,
                "created": PAYLOAD,
                "models": {"agent": {"model": PAYLOAD}, "learner": {"model": PAYLOAD}},
            }
        )
    )
    hostile_id = f"r0s1{NAME}"
    scores = {SCORE: 1.0, "success_rate": 0.5, "T": PAYLOAD, "C": PAYLOAD, "S": PAYLOAD}
    round0 = {
        "round": 0,
        "score_type": SCORE,
        "best_id": "r0s0",
        "best_score": 1.0,
        "candidates": [
            {"id": "r0s0", "origin": PAYLOAD, "parent": PAYLOAD, "scores": scores},
            {"id": hostile_id, "origin": "create", "parent": None, "scores": scores},
        ],
        "dropped": [{"id": NAME, "error": PAYLOAD}],
    }
    _jsonl(
        run / "events.jsonl",
        [
            {
                "event": "step",
                "episode_id": f"r0s0@{PAYLOAD}",
                "step": PAYLOAD,
                "action": PAYLOAD,
                "ok": False,
                "success": False,
            },
            {"event": "round_scored", **round0},
            {
                "event": "errors_identified",
                "round": 0,
                "target": PAYLOAD,
                "failures": PAYLOAD,
                "target_failures": PAYLOAD,
            },
            {"event": "learning_done", "stop_reason": PAYLOAD, "best_id": "r0s0"},
        ],
    )
    code = f"def carry(obj):\n    '''{PAYLOAD}'''\n    return {PAYLOAD!r}\n"
    (run / "candidates" / "r0s0.py").write_text(code)
    (run / "candidates" / "r0s0.json").write_text(
        json.dumps(
            {
                "id": "r0s0",
                "round": 0,
                "origin": PAYLOAD,
                "parent": hostile_id,
                "target": PAYLOAD,
                "reason": PAYLOAD,
                "failure": PAYLOAD,
                "attempts": [PAYLOAD],
                "scores": {PAYLOAD: PAYLOAD},
            }
        )
    )
    (run / "candidates" / f"{hostile_id}.py").write_text(
        code.replace("carry", "haul")
    )  # a file name holding the payload
    lib = run / "library"
    for folder in ("carry", NAME):
        (lib / folder).mkdir(parents=True)
        (lib / folder / "v1.py").write_text(code)
    (lib / "carry" / "v2.py").write_text(code + f"# {PAYLOAD}\n")
    meta = {
        "iteration": PAYLOAD,
        "reason": PAYLOAD,
        "description": PAYLOAD,
        "notes": [{"text": PAYLOAD}],
        "failure": PAYLOAD,
        "scores": {PAYLOAD: PAYLOAD},
        "created": PAYLOAD,
        "source": PAYLOAD,
    }
    _jsonl(
        lib / "history.jsonl",
        [
            {"name": "carry", "version": 1, "parent_version": None, **meta},
            {"name": "carry", "version": 2, "parent_version": 1, **meta},
            {"name": NAME, "version": 1, "parent_version": None, **meta},
        ],
    )
    (lib / "demonstration.md").write_text(f"Action: {PAYLOAD}\n")
    step = {
        "index": PAYLOAD,
        "action": PAYLOAD,
        "observation": PAYLOAD,
        "thought": PAYLOAD,
        "ok": False,
        "is_learned": True,
        "error_kind": PAYLOAD,
        "trace": [{"action": PAYLOAD, "observation": PAYLOAD, "valid": False}],
    }
    _jsonl(
        run / "episodes.jsonl",
        [
            {
                "episode_id": PAYLOAD,
                "method": PAYLOAD,
                "env": PAYLOAD,
                "instance": PAYLOAD,
                "success": False,
                "progress": 0.5,
                "steps": PAYLOAD,
                "learned_calls": PAYLOAD,
                "failed_learned_calls": PAYLOAD,
                "stop_reason": PAYLOAD,
                "tokens": 10,
                "goal": PAYLOAD,
                "first_observation": PAYLOAD,
                "run": 0,
                "trajectory": [step],
            }
        ],
    )
    (run / "usage.json").write_text(
        json.dumps(
            {
                "totals": {"total_tokens": 100, "cost": PAYLOAD},
                "per_node": {PAYLOAD: {"calls": 1, "total_tokens": 10}},
                "per_key": {PAYLOAD: {"total_tokens": 10}},
            }
        )
    )
    with (run / "summary.csv").open("w", newline="") as fh:
        fields = [
            "method",
            "env",
            "episodes",
            "success_mean",
            "success_std",
            "progress_mean",
            "steps_mean",
            "tokens_mean",
            "cost_total",
            "learning_note",
            "learning_stop",
        ]
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerow(dict.fromkeys(fields, PAYLOAD))
    (run / "learn_summary.json").write_text(
        json.dumps(
            {
                "env": PAYLOAD,
                "train_instances": [PAYLOAD],
                "stop_reason": PAYLOAD,
                "best": "r0s0",
                "best_scores": {PAYLOAD: PAYLOAD},
                "rounds": [round0],
            }
        )
    )
    return run


@pytest.fixture
def hostile_report(tmp_path) -> Path:
    return write_report(make_hostile_run(tmp_path), graph_html="")


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's tokenizer splits them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_every_untrusted_field_is_escaped_in_the_html(hostile_report):
    html = hostile_report.read_text(encoding="utf-8")
    parsed = Elements()
    parsed.feed(html)
    names = [tag for tag, _ in parsed.tags]
    assert names.count("script") == 1, "a <script> from run content reached the page"  # the report's own
    assert "img" not in names and "iframe" not in names
    handlers = [(tag, a) for tag, attrs in parsed.tags for a in attrs if a.startswith("on")]
    assert handlers == [], handlers[:3]
    assert not [
        svg for tag, svg in parsed.tags if tag == "svg" and "plot" not in (svg.get("class") or "")
    ]  # only the charts
    assert html.count("&lt;script&gt;window.__pwned=1&lt;/script&gt;") >= 20  # shown, as text, in many places
    assert "&quot;&gt;&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in html  # the file and folder names too


def chromium_or_skip() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no chromium on PATH (Debian: `apt-get install chromium`, or `make test`): the rendering check needs a real browser"
    )


async def probe(ws_url: str, url: str, settle_s: float = 1.0) -> dict:
    """Load ``url``, let its images fail and handlers fire for ``settle_s``, then read what ran."""
    from test_viz_browser import cdp_session

    async with cdp_session(ws_url) as (call, loaded):
        await call("Page.enable")
        await call("Runtime.enable")
        await call("Page.navigate", url=url)
        await asyncio.wait_for(loaded.wait(), 60)
        await asyncio.sleep(settle_s)
        expression = """JSON.stringify({
            pwned: typeof window.__pwned === 'undefined' ? null : window.__pwned,
            ready: document.documentElement.getAttribute('data-report-ready'),
            scripts: document.scripts.length,
            imgs: document.querySelectorAll('img').length,
            handlers: Array.from(document.querySelectorAll('*')).filter(
                el => Array.from(el.attributes).some(a => a.name.toLowerCase().startsWith('on'))).length,
            shown: document.body.textContent.split('<script>window.__pwned=1</script>').length - 1})"""
        result = await call("Runtime.evaluate", expression=expression, returnByValue=True)
    return json.loads(result["result"]["value"])


@pytest.fixture
def browser(tmp_path):
    chromium_or_skip()
    from test_viz_browser import Browser

    b = Browser(tmp_path / "chromium-profile")
    yield b
    b.close()


def test_nothing_from_untrusted_content_runs_in_chromium(hostile_report, browser, tmp_path):
    canary = tmp_path / "canary.html"  # the same payload, unescaped: the probe must see it run
    canary.write_text(f"<!DOCTYPE html><html><body><p>{PAYLOAD}</p></body></html>", encoding="utf-8")
    seen = asyncio.run(probe(browser.ws_url, canary.as_uri()))
    assert seen["pwned"] == 1, f"the probe did not catch a payload that runs: {seen}"

    facts = asyncio.run(probe(browser.ws_url, hostile_report.as_uri()))
    assert facts["ready"] == "yes", facts  # scripts were on: the report's own ran to its end
    assert facts["pwned"] is None, f"a payload ran in the report: {facts}"
    assert (facts["scripts"], facts["imgs"], facts["handlers"]) == (1, 0, 0), facts
    assert facts["shown"] >= 20, facts  # the payload is on the page, as text
