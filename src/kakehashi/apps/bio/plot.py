"""PNG plots: the designs of a strain-design run (bars), and production per DBTL round."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kakehashi.apps.bio.design import Design


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_designs(designs: Sequence[Design], wild_type: Design, path: str | Path, *, title: str = "",
                 top: int = 10) -> Path:
    """Guaranteed (solid) and optimistic (outline) production of the ``top`` designs, growth on a second axis."""
    plt = _plt()
    rows = [wild_type, *designs[:top]]
    labels = ["wild type" if not d.knockouts else "Δ" + " Δ".join(d.knockouts) for d in rows]
    fig, ax = plt.subplots(figsize=(min(14.0, max(6.0, 1.1 * len(rows))), 5.2))
    x = range(len(rows))
    ax.bar(x, [d.production_max or 0.0 for d in rows], color="none", edgecolor="tab:blue", label="most at growth optimum")
    ax.bar(x, [d.guaranteed for d in rows], color="tab:blue", label="guaranteed (worst case)")
    ax.set_ylabel(f"{rows[0].product} flux (mmol gDW⁻¹ h⁻¹)")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(list(x), [d.growth or 0.0 for d in rows], "o", color="tab:green", label="growth")
    ax2.axhline(rows[0].min_growth, color="tab:green", ls=":", lw=1)
    ax2.set_ylabel("growth (h⁻¹)", color="tab:green")
    ax2.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_rounds(rounds: Sequence[dict[str, Any]], path: str | Path, *, title: str = "") -> Path:
    """Measured production of every strain per DBTL round (dots) and the best so far (line)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    best = []
    top = float("-inf")
    for r in rounds:
        vals = [m["measured"] for m in r["measurements"]]
        ax.scatter([r["round"]] * len(vals), vals, s=16, color="tab:blue", alpha=0.6)
        top = max([top, *vals])
        best.append(top)
    ax.plot([r["round"] for r in rounds], best, "-o", color="tab:red", label="best so far")
    ax.set_xlabel("DBTL round")
    ax.set_ylabel("measured production (mmol gDW⁻¹ h⁻¹)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
