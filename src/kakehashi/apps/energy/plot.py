"""Gantt plot of a unit-commitment schedule (on/off bars per unit, stacked dispatch below), PNG."""

from __future__ import annotations

from pathlib import Path

from kakehashi.apps.energy.app import Schedule
from kakehashi.apps.energy.instance import UnitCommitmentInstance


def plot_schedule(inst: UnitCommitmentInstance, sch: Schedule, path: str | Path) -> Path:
    """Top: hours each unit is on (bar label: MW). Bottom: stacked MW by unit, solar, battery vs demand."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(path)
    T = inst.hours
    names = [u.name for u in inst.units]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for k, name in enumerate(names):
        for t in range(T):
            if sch.on.get(name, [0] * T)[t]:
                ax1.barh(k, 1, left=t, color="tab:blue", edgecolor="white")
    ax1.set_yticks(range(len(names)), names)
    ax1.set_title(f"{inst.name}: cost {sch.cost:,.0f} ({sch.backend}, {sch.status})")
    hours = np.arange(T)
    bottom = np.zeros(T)
    for name in names:
        p = np.asarray(sch.power.get(name, [0.0] * T))
        ax2.bar(hours + 0.5, p, width=1.0, bottom=bottom, label=name)
        bottom += p
    ax2.bar(hours + 0.5, sch.solar_used, width=1.0, bottom=bottom, label="solar", color="gold")
    bottom += np.asarray(sch.solar_used)
    if sch.discharge:
        ax2.bar(hours + 0.5, np.asarray(sch.discharge) - np.asarray(sch.charge), width=1.0, bottom=bottom,
                label="battery (net)", color="gray")
    ax2.step(np.arange(T + 1), [*inst.demand, inst.demand[-1]], where="post", color="black", label="demand")
    ax2.set_xlabel("hour")
    ax2.set_ylabel("MW")
    ax2.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
