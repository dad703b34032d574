"""One strain-design run: conditions, candidate knockouts, the MILP and/or QUBO route, ranked designs.

:func:`strain_design` is what the CLI, the DBTL loop and the service call: it applies the growth
conditions (``anaerobic``, extra bounds), takes ``min_growth`` as a fraction of the wild type's
maximal growth (default 10%, OptKnock's usual floor), picks the candidates
(:func:`~kakehashi.apps.bio.design.knockout_candidates`) and runs the routes asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kakehashi.apps.bio.design import Design, knockout_candidates, validate_design
from kakehashi.apps.bio.fba import fba, raise_infeasible
from kakehashi.apps.bio.network import MetabolicNetwork
from kakehashi.apps.bio.optknock import RouteResult, optknock, rank
from kakehashi.apps.bio.qubo import qubo_route
from kakehashi.exceptions import ModelError

#: Default growth floor, as a fraction of the wild type's maximal growth.
MIN_GROWTH_FRACTION = 0.1


@dataclass
class StrainDesignRun:
    """Everything one run found: the wild type, the candidates, each route's designs, all ranked."""

    model: str
    product: str
    k: int
    min_growth: float
    wild_type: Design
    candidates: list[str]
    routes: list[RouteResult]
    designs: list[Design] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "product": self.product, "k": self.k, "min_growth": self.min_growth,
                "wild_type": self.wild_type.to_dict(), "candidates": self.candidates,
                "routes": [r.to_dict() for r in self.routes], "designs": [d.to_dict() for d in self.designs]}


def conditions(net: MetabolicNetwork, *, anaerobic: bool = False,
               bounds: Mapping[str, tuple[float, float]] | None = None) -> MetabolicNetwork:
    """The network under the run's conditions (no oxygen uptake, extra (lower, upper) bounds)."""
    out = net.anaerobic() if anaerobic else net
    return out.with_bounds(bounds) if bounds else out


def parse_bounds(items: Sequence[str]) -> dict[str, tuple[float, float]]:
    """``["EX_o2_e=0:1000", ...]`` → ``{"EX_o2_e": (0.0, 1000.0)}``; a bad item is a ModelError."""
    out = {}
    for item in items:
        rid, sep, rng = item.partition("=")
        lo, sep2, hi = rng.partition(":")
        try:
            if not sep or not sep2:
                raise ValueError
            out[rid.strip()] = (float(lo), float(hi))
        except ValueError:
            raise ModelError(f"expected REACTION=LOWER:UPPER, got {item!r}", field="--bound") from None
    return out


def strain_design(net: MetabolicNetwork, product: str, k: int, *, routes: Sequence[str] = ("milp",),
                  min_growth: float | None = None, designs: int = 3, milp_backend: str = "highs",
                  qubo_backend: str = "sa", time_limit: float = 60.0, seed: int | None = 0,
                  candidates: Sequence[str] | None = None) -> StrainDesignRun:
    """Designs of at most ``k`` reaction knockouts that couple ``product`` to growth, ranked."""
    if k < 1:
        raise ModelError(f"the knockout budget must be at least 1, got {k}", field="knockouts")
    net.index(product, field="product")
    wt = fba(net)
    if wt.objective is None:
        raise_infeasible(net)
    assert wt.objective is not None
    floor = MIN_GROWTH_FRACTION * wt.objective if min_growth is None else float(min_growth)
    wild = validate_design(net, (), product, min_growth=floor, route="wild type")
    cand = list(candidates) if candidates is not None else knockout_candidates(net, product, min_growth=floor)
    for rid in cand:
        net.index(rid, field="candidates")
    found: list[RouteResult] = []
    for route in routes:
        if route == "milp":
            found.append(optknock(net, product, cand, k, min_growth=floor, designs=designs, backend=milp_backend,
                                  time_limit=time_limit, seed=seed))
        elif route == "qubo":
            found.append(qubo_route(net, product, cand, k, min_growth=floor, backend=qubo_backend,
                                    time_limit=time_limit, seed=seed))
        else:
            raise ModelError(f"unknown route {route!r}: expected 'milp' or 'qubo'", field="route")
    ranked = rank([d for r in found for d in r.designs])
    return StrainDesignRun(model=net.name, product=product, k=k, min_growth=floor, wild_type=wild,
                           candidates=cand, routes=found, designs=ranked)
