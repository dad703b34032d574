"""Strain designs (sets of reaction knockouts) and their validation by flux balance analysis.

A design is judged only by re-running FBA on the network with its knockouts applied
(:func:`validate_design`): the mutant's maximal growth must reach ``min_growth`` (h⁻¹), and its
*guaranteed* production is the least product flux over all growth-optimal flux distributions
(:func:`~kakehashi.apps.bio.fba.production_range`), the worst case over alternative optima. A
design's optimistic production (the most product flux at the growth optimum, what OptKnock's
max–max problem reports) is kept beside it but never ranks it.

:func:`knockout_candidates` restricts the search to reactions worth deleting: not exchanges, not
the objective (biomass), not reactions with a forced flux (ATP maintenance), not the product,
not spontaneous/diffusion reactions (no gene to delete), not transport reactions (unless asked),
and not reactions whose single deletion already drops growth below ``min_growth``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kakehashi.apps.bio.fba import LP_BACKEND, fba, production_range
from kakehashi.apps.bio.network import MetabolicNetwork


@dataclass
class Design:
    """A validated knockout set: growth (h⁻¹), guaranteed and optimistic production (mmol gDW⁻¹ h⁻¹)."""

    knockouts: tuple[str, ...]
    product: str
    growth: float | None
    production: float | None
    production_max: float | None
    min_growth: float
    violations: list[str] = field(default_factory=list)
    route: str = ""
    predicted: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.violations

    @property
    def guaranteed(self) -> float:
        """Guaranteed production, 0 for an invalid design (what ranks designs)."""
        return float(self.production or 0.0) if self.valid else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"knockouts": list(self.knockouts), "product": self.product, "growth": self.growth,
                "production_min": self.production, "production_max": self.production_max,
                "min_growth": self.min_growth, "valid": self.valid, "violations": self.violations,
                "route": self.route, "predicted": self.predicted, "info": self.info}


def validate_design(net: MetabolicNetwork, knockouts: Iterable[str], product: str, *, min_growth: float,
                    route: str = "", predicted: float | None = None, backend: str = LP_BACKEND) -> Design:
    """Re-run FBA with ``knockouts``: growth above ``min_growth``, worst-case production at that growth."""
    kos = tuple(sorted(set(knockouts)))
    rng = production_range(net.knockout(kos), product, backend=backend)
    problems: list[str] = []
    if rng.growth is None:
        problems.append("no feasible flux with these knockouts")
    elif rng.growth < min_growth - 1e-9:
        problems.append(f"growth {rng.growth:.6g} h^-1 below the minimum {min_growth:.6g}")
    elif rng.minimum is None:
        problems.append("the least-production LP at the growth optimum failed")
    return Design(knockouts=kos, product=product, growth=rng.growth, production=rng.minimum,
                  production_max=rng.maximum, min_growth=min_growth, violations=problems, route=route,
                  predicted=predicted)


def knockout_candidates(net: MetabolicNetwork, product: str, *, min_growth: float,
                        include_transport: bool = False, backend: str = LP_BACKEND) -> list[str]:
    """Reactions whose deletion the design routes may choose (rules in the module docstring)."""
    p = net.index(product, field="product")
    objective = set(np.flatnonzero(net.c))
    out = []
    for j, rid in enumerate(net.reactions):
        if (j == p or j in objective or net.exchange[j] or not net.has_genes[j] or net.lower[j] > 0
                or net.upper[j] < 0 or (net.lower[j] == 0 and net.upper[j] == 0)
                or (net.transport[j] and not include_transport)):
            continue
        out.append(rid)
    viable = []
    for rid in out:
        grow = fba(net.knockout([rid]), backend=backend).objective
        if grow is not None and grow >= min_growth:
            viable.append(rid)
    return viable
