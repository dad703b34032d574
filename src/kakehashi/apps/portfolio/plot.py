"""Frontier plot: constrained portfolios against the unconstrained efficient frontier (PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kakehashi.apps.portfolio.app import PortfolioSolution
from kakehashi.apps.portfolio.instance import PortfolioInstance


def plot_frontier(instance: PortfolioInstance, solutions: Sequence[PortfolioSolution], path: str | Path) -> Path:
    """Variance (x) against expected return (y) per period; matplotlib Agg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    fig, ax = plt.subplots(figsize=(7, 5))
    if instance.known_frontier:
        ax.plot([v for _, v in instance.known_frontier], [r for r, _ in instance.known_frontier], "k-", lw=1,
                label="unconstrained frontier")
    ax.scatter([s.variance for s in solutions], [s.expected_return for s in solutions], s=18, c="tab:red",
               label=f"K-constrained ({solutions[0].backend if solutions else ''})", zorder=3)
    ax.set_xlabel("variance of return (per period²)")
    ax.set_ylabel("expected return (per period)")
    ax.set_title(instance.name)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
