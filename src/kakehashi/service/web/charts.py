"""Inline SVG charts rendered on the server: convergence lines, bars, a legs timeline.

Hand-written (about a hundred lines) rather than a plotting library: the dashboard must work
offline with no JavaScript, a chart here is a few polylines and rectangles, and matplotlib
(an optional extra) would add seconds of import time to the API process. Every label goes
through :func:`markupsafe.escape`; the returned :class:`markupsafe.Markup` is safe to embed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Series colours (colour-blind safe, Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


@dataclass(frozen=True)
class Series:
    """A named line: ``points`` are (x, y) pairs."""

    name: str
    points: Sequence[tuple[float, float]]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) < 1e-12:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4g}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values (1, 2 or 5 times a power of ten apart) within ``[lo, hi]``."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def line_chart(
    series: Sequence[Series], *, title: str, x_label: str, y_label: str, width: int = 640, height: int = 280
) -> Markup:
    """Best-so-far step lines (one per series) on shared axes; an empty chart says so."""
    pts = [p for s in series for p in s.points if math.isfinite(p[0]) and math.isfinite(p[1])]
    if not pts:
        return Markup('<p class="empty">No incumbents were reported for this job.</p>')
    left, right, top, bottom = 70, 150, 24, 40
    x0, x1 = 0.0, max(max(p[0] for p in pts), 1e-3)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + pw * (x - x0) / (x1 - x0)

    def sy(y: float) -> float:
        return top + ph * (1 - (y - y0) / (y1 - y0))

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
    ]
    for t in _ticks(x0, x1):
        out.append(
            f'<text x="{sx(t):.1f}" y="{top + ph + 16}" text-anchor="middle" class="tick">{_fmt(t)}</text>'
        )
    for t in _ticks(y0, y1):
        out.append(
            f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" text-anchor="end" class="tick">{_fmt(t)}</text>'
        )
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" class="grid"/>')
    out.append(
        f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle" class="axis">{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="14" y="{top + ph / 2}" text-anchor="middle" class="axis"'
        f' transform="rotate(-90 14 {top + ph / 2})">{escape(y_label)}</text>'
    )
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        good = sorted(p for p in s.points if math.isfinite(p[0]) and math.isfinite(p[1]))
        if good:
            steps: list[str] = []
            for j, (x, y) in enumerate(good):
                if j:
                    steps.append(f"{sx(x):.1f},{sy(good[j - 1][1]):.1f}")
                steps.append(f"{sx(x):.1f},{sy(y):.1f}")
            steps.append(f"{sx(x1):.1f},{sy(good[-1][1]):.1f}")
            out.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(steps)}"'
                f' data-series="{escape(s.name)}"/>'
            )
            for x, y in good:
                out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}"/>')
        ly = top + 14 + 18 * i
        out.append(f'<rect x="{left + pw + 12}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{left + pw + 30}" y="{ly + 1}" class="legend">{escape(s.name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(
    bars: Sequence[tuple[str, float]], *, title: str, unit: str, width: int = 640, bar_height: int = 22
) -> Markup:
    """Horizontal bars, one per (label, value), each labelled with its value and ``unit``."""
    if not bars:
        return Markup('<p class="empty">Nothing metered yet.</p>')
    left, right, top = 190, 110, 8
    height = top * 2 + bar_height * len(bars)
    hi = max((v for _, v in bars), default=0.0) or 1.0
    pw = width - left - right
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(bars):
        y = top + i * bar_height
        w = max(1.0, pw * value / hi) if value > 0 else 0.0
        out.append(
            f'<text x="{left - 8}" y="{y + bar_height * 0.65:.1f}" text-anchor="end" class="tick">'
            f"{escape(label)}</text>"
        )
        out.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_height - 6}"'
            f' fill="{PALETTE[0]}"><title>{escape(label)}: {_fmt(value)} {escape(unit)}</title></rect>'
        )
        out.append(
            f'<text x="{left + w + 6:.1f}" y="{y + bar_height * 0.65:.1f}" class="tick">'
            f"{_fmt(value)} {escape(unit)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True)
class Span:
    """One leg of a race on the timeline: start-up then solve, in seconds from the solve's start."""

    name: str
    startup: float
    solve: float
    outcome: str


def timeline(spans: Sequence[Span], *, title: str, width: int = 640, row: int = 26) -> Markup:
    """The race as a Gantt chart: each leg's start-up (light) and solve (dark) seconds."""
    if not spans:
        return Markup('<p class="empty">No legs recorded.</p>')
    left, right, top = 110, 150, 6
    height = top * 2 + row * len(spans) + 18
    hi = max(s.startup + s.solve for s in spans) or 1.0
    pw = width - left - right
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, s in enumerate(spans):
        y = top + i * row
        a = pw * s.startup / hi
        b = max(1.0, pw * s.solve / hi)
        out.append(
            f'<text x="{left - 8}" y="{y + row * 0.65:.1f}" text-anchor="end" class="tick">{escape(s.name)}</text>'
        )
        out.append(f'<rect x="{left}" y="{y + 4}" width="{a:.1f}" height="{row - 8}" fill="#bbb"/>')
        out.append(
            f'<rect x="{left + a:.1f}" y="{y + 4}" width="{b:.1f}" height="{row - 8}"'
            f' fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(s.name)}: {_fmt(s.solve)} s</title></rect>'
        )
        out.append(
            f'<text x="{left + a + b + 6:.1f}" y="{y + row * 0.65:.1f}" class="tick">'
            f"{_fmt(s.solve)} s, {escape(s.outcome)}</text>"
        )
    out.append(
        f'<text x="{left}" y="{height - 4}" class="axis">seconds from the start of solve()'
        " (grey: start-up)</text></svg>"
    )
    return Markup("".join(out))


def route_map(
    coords: Sequence[Sequence[float]], routes: Sequence[Sequence[int]], *, title: str, size: int = 420
) -> Markup:
    """Vehicle routes on the plane: nodes as dots (the depot, node 0, as a square), each route a
    closed polyline depot → customers → depot in its own colour."""
    if len(coords) < 2:
        return Markup('<p class="empty">The instance has no coordinates to draw.</p>')
    xs, ys = [float(c[0]) for c in coords], [float(c[1]) for c in coords]
    pad = 14
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0

    def p(i: int) -> str:
        x = pad + (size - 2 * pad) * (xs[i] - min(xs)) / span
        y = size - pad - (size - 2 * pad) * (ys[i] - min(ys)) / span
        return f"{x:.1f},{y:.1f}"

    out = [
        f'<svg class="chart map" viewBox="0 0 {size} {size}" role="img" aria-label="{escape(title)}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for k, route in enumerate(routes):
        pts = " ".join(p(i) for i in [0, *route, 0] if 0 <= i < len(coords))
        out.append(
            f'<polyline fill="none" stroke="{PALETTE[k % len(PALETTE)]}" stroke-width="1.5" points="{pts}"/>'
        )
    for i in range(1, len(coords)):
        x, y = p(i).split(",")
        out.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="#333"/>')
    x0, y0 = (float(v) for v in p(0).split(","))
    out.append(f'<rect x="{x0 - 5:.1f}" y="{y0 - 5:.1f}" width="10" height="10" fill="#D55E00"/></svg>')
    return Markup("".join(out))


def gantt(on: dict[str, Sequence[int]], *, title: str, width: int = 640, row: int = 20) -> Markup:
    """Unit commitment as a Gantt chart: one row per unit, a filled cell per period it is on."""
    if not on:
        return Markup('<p class="empty">No schedule.</p>')
    periods = max(len(v) for v in on.values()) or 1
    left, top = 110, 6
    cell = (width - left - 10) / periods
    height = top * 2 + row * len(on) + 16
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for r, (unit, states) in enumerate(on.items()):
        y = top + r * row
        out.append(
            f'<text x="{left - 8}" y="{y + row * 0.7:.1f}" text-anchor="end" class="tick">{escape(unit)}</text>'
        )
        for t, state in enumerate(states):
            if state:
                out.append(
                    f'<rect x="{left + t * cell:.1f}" y="{y + 3}" width="{max(cell - 1, 1):.1f}"'
                    f' height="{row - 6}" fill="{PALETTE[r % len(PALETTE)]}"/>'
                )
    out.append(
        f'<text x="{left}" y="{height - 3}" class="axis">periods 1 to {periods} (filled: unit on)</text>'
    )
    out.append("</svg>")
    return Markup("".join(out))
