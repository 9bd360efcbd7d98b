"""``run.py report RUN_DIR``: one self-contained, offline HTML file describing a run.

Everything is inline (CSS, a few lines of JS, SVG plots, the graph picture), so the file can be mailed or opened
from a laptop with no network. A run killed half-way still gets a report with whatever it had written.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from html import escape
from pathlib import Path

from environments.pddl.ladder import SIZE_KEY
from graphs.registry import GRAPHS, build_graph
from nodes.records import EpisodeRecord
from nodes.summary import several_sizes

from .html import CSS, JS, cost, num, pre, render_diff, slug, table, td, text
from .report_data import (
    ScoredCandidate,
    as_float,
    best_lines,
    candidate_ids,
    episode_groups,
    plain,
    round_sort,
    score_type,
    scored_candidates,
    scores_of,
    size_rows,
    summary_rows,
    training_rollouts,
)
from .report_library import section_library  # the library's versions, the learner's or a person's (issue 28)
from .run_data import RunData, load_run, usage_tables
from .svg import Point, SeriesPoint, bar_chart, learning_curve, line_chart

REPORT_NAME = "report.html"

# ------------------------------------------------------------------ sections


def section_header(run: RunData) -> str:
    cfg = run.config
    env = cfg.get("env") or run.learn_summary.get("env") or "?"
    models = cfg.get("models") or {}
    model_text = ", ".join(f"{role}: {m.get('model', m) if isinstance(m, dict) else m}" for role, m in models.items()) or "models unknown"
    bits = [f"graph <b>{escape(run.graph)}</b>", f"env <b>{escape(str(env))}</b>", escape(model_text)]
    bits += [f"{key} <b>{escape(str(cfg[key]))}</b>" for key in ("protocol", "assist") if cfg.get(key)]
    bits += [f"created {escape(str(cfg['created']))}"] if cfg.get("created") else []
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
            scores = run.learn_summary.get("best_scores") or scores_of(run, best)
            if scores:
                facts.append(("best scores", escape(", ".join(f"{k}={plain(v)}" for k, v in scores.items()))))
        train = run.config.get("train_instances") or run.learn_summary.get("train_instances")
        if train:
            facts.append(("training instances", escape(", ".join(map(str, train)))))
    if run.episodes:
        wins = sum(1 for e in run.episodes if e.get("success"))
        facts.append(("episodes", f"{len(run.episodes)} ({wins} successful)"))
    totals = usage_tables(run.usage).totals
    if totals:
        facts.append(("tokens", f"{num(totals.get('total_tokens'))} (cost {cost(totals.get('cost'))})"))
    if facts:
        out.append(table(["", ""], [[f"<th>{k}</th>", td(v)] for k, v in facts]))
    elif not run.warnings:
        out.append("<p>This run folder holds no results yet.</p>")
    out.append("</section>")
    return "\n".join(out)


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
        picture = picture_of(build_graph(name).get_graph(xray=1), name)
    except Exception as exc:  # noqa: BLE001 - a report must not die because a graph module is broken
        return f'<div class="warn">the {escape(name)} graph could not be built: {escape(str(exc))}</div>'
    parts = []
    try:
        parts.append(f'<div class="graph-picture">{to_svg(picture)}</div>')
    except Exception as exc:  # noqa: BLE001 - no Graphviz: the Mermaid text still shows the structure
        parts.append(f'<div class="warn">no Graphviz picture ({escape(str(exc))}); Mermaid text below</div>')
    parts.append(f"<details><summary>Mermaid source (paste into mermaid.live)</summary>{pre(to_mermaid(picture))}</details>")
    return "\n".join(parts)


def section_learning(run: RunData) -> str:
    if not run.rounds and not run.candidates:
        return ""
    out = ['<section id="learning"><h2>Learning curve</h2>']
    if not run.rounds:
        out.append("<p>No round was scored yet.</p></section>")
        return "\n".join(out)
    kind = score_type(run)
    score_points, success_points, rows, classes = [], [], [], []
    for rnd, scored, dropped in scored_candidates(run):
        for c in scored:
            score_points.append(_point(c, c.value, kind))
            success_points.append(_point(c, c.success, kind))
            rows.append([
                td(rnd, True), td(f'<a href="#cand-{slug(c.id)}">{escape(c.id)}</a>' + (' <span class="tag best">best</span>' if c.is_overall_best else "")),
                td(escape(c.origin)), td(escape(c.parent)), td(escape(c.target)), td(f"{c.value:.3f}", True), td(f"{c.success:.2f}", True),
                td(text(c.scores.get("T", "")), True), td(text(c.scores.get("C", "")), True), td(text(c.scores.get("S", "")), True),
            ])
            classes.append("best" if c.is_round_best else "")
        for d in dropped:
            did = str(d.get("id"))
            rows.append([td(rnd, True), td(f'<a href="#cand-{slug(did)}">{escape(did)}</a>'), td("dropped"), td(""), td(""),
                         td(escape(str(d.get("error") or "")[:200])), td(""), td(""), td(""), td("")])
            classes.append("")
    best_score, best_success = best_lines(run)
    out.append(learning_curve(score_points, title=f"Score per round ({kind})", y_label=kind,
                              element_id="learning-curve", best_line=best_score))
    out.append(learning_curve(success_points, title="Training success rate per round", y_label="success rate",
                              element_id="success-curve", best_line=best_success, y_max=1.0))
    out.append("<p>Each dot is one candidate action set; a ring marks the best of its round, the star the best overall; "
               "<i>kept</i> is the previous best re-entering the next round. Click a dot for the candidate.</p>")
    out.append(table(["round", "candidate", "origin", "parent", "target", kind, "train success", "T", "C", "S"], rows, classes))
    errors = [e for e in run.events if e.get("event") == "errors_identified"]
    if errors:
        out.append("<h3>Failures that drove each revision round</h3>")
        out.append(table(["after round", "failed learned calls", "target action", "target's failures"],
                         [[td(text(e.get("round")), True), td(text(e.get("failures")), True), td(escape(str(e.get("target")))),
                           td(text(e.get("target_failures")), True)] for e in errors]))
    out.append("</section>")
    return "\n".join(out)


def _point(c: ScoredCandidate, value: float, kind: str) -> Point:
    """``c`` as a dot of a learning curve at height ``value``, with its hover text and link."""
    parent = f", parent {c.parent}" if c.parent else ""
    tip = (f"{c.id} (round {c.round}, {c.origin}{parent})\n{kind} = {c.value:.3f}\ntraining success = {c.success:.2f}\n"
           f"T={c.scores.get('T')} C={c.scores.get('C')} S={c.scores.get('S')}")
    return Point(c.round, value, c.id, c.origin, c.is_round_best, c.is_overall_best, tip, f"#cand-{slug(c.id)}")


def section_candidates(run: RunData) -> str:
    if not run.candidates and not run.rounds:
        return ""
    ids = candidate_ids(run)
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
            body.append(f"<details><summary>the failure this revision answered</summary>{pre(str(meta['failure']))}</details>")
        if meta.get("scores"):
            body.append("<p><b>scores:</b> " + escape(", ".join(f"{k}={plain(v)}" for k, v in meta["scores"].items())) + "</p>")
        if meta.get("code"):
            body.append(f"<details><summary>code</summary>{pre(meta['code'])}</details>")
            parent = run.candidates.get(str(meta.get("parent") or ""), {})
            if parent.get("code"):
                body.append(f"<details open><summary>diff against {escape(str(meta['parent']))}</summary>"
                            f"{render_diff(parent['code'], meta['code'], str(meta['parent']), cid)}</details>")
        else:
            body.append("<p>(no code file: the candidate was dropped or the run stopped before it was scored)</p>")
        for i, err in enumerate(meta.get("attempts") or []):
            body.append(f"<details><summary>code error met, attempt {i + 1}</summary>{pre(str(err))}</details>")
        for eid, st in training_rollouts(run, cid):
            won = any(s.get("success") for s in st)
            rows = [[td(text(s.get("step")), True), td(f"<code>{escape(str(s.get('action')))}</code>"),
                     td('<span class="tag ok">ok</span>' if s.get("ok") else '<span class="tag fail">failed</span>')] for s in st]
            body.append(f'<details><summary>training rollout {escape(eid)}: {"success" if won else "no success"} in {len(st)} steps</summary>'
                        f'{table(["step", "action", "result"], rows)}</details>')
        out.append(f'<details class="card" id="cand-{slug(cid)}"><summary>{summary}</summary>{"".join(body)}</details>')
    out.append("</section>")
    return "\n".join(out)


def section_usage(run: RunData) -> str:
    tables = usage_tables(run.usage)
    episode_tokens = sum(int(e.get("tokens") or 0) for e in run.episodes)
    if not (tables.per_node or tables.per_round or tables.totals or episode_tokens or tables.retries):
        return ""
    out = ['<section id="usage"><h2>Tokens and cost</h2>']
    if t := tables.totals:
        out.append(f"<p>total {num(t.get('total_tokens'))} tokens (prompt {num(t.get('prompt_tokens'))}, "
                   f"completion {num(t.get('completion_tokens'))}), cost {cost(t.get('cost'))}</p>")
    if tables.retries:  # failed model requests the run retried: 429, 5xx, timeouts, resets, empty and garbage replies
        out += ['<h3 id="retries">Model requests retried</h3>',
                table(["kind", "failed attempts"], [[td(text(k)), td(text(v), True)] for k, v in tables.retries.items()])]
    for title, data, element in (("per node", tables.per_node, "tokens-per-node"), ("per round", tables.per_round, "tokens-per-round")):
        if not data:
            continue
        items = sorted(data.items(), key=lambda kv: round_sort(kv[0]))
        out.append(bar_chart([(k, float(v.get("total_tokens", 0) or 0)) for k, v in items], title=f"Tokens {title}",
                             unit="tokens", element_id=element, secondary=[cost(v.get("cost")) if "cost" in v else "" for _, v in items]))
        out.append(table([title.split()[-1], "calls", "prompt", "completion", "total", "cost"],
                          [[td(escape(k)), td(num(v.get("calls")), True), td(num(v.get("prompt_tokens")), True),
                            td(num(v.get("completion_tokens")), True), td(num(v.get("total_tokens")), True),
                            td(cost(v.get("cost")) if "cost" in v else "n/a", True)] for k, v in items]))
    out.append("</section>")
    return "\n".join(out)


def _episode_anchor(e: EpisodeRecord) -> str:
    return f"ep-{slug(e.get('method', ''))}-{slug(e.get('env', ''))}-{slug(e.get('episode_id', ''))}"


def section_evaluation(run: RunData) -> str:
    if not run.episodes and not run.summary_rows:
        return ""
    out = ['<section id="evaluation"><h2>Evaluation</h2>']
    rows = summary_rows(run)
    if rows:
        learned = any(r.get("learning_stop") for r in rows)  # the learning runs' stop reasons, beside their rows
        body = []
        for r in rows:
            link = f"#eps-{slug(r['method'])}-{slug(r['env'])}"
            note = f' <span class="tag fail">{escape(str(r["learning_note"]))}</span>' if r.get("learning_note") else ""
            body.append([
                td(f'<a href="{link}">{escape(str(r["method"]))}</a>{note}'), td(escape(str(r["env"]))), td(text(r.get("episodes", "")), True),
                td(f"{num(r.get('success_mean'), 3)} ± {num(r.get('success_std'), 3)}", True), td(num(r.get("progress_mean"), 3), True),
                td(num(r.get("steps_mean"), 1), True), td(num(r.get("tokens_mean"), 0), True), td(cost(as_float(r.get("cost_total"))), True),
            ] + ([td(escape(str(r.get("learning_stop") or "-")))] if learned else []))
        headers = ["method", "task", "episodes", "success (mean ± sd over runs)", "progress", "steps", "tokens/episode", "cost"]
        out.append(table(headers + (["learning stopped"] if learned else []), body))
    for (method, env), eps in episode_groups(run):
        out.append(f'<h3 id="eps-{slug(method)}-{slug(env)}">{escape(method)} on {escape(env)}</h3>')
        out.append(table(["episode", "result", "steps", "learned calls (failed)", "progress", "tokens"], [
            [td(f'<a href="#{_episode_anchor(e)}">{escape(str(e.get("episode_id")))}</a>'),
             td('<span class="tag ok">success</span>' if e.get("success") else f'<span class="tag fail">{escape(str(e.get("stop_reason") or "fail"))}</span>'),
             td(text(e.get("steps", "")), True), td(text(f"{e.get('learned_calls', 0)} ({e.get('failed_learned_calls', 0)})"), True),
             td(num(e.get("progress"), 2), True), td(num(e.get("tokens"), 0), True)] for e in eps]))
        for e in eps:
            out.append(_trajectory(e))
    out.append("</section>")
    return "\n".join(out)


def section_sizes(run: RunData) -> str:
    """Success and progress per size and method (the difficulty ladder): a plot and a table per task."""
    rows = [r for r in size_rows(run) if as_float(r.get("size")) is not None and as_float(r.get("success_mean")) is not None]
    if not several_sizes(rows):
        return ""

    out = ['<section id="sizes"><h2>Success by size</h2>',
           "<p>Size: balls (gripper), blocks (blockworld), wheels (tyreworld), cocktails to serve (barman), read from a "
           "generated instance's name or counted in a benchmark problem. Success is averaged per run first.</p>"]
    for env in sorted({str(r["env"]) for r in rows}):
        series: dict[str, list[SeriesPoint]] = {}
        cells = []
        for r in (r for r in rows if str(r["env"]) == env):
            method, size = str(r["method"]), as_float(r["size"])
            success, sd, progress = as_float(r["success_mean"]), as_float(r.get("success_std")) or 0.0, as_float(r.get("progress_mean")) or 0.0
            tip = f"{method}, size {size:g}: success {success:.2f} ± {sd:.2f}, progress {progress:.2f}, {r.get('episodes', '?')} episodes"
            series.setdefault(method, []).append(SeriesPoint(size, success, tip))
            cells.append([td(escape(method)), td(f"{size:g}", True), td(text(r.get("episodes", "")), True),
                          td(f"{success:.3f} ± {sd:.3f}", True), td(f"{progress:.3f}", True)])
        unit = SIZE_KEY.get(env.partition("/")[2], "size")
        out.append(line_chart(series, title=f"Success against size: {env}", x_label=f"size ({unit})", y_label="success rate",
                              element_id=f"size-plot-{slug(env)}", y_max=1.0))
        out.append(table(["method", "size", "episodes", "success (mean ± sd over runs)", "progress"], cells))
    out.append("</section>")
    return "\n".join(out)


def _trajectory(e: EpisodeRecord) -> str:
    rows = []
    for s in e.get("trajectory") or []:
        trace = s.get("trace") or []
        trace_html = ""
        if trace:
            trace_html = "<details><summary>primitive trace</summary>" + table(["primitive", "observation", "valid"], [
                [td(f"<code>{escape(str(t.get('action')))}</code>"), td(escape(str(t.get("observation", "")))), td("yes" if t.get("valid") else "no")]
                for t in trace]) + "</details>"
        kind = "learned" if s.get("is_learned") else "thought" if s.get("thought") else "primitive"
        status = '<span class="tag ok">ok</span>' if s.get("ok") else f'<span class="tag fail">{escape(str(s.get("error_kind") or "failed"))}</span>'
        rows.append([td(text(s.get("index", "")), True), td(f"<code>{escape(str(s.get('action')))}</code> <span class='tag'>{kind}</span>"),
                     td(status), td(escape(str(s.get("observation", ""))) + trace_html)])
    head = f"{escape(str(e.get('episode_id')))} ({escape(str(e.get('method')))}): {'success' if e.get('success') else 'fail'}, {text(e.get('steps', '?'))} steps"
    body = ""
    if e.get("goal"):
        body += f"<p><b>goal:</b> {escape(str(e['goal']))}</p>"
    if e.get("first_observation"):
        body += f"<details><summary>first observation</summary>{pre(str(e['first_observation']))}</details>"
    body += table(["#", "action", "result", "observation"], rows) if rows else "<p>(no steps recorded)</p>"
    return f'<details class="card" id="{_episode_anchor(e)}"><summary>{head}</summary>{body}</details>'


def section_settings(run: RunData) -> str:
    if not run.config:
        return ""
    return ('<section id="settings"><h2>Settings</h2><details><summary>config.json (everything needed to re-run)</summary>'
            f"{pre(json.dumps(run.config, indent=1, default=str))}</details></section>")


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
