"""The report's HTML pieces: its stylesheet and script, and escaping cells, tables, code and diffs."""

from __future__ import annotations

import difflib
import re
from html import escape
from typing import Any

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


def num(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return escape(str(value))
    return f"{v:,.0f}" if v.is_integer() and abs(v) >= 100 else f"{v:,.{digits}f}"


def cost(value: Any) -> str:
    if value is None:
        return "n/a"
    try:
        return f"${float(value):.4f}"
    except (TypeError, ValueError):
        return escape(str(value))


def pre(text: str, cls: str = "") -> str:
    return f'<pre class="{cls}">{escape(text)}</pre>' if text else ""


def render_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""))
    if not lines:
        return '<p class="nodiff">no code change</p>'
    out = []
    for line in lines:
        cls = (
            "hunk"
            if line.startswith("@@")
            else "add"
            if line.startswith("+")
            else "del"
            if line.startswith("-")
            else ""
        )
        out.append(f'<span class="{cls}">{escape(line)}</span>' if cls else escape(line))
    return '<pre class="diff">' + "\n".join(out) + "</pre>"


def table(headers: list[str], rows: list[list[str]], row_classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers) if any(headers) else ""
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(row) + "</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def td(value: Any, numeric: bool = False) -> str:
    """A cell around ``value``, which is HTML already: pass raw values from run files through :func:`text`."""
    return f'<td class="num">{value}</td>' if numeric else f"<td>{value}</td>"


def text(value: Any) -> str:
    """A value read from a run file, as HTML text: counts and steps too, since a file may hold any string there."""
    return escape(str(value))
