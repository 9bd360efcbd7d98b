"""``run.py report RUN_DIR``: one self-contained, offline HTML file describing a run.

Everything is inline (CSS, a few lines of JS, SVG plots, the graph picture), so the file can be mailed or opened
from a laptop with no network. A run killed half-way still gets a report with whatever it had written.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

from graphs.registry import GRAPHS, build_graph

from .run_data import LibraryVersion, RunData, load_run, round_of_key, usage_tables
from .svg import Point, SeriesPoint, bar_chart, learning_curve, line_chart

REPORT_NAME = "report.html"

CSS = """
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{background:#243b5a;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header .meta{opacity:.85;font-size:13px;margin-top:4px}
nav{padding:6px 24px;background:#e9eef5;position:sticky;top:0;z-index:2}nav a{margin-right:14px;color:#243b5a}
main{padding:8px 24px 40px;max-width:1200px}section{margin-top:26px}h2{border-bottom:2px solid #d6dde8;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #d6dde8;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{background:#fdecea;font-weight:600}
pre{background:#f3f5f8;border:1px solid #e0e5ec;padding:8px;overflow:auto;font-size:12px;max-height:480px;white-space:pre-wrap}
.diff .add{background:#e3f6e8;color:#145c2c}.diff .del{background:#fbe5e5;color:#8a1f1f}.diff .hunk{color:#6a58a8}
.warn{background:#fff4d6;border:1px solid #f0d58a;padding:6px 10px;margin:6px 0}
.tag{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e4e9f1;margin-right:4px}
.tag.best{background:#d0342c;color:#fff}.tag.ok{background:#dff3e5}.tag.fail{background:#fbe0e0}
details{margin:6px 0}summary{cursor:pointer}
.plot{max-width:100%;height:auto;background:#fff;border:1px solid #e0e5ec;margin:6px 12px 6px 0}
.plot .grid{stroke:#eceff4}.plot .frame{fill:none;stroke:#c9d1dd}.plot .tick{font-size:11px;fill:#4a5568}
.plot .axis-label{font-size:12px;fill:#2d3748}.plot .plot-title{font-size:13px;font-weight:600;fill:#1d2330}
.plot .legend{font-size:11px;fill:#2d3748}.plot .bar{fill:#5b84c4}
.plot .best-line{fill:none;stroke:#d0342c;stroke-width:2;stroke-dasharray:5 3}
.graph-picture svg{max-width:100%;height:auto}
.card{background:#fff;border:1px solid #e0e5ec;border-radius:6px;padding:8px 14px;margin:10px 0}
"""

# Opens the <details> a link points into, so anchor links to collapsed sections land on visible text.
JS = """
(function(){
  function openTarget(){
    var id=decodeURIComponent(location.hash.slice(1)); if(!id) return;
    var el=document.getElementById(id);
    for(var n=el;n;n=n.parentElement){ if(n.tagName==='DETAILS') n.open=true; }
    if(el) el.scrollIntoView();
  }
  window.addEventListener('hashchange',openTarget);
  document.querySelectorAll('button[data-toggle]').forEach(function(b){
    b.addEventListener('click',function(){
      var open=b.getAttribute('data-toggle')==='open';
      document.querySelectorAll(b.getAttribute('data-scope')+' details').forEach(function(d){d.open=open;});
    });
  });
  openTarget();
  document.documentElement.setAttribute('data-report-ready','yes');
})();
"""


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-") or "x"


def _num(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return escape(str(value))
    return f"{v:,.0f}" if v.is_integer() and abs(v) >= 100 else f"{v:,.{digits}f}"


def _cost(value: Any) -> str:
    if value is None:
        return "n/a"
    try:
        return f"${float(value):.4f}"
    except (TypeError, ValueError):
        return escape(str(value))


def _pre(text: str, cls: str = "") -> str:
    return f'<pre class="{cls}">{escape(text)}</pre>' if text else ""


def render_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""))
    if not lines:
        return '<p class="nodiff">no code change</p>'
    out = []
    for line in lines:
        cls = "hunk" if line.startswith("@@") else "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        out.append(f'<span class="{cls}">{escape(line)}</span>' if cls else escape(line))
    return '<pre class="diff">' + "\n".join(out) + "</pre>"


def _table(headers: list[str], rows: list[list[str]], row_classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers) if any(headers) else ""
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(row) + "</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _td(value: Any, numeric: bool = False) -> str:
    """A cell around ``value``, which is HTML already: pass raw values from run files through :func:`_text`."""
    return f'<td class="num">{value}</td>' if numeric else f"<td>{value}</td>"


def _text(value: Any) -> str:
    """A value read from a run file, as HTML text: counts and steps too, since a file may hold any string there."""
    return escape(str(value))


# ------------------------------------------------------------------ sections


def section_header(run: RunData) -> str:
    cfg = run.config
    env = cfg.get("env") or run.learn_summary.get("env") or "?"
    models = cfg.get("models") or {}
    model_text = ", ".join(f"{role}: {m.get('model', m) if isinstance(m, dict) else m}" for role, m in models.items()) or "models unknown"
    bits = [f"graph <b>{escape(run.graph)}</b>", f"env <b>{escape(str(env))}</b>", escape(model_text)]
    if cfg.get("created"):
        bits.append(f"created {escape(str(cfg['created']))}")
    return (
        f"<header><h1>LearnAct run report: {escape(run.path.name)}</h1>"
        f'<div class="meta">{" · ".join(bits)}</div></header>'
    )


def section_overview(run: RunData) -> str:
    out = ['<section id="overview"><h2>Overview</h2>']
    for w in run.warnings:
        out.append(f'<div class="warn">{escape(w)}</div>')
    facts: list[tuple[str, str]] = []
    if run.rounds or run.candidates:
        finished = bool(run.stop_reason)
        facts.append(("status", escape(run.stop_reason) if finished else "<b>unfinished</b> (no learning_done event: killed or still running)"))
        facts.append(("rounds scored", str(len(run.rounds))))
        facts.append(("candidates", str(len(run.candidates) or len({c['id'] for r in run.rounds for c in r.get('candidates', [])}))))
        best = run.best_id
        if best:
            facts.append(("best candidate", f'<a href="#cand-{slug(best)}">{escape(best)}</a>'))
            scores = run.learn_summary.get("best_scores") or _scores_of(run, best)
            if scores:
                facts.append(("best scores", escape(", ".join(f"{k}={_plain(v)}" for k, v in scores.items()))))
        train = run.config.get("train_instances") or run.learn_summary.get("train_instances")
        if train:
            facts.append(("training instances", escape(", ".join(map(str, train)))))
    if run.episodes:
        wins = sum(1 for e in run.episodes if e.get("success"))
        facts.append(("episodes", f"{len(run.episodes)} ({wins} successful)"))
    totals = usage_tables(run.usage).totals
    if totals:
        facts.append(("tokens", f"{_num(totals.get('total_tokens'))} (cost {_cost(totals.get('cost'))})"))
    if facts:
        out.append(_table(["", ""], [[f"<th>{k}</th>", _td(v)] for k, v in facts]))
    elif not run.warnings:
        out.append("<p>This run folder holds no results yet.</p>")
    out.append("</section>")
    return "\n".join(out)


def _plain(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _scores_of(run: RunData, cid: str) -> dict[str, Any]:
    for r in reversed(run.rounds):
        for c in r.get("candidates", []):
            if c.get("id") == cid and c.get("scores"):
                return c["scores"]
    return run.candidates.get(cid, {}).get("scores") or {}


def section_graph(run: RunData, picture: str | None) -> str:
    if picture == "":
        return ""
    out = ['<section id="graph"><h2>The graph</h2>']
    if picture is None:
        picture = graph_picture(run.graph) if run.graph in GRAPHS else ""
    out.append(picture or f"<p>No picture of the {escape(run.graph)} graph could be drawn here.</p>")
    out.append("</section>")
    return "\n".join(out)


def graph_picture(name: str) -> str:
    """The graph as inline SVG (Graphviz) plus its Mermaid text; a note if the graph cannot be built."""
    from .draw import picture_of, to_mermaid, to_svg

    try:
        picture = picture_of(build_graph(name).get_graph(), name)
    except Exception as exc:  # noqa: BLE001 - a report must not die because a graph module is broken
        return f'<div class="warn">the {escape(name)} graph could not be built: {escape(str(exc))}</div>'
    parts = []
    try:
        parts.append(f'<div class="graph-picture">{to_svg(picture)}</div>')
    except Exception as exc:  # noqa: BLE001 - no Graphviz: the Mermaid text still shows the structure
        parts.append(f'<div class="warn">no Graphviz picture ({escape(str(exc))}); Mermaid text below</div>')
    parts.append(f"<details><summary>Mermaid source (paste into mermaid.live)</summary>{_pre(to_mermaid(picture))}</details>")
    return "\n".join(parts)


def _candidate_round(run: RunData, cid: str) -> int | None:
    meta = run.candidates.get(cid, {})
    if isinstance(meta.get("round"), int):
        return meta["round"]
    return round_of_key(cid)


def section_learning(run: RunData) -> str:
    if not run.rounds and not run.candidates:
        return ""
    out = ['<section id="learning"><h2>Learning curve</h2>']
    if not run.rounds:
        out.append("<p>No round was scored yet.</p></section>")
        return "\n".join(out)
    score_type = str(run.rounds[-1].get("score_type") or run.config.get("score") or "score")
    best_overall = run.best_id
    score_points, success_points = [], []
    starred: set[str] = set()
    rows, classes = [], []
    for r in run.rounds:
        rnd = int(r.get("round", 0))
        for c in r.get("candidates", []):
            cid = str(c.get("id"))
            scores = c.get("scores") or {}
            made_in = _candidate_round(run, cid)
            origin = "kept" if made_in is not None and made_in != rnd else str(c.get("origin") or "create")
            is_best = cid == r.get("best_id")
            star = cid == best_overall and cid not in starred
            if star:
                starred.add(cid)
            value = float(scores.get(score_type, 0.0) or 0.0)
            success = float(scores.get("success_rate", 0.0) or 0.0)
            tip = (f"{cid} (round {rnd}, {origin}{', parent ' + str(c['parent']) if c.get('parent') else ''})\n"
                   f"{score_type} = {value:.3f}\ntraining success = {success:.2f}\n"
                   f"T={scores.get('T')} C={scores.get('C')} S={scores.get('S')}")
            href = f"#cand-{slug(cid)}"
            score_points.append(Point(rnd, value, cid, origin, is_best, star, tip, href))
            success_points.append(Point(rnd, success, cid, origin, is_best, star, tip, href))
            rows.append([
                _td(rnd, True), _td(f'<a href="{href}">{escape(cid)}</a>' + (' <span class="tag best">best</span>' if star else "")),
                _td(escape(origin)), _td(escape(str(c.get("parent") or ""))),
                _td(escape(str(run.candidates.get(cid, {}).get("target") or ""))),
                _td(f"{value:.3f}", True), _td(f"{success:.2f}", True),
                _td(_text(scores.get("T", "")), True), _td(_text(scores.get("C", "")), True), _td(_text(scores.get("S", "")), True),
            ])
            classes.append("best" if is_best else "")
        for d in r.get("dropped", []) or []:
            did = str(d.get("id"))
            rows.append([_td(rnd, True), _td(f'<a href="#cand-{slug(did)}">{escape(did)}</a>'), _td("dropped"), _td(""), _td(""),
                         _td(escape(str(d.get("error") or "")[:200])), _td(""), _td(""), _td(""), _td("")])
            classes.append("")
    best_line = [(int(r.get("round", 0)), float(r["best_score"])) for r in run.rounds if r.get("best_score") is not None]
    best_success = []
    for r in run.rounds:
        bid = r.get("best_id")
        for c in r.get("candidates", []):
            if c.get("id") == bid:
                best_success.append((int(r.get("round", 0)), float((c.get("scores") or {}).get("success_rate", 0.0) or 0.0)))
    out.append(learning_curve(score_points, title=f"Score per round ({score_type})", y_label=score_type,
                              element_id="learning-curve", best_line=best_line))
    out.append(learning_curve(success_points, title="Training success rate per round", y_label="success rate",
                              element_id="success-curve", best_line=best_success, y_max=1.0))
    out.append("<p>Each dot is one candidate action set; a ring marks the best of its round, the star the best overall; "
               "<i>kept</i> is the previous best re-entering the next round. Click a dot for the candidate.</p>")
    out.append(_table(["round", "candidate", "origin", "parent", "target", score_type, "train success", "T", "C", "S"], rows, classes))
    errors = [e for e in run.events if e.get("event") == "errors_identified"]
    if errors:
        out.append("<h3>Failures that drove each revision round</h3>")
        out.append(_table(["after round", "failed learned calls", "target action", "target's failures"],
                          [[_td(_text(e.get("round")), True), _td(_text(e.get("failures")), True), _td(escape(str(e.get("target")))),
                            _td(_text(e.get("target_failures")), True)] for e in errors]))
    out.append("</section>")
    return "\n".join(out)


def section_candidates(run: RunData) -> str:
    if not run.candidates and not run.rounds:
        return ""
    ids = list(run.candidates)
    for r in run.rounds:  # candidates that were scored or dropped but whose files are missing
        for c in list(r.get("candidates", [])) + list(r.get("dropped", []) or []):
            if str(c.get("id")) not in run.candidates and str(c.get("id")) not in ids:
                ids.append(str(c.get("id")))
    ids.sort(key=lambda i: (_candidate_round(run, i) or 0, i))
    steps = run.training_steps()
    best = run.best_id
    out = ['<section id="candidates"><h2>Candidates</h2>',
           '<button data-toggle="open" data-scope="#candidates">expand all</button> '
           '<button data-toggle="close" data-scope="#candidates">collapse all</button>']
    for cid in ids:
        meta = run.candidates.get(cid, {})
        tags = [f'<span class="tag">{escape(str(meta.get("origin") or "?"))}</span>']
        if cid == best:
            tags.append('<span class="tag best">best</span>')
        summary = f"{escape(cid)} {' '.join(tags)}"
        if meta.get("parent"):
            summary += f" from {escape(str(meta['parent']))}"
        if meta.get("target"):
            summary += f" · target {escape(str(meta['target']))}"
        body = []
        if meta.get("reason"):
            body.append(f"<p><b>Failed reason (learner):</b> {escape(str(meta['reason']))}</p>")
        if meta.get("failure"):
            body.append(f"<details><summary>the failure this revision answered</summary>{_pre(str(meta['failure']))}</details>")
        if meta.get("scores"):
            body.append("<p><b>scores:</b> " + escape(", ".join(f"{k}={_plain(v)}" for k, v in meta["scores"].items())) + "</p>")
        if meta.get("code"):
            body.append(f"<details><summary>code</summary>{_pre(meta['code'])}</details>")
            parent = run.candidates.get(str(meta.get("parent") or ""), {})
            if parent.get("code"):
                body.append(f"<details open><summary>diff against {escape(str(meta['parent']))}</summary>"
                            f"{render_diff(parent['code'], meta['code'], str(meta['parent']), cid)}</details>")
        else:
            body.append("<p>(no code file: the candidate was dropped or the run stopped before it was scored)</p>")
        for i, err in enumerate(meta.get("attempts") or []):
            body.append(f"<details><summary>code error met, attempt {i + 1}</summary>{_pre(str(err))}</details>")
        rollouts = {eid: s for eid, s in steps.items() if eid.split("@", 1)[0] == cid}
        for eid, st in sorted(rollouts.items()):
            won = any(s.get("success") for s in st)
            rows = [[_td(_text(s.get("step")), True), _td(f"<code>{escape(str(s.get('action')))}</code>"),
                     _td('<span class="tag ok">ok</span>' if s.get("ok") else '<span class="tag fail">failed</span>')] for s in st]
            body.append(f'<details><summary>training rollout {escape(eid)}: {"success" if won else "no success"} in {len(st)} steps</summary>'
                        f'{_table(["step", "action", "result"], rows)}</details>')
        out.append(f'<details class="card" id="cand-{slug(cid)}"><summary>{summary}</summary>{"".join(body)}</details>')
    out.append("</section>")
    return "\n".join(out)


def _version_meta_rows(v: LibraryVersion) -> list[tuple[str, str]]:
    rows = []
    for key in ("iteration", "reason", "description", "scores", "created", "source"):
        if v.meta.get(key) not in (None, "", {}):
            value = v.meta[key]
            rows.append((key, ", ".join(f"{k}={_plain(x)}" for k, x in value.items()) if isinstance(value, dict) else str(value)))
    return rows


def section_library(run: RunData) -> str:
    if not run.library and not run.demonstration:
        return ""
    out = ['<section id="library"><h2>Action library timeline</h2>',
           "<p>Every version of every learned action in the best candidate's lineage: the code, the change against the "
           "parent version, why it changed and the usage notes (Plan) attached to it.</p>"]
    timeline = sorted(((v.meta.get("iteration", 0) or 0, name, v.version) for name, vs in run.library.items() for v in vs),
                      key=lambda t: (t[0] if isinstance(t[0], int) else 0, t[1], t[2]))
    if timeline:
        out.append(_table(["iteration", "action", "version", "reason"],
                          [[_td(_text(it), True), _td(f'<a href="#lib-{slug(name)}-v{ver}">{escape(name)}</a>'), _td(f"v{ver}", True),
                            _td(escape(str(_version(run, name, ver).meta.get("reason", ""))))] for it, name, ver in timeline]))
    for name, versions in run.library.items():
        out.append(f'<h3 id="lib-{slug(name)}">{escape(name)}</h3>')
        by_number = {v.version: v for v in versions}
        for v in versions:
            body = [_table(["", ""], [[f"<th>{escape(k)}</th>", _td(escape(x))] for k, x in _version_meta_rows(v)])]
            notes = v.meta.get("notes")
            if notes:
                note_text = "\n".join(str(n.get("text", n)) if isinstance(n, dict) else str(n) for n in notes) if isinstance(notes, list) else str(notes)
                body.append(f"<p><b>Plan notes</b></p>{_pre(note_text)}")
            failure = v.meta.get("failure")
            if failure:
                body.append(f"<details><summary>failure that caused this revision</summary>{_pre(str(failure))}</details>")
            body.append(f"<details><summary>code</summary>{_pre(v.code) or '<p>(file missing)</p>'}</details>")
            parent = by_number.get(v.parent_version) if v.parent_version is not None else None
            if parent is not None:
                body.append(f"<details open><summary>diff against v{parent.version}</summary>"
                            f"{render_diff(parent.code, v.code, f'{name} v{parent.version}', f'{name} v{v.version}')}</details>")
            out.append(f'<div class="card" id="lib-{slug(name)}-v{v.version}"><b>{escape(name)} v{v.version}</b>{"".join(body)}</div>')
    if run.demonstration:
        out.append(f"<details><summary>usage demonstration</summary>{_pre(run.demonstration)}</details>")
    out.append("</section>")
    return "\n".join(out)


def _version(run: RunData, name: str, number: int) -> LibraryVersion:
    return next(v for v in run.library[name] if v.version == number)


def section_usage(run: RunData) -> str:
    tables = usage_tables(run.usage)
    episode_tokens = sum(int(e.get("tokens") or 0) for e in run.episodes)
    if not (tables.per_node or tables.per_round or tables.totals or episode_tokens or tables.retries):
        return ""
    out = ['<section id="usage"><h2>Tokens and cost</h2>']
    if t := tables.totals:
        out.append(f"<p>total {_num(t.get('total_tokens'))} tokens (prompt {_num(t.get('prompt_tokens'))}, "
                   f"completion {_num(t.get('completion_tokens'))}), cost {_cost(t.get('cost'))}</p>")
    if tables.retries:  # failed model requests the run retried: 429, 5xx, timeouts, resets, empty and garbage replies
        out += ['<h3 id="retries">Model requests retried</h3>',
                _table(["kind", "failed attempts"], [[_td(_text(k)), _td(_text(v), True)] for k, v in tables.retries.items()])]
    for title, data, element in (("per node", tables.per_node, "tokens-per-node"), ("per round", tables.per_round, "tokens-per-round")):
        if not data:
            continue
        items = sorted(data.items(), key=lambda kv: _round_sort(kv[0]))
        out.append(bar_chart([(k, float(v.get("total_tokens", 0) or 0)) for k, v in items], title=f"Tokens {title}",
                             unit="tokens", element_id=element, secondary=[_cost(v.get("cost")) if "cost" in v else "" for _, v in items]))
        out.append(_table([title.split()[-1], "calls", "prompt", "completion", "total", "cost"],
                          [[_td(escape(k)), _td(_num(v.get("calls")), True), _td(_num(v.get("prompt_tokens")), True),
                            _td(_num(v.get("completion_tokens")), True), _td(_num(v.get("total_tokens")), True),
                            _td(_cost(v.get("cost")) if "cost" in v else "n/a", True)] for k, v in items]))
    out.append("</section>")
    return "\n".join(out)


def _round_sort(label: str) -> tuple[int, str]:
    m = re.fullmatch(r"round (\d+)", label)
    return (int(m.group(1)), "") if m else (10**9, label)


def _episode_anchor(e: dict[str, Any]) -> str:
    return f"ep-{slug(e.get('method', ''))}-{slug(e.get('env', ''))}-{slug(e.get('episode_id', ''))}"


def section_evaluation(run: RunData) -> str:
    if not run.episodes and not run.summary_rows:
        return ""
    out = ['<section id="evaluation"><h2>Evaluation</h2>']
    rows = _summary_rows(run)
    if rows:
        learned = any(r.get("learning_stop") for r in rows)  # the learning runs' stop reasons, beside their rows
        body = []
        for r in rows:
            link = f"#eps-{slug(r['method'])}-{slug(r['env'])}"
            note = f' <span class="tag fail">{escape(str(r["learning_note"]))}</span>' if r.get("learning_note") else ""
            body.append([
                _td(f'<a href="{link}">{escape(str(r["method"]))}</a>{note}'), _td(escape(str(r["env"]))), _td(_text(r.get("episodes", "")), True),
                _td(f"{_num(r.get('success_mean'), 3)} ± {_num(r.get('success_std'), 3)}", True), _td(_num(r.get("progress_mean"), 3), True),
                _td(_num(r.get("steps_mean"), 1), True), _td(_num(r.get("tokens_mean"), 0), True), _td(_cost(_float(r.get("cost_total"))), True),
            ] + ([_td(escape(str(r.get("learning_stop") or "-")))] if learned else []))
        headers = ["method", "task", "episodes", "success (mean ± sd over runs)", "progress", "steps", "tokens/episode", "cost"]
        out.append(_table(headers + (["learning stopped"] if learned else []), body))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in run.episodes:
        groups[(str(e.get("method", "?")), str(e.get("env", "?")))].append(e)
    for (method, env), eps in sorted(groups.items()):
        out.append(f'<h3 id="eps-{slug(method)}-{slug(env)}">{escape(method)} on {escape(env)}</h3>')
        out.append(_table(["episode", "result", "steps", "learned calls (failed)", "progress", "tokens"], [
            [_td(f'<a href="#{_episode_anchor(e)}">{escape(str(e.get("episode_id")))}</a>'),
             _td('<span class="tag ok">success</span>' if e.get("success") else f'<span class="tag fail">{escape(str(e.get("stop_reason") or "fail"))}</span>'),
             _td(_text(e.get("steps", "")), True), _td(_text(f"{e.get('learned_calls', 0)} ({e.get('failed_learned_calls', 0)})"), True),
             _td(_num(e.get("progress"), 2), True), _td(_num(e.get("tokens"), 0), True)] for e in eps]))
        for e in eps:
            out.append(_trajectory(e))
    out.append("</section>")
    return "\n".join(out)


def _size_rows(run: RunData) -> list[dict[str, Any]]:
    """Per (method, task, size) rows: summary_by_size.csv, else computed from the episodes."""
    if run.size_rows:
        return run.size_rows
    try:
        from environments.pddl.ladder import instance_size
        from nodes.summary import summarize_by_size

        data_dir = run.config.get("data_dir")
        episodes = (e for e in run.episodes if "episode_id" in e and "method" in e and "env" in e)
        return summarize_by_size(episodes, lambda env, inst: instance_size(env, inst, data_dir))
    except Exception:  # noqa: BLE001 - the evaluation section still shows every episode
        return []


def section_sizes(run: RunData) -> str:
    """Success and progress per size and method (the difficulty ladder): a plot and a table per task."""
    from environments.pddl.ladder import SIZE_KEY
    from nodes.summary import several_sizes

    rows = [r for r in _size_rows(run) if _float(r.get("size")) is not None and _float(r.get("success_mean")) is not None]
    if not several_sizes(rows):
        return ""

    out = ['<section id="sizes"><h2>Success by size</h2>',
           "<p>Size: balls (gripper), blocks (blockworld), wheels (tyreworld), cocktails to serve (barman), read from a "
           "generated instance's name or counted in a benchmark problem. Success is averaged per run first.</p>"]
    for env in sorted({str(r["env"]) for r in rows}):
        series: dict[str, list[SeriesPoint]] = {}
        table = []
        for r in (r for r in rows if str(r["env"]) == env):
            method, size = str(r["method"]), _float(r["size"])
            success, sd, progress = _float(r["success_mean"]), _float(r.get("success_std")) or 0.0, _float(r.get("progress_mean")) or 0.0
            tip = f"{method}, size {size:g}: success {success:.2f} ± {sd:.2f}, progress {progress:.2f}, {r.get('episodes', '?')} episodes"
            series.setdefault(method, []).append(SeriesPoint(size, success, tip))
            table.append([_td(escape(method)), _td(f"{size:g}", True), _td(_text(r.get("episodes", "")), True),
                          _td(f"{success:.3f} ± {sd:.3f}", True), _td(f"{progress:.3f}", True)])
        unit = SIZE_KEY.get(env.partition("/")[2], "size")
        out.append(line_chart(series, title=f"Success against size: {env}", x_label=f"size ({unit})", y_label="success rate",
                              element_id=f"size-plot-{slug(env)}", y_max=1.0))
        out.append(_table(["method", "size", "episodes", "success (mean ± sd over runs)", "progress"], table))
    out.append("</section>")
    return "\n".join(out)


def _float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _summary_rows(run: RunData) -> list[dict[str, Any]]:
    if run.summary_rows:
        return run.summary_rows
    try:
        from nodes.summary import summarize_records

        return summarize_records(e for e in run.episodes if "episode_id" in e and "method" in e and "env" in e)
    except Exception:  # noqa: BLE001 - the per-episode tables below still show everything
        return []


def _trajectory(e: dict[str, Any]) -> str:
    rows = []
    for s in e.get("trajectory") or []:
        trace = s.get("trace") or []
        trace_html = ""
        if trace:
            trace_html = "<details><summary>primitive trace</summary>" + _table(["primitive", "observation", "valid"], [
                [_td(f"<code>{escape(str(t.get('action')))}</code>"), _td(escape(str(t.get("observation", "")))), _td("yes" if t.get("valid") else "no")]
                for t in trace]) + "</details>"
        kind = "learned" if s.get("is_learned") else "thought" if s.get("thought") else "primitive"
        status = '<span class="tag ok">ok</span>' if s.get("ok") else f'<span class="tag fail">{escape(str(s.get("error_kind") or "failed"))}</span>'
        rows.append([_td(_text(s.get("index", "")), True), _td(f"<code>{escape(str(s.get('action')))}</code> <span class='tag'>{kind}</span>"),
                     _td(status), _td(escape(str(s.get("observation", ""))) + trace_html)])
    head = f"{escape(str(e.get('episode_id')))} ({escape(str(e.get('method')))}): {'success' if e.get('success') else 'fail'}, {_text(e.get('steps', '?'))} steps"
    body = ""
    if e.get("goal"):
        body += f"<p><b>goal:</b> {escape(str(e['goal']))}</p>"
    if e.get("first_observation"):
        body += f"<details><summary>first observation</summary>{_pre(str(e['first_observation']))}</details>"
    body += _table(["#", "action", "result", "observation"], rows) if rows else "<p>(no steps recorded)</p>"
    return f'<details class="card" id="{_episode_anchor(e)}"><summary>{head}</summary>{body}</details>'


def section_settings(run: RunData) -> str:
    if not run.config:
        return ""
    return ('<section id="settings"><h2>Settings</h2><details><summary>config.json (everything needed to re-run)</summary>'
            f"{_pre(json.dumps(run.config, indent=1, default=str))}</details></section>")


# ------------------------------------------------------------------ assembly


def render_report(run: RunData, graph_html: str | None = None) -> str:
    """The whole page. ``graph_html`` replaces the graph picture (tests pass "" to skip building graphs)."""
    sections = [
        section_overview(run), section_learning(run), section_library(run), section_candidates(run),
        section_usage(run), section_evaluation(run), section_sizes(run), section_graph(run, graph_html), section_settings(run),
    ]
    sections = [s for s in sections if s]
    nav = " ".join(f'<a href="#{m}">{m}</a>' for m in re.findall(r'<section id="([^"]+)"', "".join(sections)))
    stamp = _dt.datetime.now().isoformat(timespec="seconds")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>LearnAct report: {escape(run.path.name)}</title><style>{CSS}</style></head><body>"
        f"{section_header(run)}<nav>{nav}</nav><main>{''.join(sections)}"
        f'<p style="color:#889;font-size:12px">written {stamp} by run.py report</p></main>'
        f"<script>{JS}</script></body></html>\n"
    )


def write_report(run_dir: str | Path, out: str | Path | None = None, *, graph_html: str | None = None) -> Path:
    """Write ``RUN_DIR/report.html`` (or ``out``) and return its path."""
    run = load_run(run_dir)
    path = Path(out) if out else run.path / REPORT_NAME
    html = render_report(run, graph_html)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a report
    finally:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written temporary file behind
    return path
