"""Map plot of routes (matplotlib, Agg backend → PNG; or a small self-contained HTML/SVG page)."""

from __future__ import annotations

import html
from pathlib import Path

from kakehashi.apps.routing.instance import RoutingInstance
from kakehashi.apps.routing.solution import RoutingSolution


def plot_routes(instance: RoutingInstance, solution: RoutingSolution, path: str | Path) -> Path:
    """Draw depot, customers and routes; ``.png`` via matplotlib, ``.html`` as inline SVG."""
    out = Path(path)
    coords = instance.coords
    if not coords:
        raise ValueError("the instance has no coordinates to draw")
    if out.suffix.lower() == ".html":
        return _plot_html(instance, solution, out)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 7))
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    ax.scatter(xs[1:], ys[1:], s=12, c="black", zorder=3, label="customers")
    ax.scatter([xs[0]], [ys[0]], s=80, c="red", marker="s", zorder=4, label="depot")
    cmap = plt.get_cmap("tab20")
    for k, r in enumerate(solution.routes):
        path_nodes = [0, *r.nodes, 0]
        ax.plot([xs[v] for v in path_nodes], [ys[v] for v in path_nodes], color=cmap(k % 20), lw=1.4,
                label=f"route {k + 1}: load {r.load}, length {r.length}" if len(solution.routes) <= 12 else None)
    gap = f", gap {100 * solution.gap:.2f}%" if solution.gap is not None else ""
    ax.set_title(f"{solution.instance}: cost {solution.total_cost}{gap} ({solution.backend})")
    ax.set_aspect("equal", adjustable="datalim")
    if len(solution.routes) <= 12:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def _plot_html(instance: RoutingInstance, solution: RoutingSolution, out: Path) -> Path:
    xs = [c[0] for c in instance.coords]
    ys = [c[1] for c in instance.coords]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    scale = 560.0 / max(x1 - x0, y1 - y0, 1e-9)

    def pt(v: int) -> str:
        return f"{20 + (xs[v] - x0) * scale:.1f},{580 - (ys[v] - y0) * scale:.1f}"

    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf"]
    parts = [f'<polyline fill="none" stroke="{colours[k % 10]}" stroke-width="2" '
             f'points="{" ".join(pt(v) for v in [0, *r.nodes, 0])}"/>' for k, r in enumerate(solution.routes)]
    parts += [f'<circle cx="{pt(v).split(",")[0]}" cy="{pt(v).split(",")[1]}" r="3"/>'
              for v in range(1, len(xs))]
    parts.append(f'<rect x="{float(pt(0).split(",")[0]) - 5}" y="{float(pt(0).split(",")[1]) - 5}" '
                 'width="10" height="10" fill="red"/>')
    title = html.escape(f"{solution.instance}: cost {solution.total_cost} ({solution.backend})")
    out.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                   f"<h3>{title}</h3><svg width='600' height='600'>{''.join(parts)}</svg></body></html>")
    return out
