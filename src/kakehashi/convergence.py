"""Convergence charts: best-so-far objective against seconds, one line per leg of a race.

Drawn from :attr:`kakehashi.result.LegOutcome.trajectory` (or :attr:`Result.trajectory` for a
single backend): ``[seconds since solve() started, target energy]`` pairs. For an
unconstrained problem the target energy is the objective (minimising) or its negative
(maximising), so the chart shows the objective itself; for a constrained problem it is the
penalised energy of the compiled target, and the axis says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kakehashi.exceptions import KakehashiError
from kakehashi.result import Result


def curves(result: Result, *, unconstrained: bool) -> dict[str, list[tuple[float, float]]]:
    """Per leg: its best-so-far points ``(seconds, value)``; values in the problem's own sense
    when ``unconstrained`` (objective), else the target's penalised energy."""
    sign = -1.0 if unconstrained and result.sense == "max" else 1.0
    legs = {leg.backend: leg.trajectory for leg in result.legs if leg.trajectory}
    if not legs and result.trajectory:
        legs = {result.provenance.backend or "backend": result.trajectory}
    return {name: [(float(t), sign * float(e)) for t, e in points] for name, points in legs.items()}


def plot_convergence(result: Result, path: str | Path, *, unconstrained: bool, time_limit: float | None = None,
                     title: str | None = None) -> Path:
    """Draw the legs' best-so-far curves into ``path`` (PNG or SVG, by suffix; matplotlib's Agg).

    Each curve is a step line from its first incumbent to the leg's end, a dot marks its time to
    best; the time limit (seconds) and the known optimum are drawn when given.
    Raises:
        KakehashiError: matplotlib missing (``pip install 'kakehashi[apps]'``), or no leg
            reported a trajectory.
    """
    data = curves(result, unconstrained=unconstrained)
    if not data:
        raise KakehashiError(f"{result.problem}: no leg reported incumbents, so there is no convergence to draw "
                             f"(backend {result.provenance.backend or '?'})")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise KakehashiError("plotting needs matplotlib: pip install 'kakehashi[apps]'") from exc
    out = Path(path)
    ends = {leg.backend: leg.solve_seconds for leg in result.legs}
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, points in sorted(data.items()):
        xs = [t for t, _ in points]
        ys = [v for _, v in points]
        end = max(xs[-1], float(ends.get(name) or 0.0), result.timings.total)
        line: Any = ax.step([*xs, end], [*ys, ys[-1]], where="post", lw=1.6, label=f"{name} (best {ys[-1]:.6g})")
        best_at = next(t for t, v in points if v == ys[-1])
        ax.plot([best_at], [ys[-1]], "o", color=line[0].get_color(), ms=5)
    if result.known_optimum is not None and unconstrained:
        ax.axhline(result.known_optimum, color="grey", ls=":", lw=1, label=f"best known {result.known_optimum:.6g}")
    if time_limit is not None:
        ax.axvline(time_limit, color="black", ls="--", lw=0.8, label=f"time limit {time_limit:g} s")
    ax.set_xlabel("seconds since solve() started")
    ax.set_ylabel("objective (best so far)" if unconstrained else "penalised target energy (best so far)")
    ax.set_title(title or f"{result.problem}: convergence ({result.status.value})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
