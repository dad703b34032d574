"""A small inline-SVG line/point plotter for reports (no plotting dependency, no network).

:func:`plot` draws series of points (optionally with vertical error bars, optionally as steps)
on linear or log-10 axes and returns an ``<svg>`` string; every label is XML-escaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


@dataclass
class Series:
    """One line: points ``(x, y)``; ``errors`` ``(low, high)`` per point (or None)."""

    name: str
    points: list[tuple[float, float]]
    errors: list[tuple[float, float] | None] = field(default_factory=list)
    step: bool = False
    dashed: bool = False
    color: str = ""


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log and hi / lo < 10:
        log = False  # under a decade, evenly spaced ticks read better (positions stay logarithmic)
    if log:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        ticks = [10.0**k for k in range(a, b + 1)]
        if len(ticks) <= 2:
            ticks = sorted({t * m for t in ticks for m in (1, 2, 5)})
        return [t for t in ticks if lo * 0.999 <= t <= hi * 1.001] or [lo, hi]
    span = hi - lo
    raw = span / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    out, t = [], start
    while t <= hi + 1e-9 * span:
        out.append(round(t, 12))
        t += step
    return out


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:.6g}"


def plot(series: list[Series], *, title: str, xlabel: str, ylabel: str, logx: bool = False,
         logy: bool = False, width: int = 460, height: int = 300, ylim: tuple[float, float] | None = None) -> str:
    """An SVG chart of ``series`` (empty series are skipped; an empty chart says 'no data')."""
    left, right, top, bottom = 62, 120, 28, 44
    pw, ph = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s.points if not logx or x > 0]
    ys = [y for s in series for _, y in s.points if not logy or y > 0]
    ys += [v for s in series for e in s.errors if e for v in e if math.isfinite(v) and (not logy or v > 0)]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>')
    if not xs or not ys:
        return head + f'<text x="{left + 20}" y="{top + ph / 2}" font-size="12">no data</text></svg>'
    x0, x1 = min(xs), max(xs)
    y0, y1 = ylim if ylim else (min(ys), max(ys))
    if x0 == x1:
        x0, x1 = (x0 / 2, x1 * 2) if logx else (x0 - 1, x1 + 1)
    if y0 == y1:
        y0, y1 = (y0 / 2, y1 * 2) if logy else (y0 - 1, y1 + 1)
    if not ylim and not logy:
        pad = 0.05 * (y1 - y0)
        y0, y1 = y0 - pad, y1 + pad

    def fx(x: float) -> float:
        t = (math.log10(x) - math.log10(x0)) / (math.log10(x1) - math.log10(x0)) if logx else (x - x0) / (x1 - x0)
        return left + t * pw

    def fy(y: float) -> float:
        y = min(max(y, y0), y1)
        t = (math.log10(y) - math.log10(y0)) / (math.log10(y1) - math.log10(y0)) if logy else (y - y0) / (y1 - y0)
        return top + ph - t * ph

    parts = [head, f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for t in _ticks(x0, x1, logx):
        X = fx(t)
        parts.append(f'<line x1="{X:.1f}" y1="{top}" x2="{X:.1f}" y2="{top + ph}" stroke="#eee"/>'
                     f'<text x="{X:.1f}" y="{top + ph + 14}" font-size="10" text-anchor="middle">{_fmt(t)}</text>')
    for t in _ticks(y0, y1, logy):
        Y = fy(t)
        parts.append(f'<line x1="{left}" y1="{Y:.1f}" x2="{left + pw}" y2="{Y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{Y + 3:.1f}" font-size="10" text-anchor="end">{_fmt(t)}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 8}" font-size="11" text-anchor="middle">{escape(xlabel)}</text>'
                 f'<text x="14" y="{top + ph / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + ph / 2})">{escape(ylabel)}</text>')
    legend = 0
    for k, s in enumerate(series):
        color = s.color or PALETTE[k % len(PALETTE)]
        pts = [(x, y) for x, y in s.points if (not logx or x > 0) and (not logy or y > 0)]
        if not pts:
            continue
        coords: list[tuple[float, float]] = []
        for x, y in pts:
            if s.step and coords:
                coords.append((fx(x), coords[-1][1]))
            coords.append((fx(x), fy(y)))
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in coords)
        dash = ' stroke-dasharray="5,4"' if s.dashed else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}>'
                     f'<title>{escape(s.name)}</title></polyline>')
        if not s.step:
            for x, y in pts:
                parts.append(f'<circle cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="3" fill="{color}"/>')
        for (x, _), e in zip(s.points, s.errors, strict=False):
            if e is None or (logx and x <= 0):
                continue
            lo, hi = e
            lo = lo if math.isfinite(lo) else y1
            hi = hi if math.isfinite(hi) else y1
            X = fx(x)
            parts.append(f'<line x1="{X:.1f}" y1="{fy(lo):.1f}" x2="{X:.1f}" y2="{fy(hi):.1f}" stroke="{color}"/>'
                         f'<line x1="{X - 3:.1f}" y1="{fy(lo):.1f}" x2="{X + 3:.1f}" y2="{fy(lo):.1f}" stroke="{color}"/>'
                         f'<line x1="{X - 3:.1f}" y1="{fy(hi):.1f}" x2="{X + 3:.1f}" y2="{fy(hi):.1f}" stroke="{color}"/>')
        if not s.name:
            continue
        ly = top + 10 + 16 * legend
        legend += 1
        parts.append(f'<line x1="{left + pw + 8}" y1="{ly}" x2="{left + pw + 24}" y2="{ly}" stroke="{color}" '
                     f'stroke-width="2"{dash}/><text x="{left + pw + 28}" y="{ly + 4}" font-size="11">'
                     f'{escape(s.name[:14])}</text>')
    parts.append("</svg>")
    return "".join(parts)
