"""Small inline-SVG charts, generated in Python so the report needs no JavaScript library or CDN.

Hover text uses SVG ``<title>`` elements, which every browser shows natively.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

ORIGIN_COLORS = {"create": "#3b6fb6", "update": "#2e9a5a", "plan": "#c47f17", "kept": "#888888"}
OTHER_COLOR = "#7a5bb0"
BEST_COLOR = "#d0342c"


@dataclass(frozen=True)
class Point:
    """One candidate in one round."""

    round: int
    value: float
    label: str  # candidate id
    origin: str  # create | update | plan | kept (the previous best re-entered)
    is_round_best: bool
    is_overall_best: bool
    tooltip: str
    href: str | None = None


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10**exponent
        if top >= value - 1e-12:
            return top
    return 10 ** (exponent + 1)


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"


def _frame(
    css: str, element_id: str, title: str, width: int, height: int, left: int, plot_w: int, top_value: float, y_of
) -> list[str]:
    """The opening of a plot: the svg element, its title, and six horizontal grid lines with their values."""
    out = [
        f'<svg id="{escape(element_id)}" class="{css}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="20" class="plot-title">{escape(title)}</text>',
    ]
    for i in range(6):
        v = top_value * i / 5
        y = y_of(v)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_fmt(v)}</text>')
    return out


def learning_curve(
    points: Sequence[Point],
    *,
    title: str,
    y_label: str,
    element_id: str,
    best_line: Sequence[tuple[int, float]] = (),
    y_max: float | None = None,
) -> str:
    """Every candidate as a dot per round (spread sideways so they do not overlap), the best of
    each round ringed, the overall best as a star, and the best-so-far as a step line."""
    width, height = 580, 300
    left, right, top, bottom = 56, 118, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    rounds = sorted({p.round for p in points} | {r for r, _ in best_line}) or [0]
    r_min, r_max = rounds[0], rounds[-1]
    top_value = (
        y_max if y_max is not None else _nice_max(max([p.value for p in points] + [v for _, v in best_line] + [0.0]))
    )

    # Candidates of one round are spread sideways around the round's x; the padding keeps the
    # outermost ones inside the frame.
    spread = min(44.0, plot_w / max(1, len(rounds)) * 0.5)
    pad = spread / 2 + 12

    def x_of(rnd: float) -> float:
        if r_max == r_min:
            return left + plot_w / 2
        return left + pad + (rnd - r_min) / (r_max - r_min) * (plot_w - 2 * pad)

    def y_of(v: float) -> float:
        return top + plot_h - (max(0.0, v) / top_value) * plot_h

    out = _frame("plot", element_id, title, width, height, left, plot_w, top_value, y_of)
    for rnd in rounds:
        out.append(f'<text x="{x_of(rnd):.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">{rnd}</text>')
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="axis-label">round</text>'
    )
    out.append(
        f'<text transform="translate(14,{top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" class="axis-label">{escape(y_label)}</text>'
    )
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="frame"/>')
    if best_line:
        ordered = sorted(best_line)
        path = [f"M{x_of(ordered[0][0]):.1f} {y_of(ordered[0][1]):.1f}"]
        path += [f"H{x_of(rnd):.1f} V{y_of(v):.1f}" for rnd, v in ordered[1:]]  # a step: the best changes at a round
        out.append(f'<path d="{" ".join(path)}" class="best-line"><title>best so far</title></path>')
    by_round: dict[int, list[Point]] = {}
    for p in points:
        by_round.setdefault(p.round, []).append(p)
    for rnd, group in sorted(by_round.items()):
        for i, p in enumerate(group):
            dx = 0.0 if len(group) == 1 else (i / (len(group) - 1) - 0.5) * spread
            out.append(_candidate_mark(p, x_of(rnd) + dx, y_of(p.value)))
    out += _learning_legend(left + plot_w + 14, top + 6, bool(best_line))
    out.append("</svg>")
    return "\n".join(out)


def _candidate_mark(p: Point, x: float, y: float) -> str:
    """One candidate's dot (a star for the overall best, a ring around the best of its round), linked and titled."""
    mark = [f"<title>{escape(p.tooltip)}</title>"]
    if p.is_overall_best:
        star = _star(x, y, 9)
        mark.append(f'<polygon points="{star}" fill="{BEST_COLOR}" class="best-star"/>')
    else:
        color = ORIGIN_COLORS.get(p.origin, OTHER_COLOR)
        mark.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{color}" class="point"/>')
        if p.is_round_best:
            mark.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8.5" fill="none" stroke="{BEST_COLOR}" stroke-width="1.8"/>'
            )
    body = "".join(mark)
    if p.href:
        body = f'<a href="{escape(p.href)}">{body}</a>'
    return f'<g class="candidate" data-candidate="{escape(p.label)}">{body}</g>'


def _learning_legend(lx: float, ly: float, best_line: bool) -> list[str]:
    """The learning curve's legend at (lx, ly): the origins' colours, the round's best, the overall best."""
    out = []
    legend = [(c, o) for o, c in ORIGIN_COLORS.items()]
    for i, (color, name) in enumerate(legend):
        out.append(f'<circle cx="{lx + 5}" cy="{ly + i * 18}" r="5" fill="{color}"/>')
        out.append(f'<text x="{lx + 15}" y="{ly + i * 18 + 4}" class="legend">{escape(name)}</text>')
    y0 = ly + len(legend) * 18
    out.append(f'<circle cx="{lx + 5}" cy="{y0}" r="8" fill="none" stroke="{BEST_COLOR}" stroke-width="1.8"/>')
    out.append(f'<text x="{lx + 15}" y="{y0 + 4}" class="legend">best of round</text>')
    out.append(f'<polygon points="{_star(lx + 5, y0 + 20, 8)}" fill="{BEST_COLOR}"/>')
    out.append(f'<text x="{lx + 15}" y="{y0 + 24}" class="legend">best overall</text>')
    if best_line:
        out.append(f'<line x1="{lx}" x2="{lx + 11}" y1="{y0 + 42}" y2="{y0 + 42}" class="best-line"/>')
        out.append(f'<text x="{lx + 15}" y="{y0 + 46}" class="legend">best so far</text>')
    return out


def _star(cx: float, cy: float, r: float) -> str:
    pts = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        pts.append(f"{cx + radius * math.cos(angle):.1f},{cy + radius * math.sin(angle):.1f}")
    return " ".join(pts)


def bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, unit: str, element_id: str, secondary: Sequence[str] = ()
) -> str:
    """Horizontal bars (labels can be long node names). ``secondary`` adds a note after each value."""
    row_h, left, right, top = 22, 170, 150, 30
    width = 640
    height = top + row_h * max(1, len(items)) + 12
    plot_w = width - left - right
    top_value = _nice_max(max([v for _, v in items] + [0.0]))
    out = [
        f'<svg id="{escape(element_id)}" class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="8" y="20" class="plot-title">{escape(title)}</text>',
    ]
    if not items:
        out.append(f'<text x="{left}" y="{top + 14}" class="tick">no data</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        w = (value / top_value) * plot_w if top_value else 0
        note = f" {secondary[i]}" if i < len(secondary) and secondary[i] else ""
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" class="tick">{escape(label)}</text>')
        out.append(
            f'<rect x="{left}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 7}" class="bar">'
            f"<title>{escape(label)}: {value:,.0f} {escape(unit)}{escape(note)}</title></rect>"
        )
        out.append(
            f'<text x="{left + w + 5:.1f}" y="{y + 14}" class="tick">{value:,.0f} {escape(unit)}{escape(note)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


SERIES_COLORS = ("#3b6fb6", "#d0342c", "#2e9a5a", "#c47f17", "#7a5bb0", "#1b9aaa", "#5a5a5a", "#b5487a")


@dataclass(frozen=True)
class SeriesPoint:
    """One point of a line chart; ``tooltip`` is shown on hover."""

    x: float
    y: float
    tooltip: str = ""


def line_chart(
    series: dict[str, Sequence[SeriesPoint]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    element_id: str,
    y_max: float | None = None,
) -> str:
    """One line per series (e.g. success against size, a line per method), the x values as ticks,
    a legend on the right. Names and tooltips are escaped."""
    width, height = 580, 300
    left, right, top, bottom = 56, 140, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = sorted({p.x for pts in series.values() for p in pts}) or [0.0]
    top_value = y_max if y_max is not None else _nice_max(max([p.y for pts in series.values() for p in pts] + [0.0]))
    pad = 16

    def x_of(x: float) -> float:
        if xs[-1] == xs[0]:
            return left + plot_w / 2
        return left + pad + (x - xs[0]) / (xs[-1] - xs[0]) * (plot_w - 2 * pad)

    def y_of(v: float) -> float:
        return top + plot_h - (min(max(0.0, v), top_value) / top_value) * plot_h

    out = _frame("plot line-chart", element_id, title, width, height, left, plot_w, top_value, y_of)
    for x in xs:
        out.append(
            f'<text x="{x_of(x):.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">{_fmt(x)}</text>'
        )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="axis-label">{escape(x_label)}</text>'
    )
    out.append(
        f'<text transform="translate(14,{top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" class="axis-label">{escape(y_label)}</text>'
    )
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="frame"/>')
    for i, (name, points) in enumerate(series.items()):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        ordered = sorted(points, key=lambda p: p.x)
        body = []
        if len(ordered) > 1:
            d = " ".join(f"{'M' if j == 0 else 'L'}{x_of(p.x):.1f} {y_of(p.y):.1f}" for j, p in enumerate(ordered))
            body.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for p in ordered:
            tip = p.tooltip or f"{name}: {_fmt(p.y)} at {_fmt(p.x)}"
            body.append(
                f'<circle cx="{x_of(p.x):.1f}" cy="{y_of(p.y):.1f}" r="4" fill="{color}"><title>{escape(tip)}</title></circle>'
            )
        out.append(f'<g class="series" data-series="{escape(name)}">{"".join(body)}</g>')
        ly = top + 6 + i * 18
        out.append(
            f'<line x1="{left + plot_w + 14}" x2="{left + plot_w + 30}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"/>'
        )
        out.append(f'<text x="{left + plot_w + 35}" y="{ly + 4}" class="legend">{escape(name)}</text>')
    if not any(series.values()):
        out.append(f'<text x="{left + 8}" y="{top + 18}" class="tick">no data</text>')
    out.append("</svg>")
    return "\n".join(out)
