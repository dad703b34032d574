"""Flux balance analysis compiled to kakehashi Problems: FBA, parsimonious FBA, flux variability.

Every analysis is a linear program over continuous (dimod REAL) flux variables, one per reaction
(labelled by the reaction id), with one equality per metabolite (``S v = 0``, labelled
``"mb:<metabolite>"``) and the reaction bounds as variable bounds; it is solved by ``highs``
through :func:`kakehashi.solve` and evaluated on the original model like any other Problem.

* FBA (Orth, Thiele & Palsson 2010): maximise ``c·v``.
* pFBA (Lewis et al. 2010): with ``c·v >= fraction · (c·v)*``, minimise ``Σ|v_j|`` (auxiliary
  ``("abs", j) >= ±v_j``).
* FVA (Mahadevan & Schilling 2003): with the same growth floor, minimise and maximise each flux.
* :func:`production_range`: at the (knockout) network's growth optimum, the least and the most
  flux through a product reaction: the least is what a design *guarantees* whatever optimum the
  cell picks (the worst case over alternative optima that OptKnock's critics ask for).

Fluxes are in mmol gDW⁻¹ h⁻¹, growth in h⁻¹.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from kakehashi.apps.bio.network import MetabolicNetwork
from kakehashi.model.problem import Problem, Sense

#: Relative slack on "growth at its optimum" (numerical tolerance of the LP, not biology).
GROWTH_TOL = 1e-9
#: Default LP backend.
LP_BACKEND = "highs"


@dataclass
class FluxSolution:
    """One LP answer: objective in the LP's sense (None when there is none), fluxes by reaction."""

    status: str
    objective: float | None
    fluxes: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    backend: str = LP_BACKEND

    @property
    def ok(self) -> bool:
        return self.objective is not None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "objective": self.objective, "fluxes": self.fluxes,
                "seconds": self.seconds, "backend": self.backend}


def flux_model(net: MetabolicNetwork) -> dimod.ConstrainedQuadraticModel:
    """The CQM of ``S v = 0`` with bounds, no objective: the shared body of every flux LP."""
    cqm = dimod.ConstrainedQuadraticModel()
    for j, rid in enumerate(net.reactions):
        cqm.add_variable("REAL", rid, lower_bound=float(net.lower[j]), upper_bound=float(net.upper[j]))
    S = net.S.tocsr()
    for i, met in enumerate(net.metabolites):
        lo, hi = S.indptr[i], S.indptr[i + 1]
        terms = [(net.reactions[int(j)], float(a)) for j, a in zip(S.indices[lo:hi], S.data[lo:hi], strict=True)]
        if terms:
            cqm.add_constraint_from_iterable(terms, "==", 0.0, label=f"mb:{met}")
    return cqm


def _objective(cqm: dimod.ConstrainedQuadraticModel, coefficients: Iterable[tuple[Hashable, float]]) -> None:
    qm = dimod.QuadraticModel()
    for v, b in coefficients:
        qm.add_variable(cqm.vartype(v), v, lower_bound=cqm.lower_bound(v), upper_bound=cqm.upper_bound(v))
        qm.add_linear(v, float(b))
    cqm.set_objective(qm)


def solve_lp(cqm: dimod.ConstrainedQuadraticModel, sense: Sense, name: str, *, backend: str = LP_BACKEND,
             time_limit: float | None = None, keep: Sequence[str] | None = None) -> FluxSolution:
    """Solve one flux LP through :func:`kakehashi.solve`; ``keep``: the variables whose values to return."""
    from kakehashi.result import Status
    from kakehashi.solver import solve

    result = solve(Problem(cqm, name=name, sense=sense, metadata={"domain": "bio"}), backend, time_limit=time_limit)
    ok = result.status in (Status.OPTIMAL, Status.FEASIBLE) and result.feasible and result.sample
    fluxes = {}
    if ok:
        names = keep if keep is not None else [v for v in result.sample if isinstance(v, str)]
        fluxes = {v: float(result.sample[v]) for v in names}
    return FluxSolution(status=result.status.value, objective=float(result.objective) if ok and result.objective
                        is not None else None, fluxes=fluxes, seconds=result.timings.total, backend=backend)


def fba(net: MetabolicNetwork, *, backend: str = LP_BACKEND, time_limit: float | None = None) -> FluxSolution:
    """Maximise ``c·v`` (growth, for a biomass objective) subject to ``S v = 0`` and the bounds."""
    cqm = flux_model(net)
    _objective(cqm, [(net.reactions[j], float(net.c[j])) for j in np.flatnonzero(net.c)])
    return solve_lp(cqm, "max", f"{net.name}-fba", backend=backend, time_limit=time_limit, keep=net.reactions)


def _floor(cqm: dimod.ConstrainedQuadraticModel, net: MetabolicNetwork, optimum: float, fraction: float) -> None:
    """Add ``c·v >= fraction · optimum`` (less a relative tolerance)."""
    rhs = fraction * optimum - GROWTH_TOL * max(1.0, abs(optimum))
    cqm.add_constraint_from_iterable([(net.reactions[j], float(net.c[j])) for j in np.flatnonzero(net.c)],
                                     ">=", rhs, label="objective_floor")


def pfba(net: MetabolicNetwork, *, fraction: float = 1.0, backend: str = LP_BACKEND) -> FluxSolution:
    """Parsimonious FBA: the least total flux ``Σ|v|`` at ``fraction`` of the optimal objective.

    The answer's ``objective`` is that total flux; ``fluxes`` hold the reaction fluxes.
    """
    first = fba(net, backend=backend)
    if first.objective is None:
        return first
    cqm = flux_model(net)
    _floor(cqm, net, first.objective, fraction)
    terms = []
    for j, rid in enumerate(net.reactions):
        bound = float(max(abs(net.lower[j]), abs(net.upper[j])))
        t = ("abs", rid)
        cqm.add_variable("REAL", t, lower_bound=0.0, upper_bound=bound)
        cqm.add_constraint_from_iterable([(t, 1.0), (rid, -1.0)], ">=", 0.0, label=f"abs+:{rid}")
        cqm.add_constraint_from_iterable([(t, 1.0), (rid, 1.0)], ">=", 0.0, label=f"abs-:{rid}")
        terms.append((t, 1.0))
    _objective(cqm, terms)
    return solve_lp(cqm, "min", f"{net.name}-pfba", backend=backend, keep=net.reactions)


def fva(net: MetabolicNetwork, reactions: Sequence[str] | None = None, *, fraction: float = 1.0,
        backend: str = LP_BACKEND) -> dict[str, tuple[float, float]]:
    """Flux variability: (minimum, maximum) of each reaction at ``fraction`` of the optimum (2 LPs each)."""
    first = fba(net, backend=backend)
    if first.objective is None:
        raise_infeasible(net)
    assert first.objective is not None
    names = list(reactions) if reactions is not None else list(net.reactions)
    for rid in names:
        net.index(rid, field="fva")
    cqm = flux_model(net)
    _floor(cqm, net, first.objective, fraction)
    out: dict[str, tuple[float, float]] = {}
    for rid in names:
        _objective(cqm, [(rid, 1.0)])
        lo = solve_lp(cqm, "min", f"{net.name}-fva-min-{rid}", backend=backend, keep=())
        hi = solve_lp(cqm, "max", f"{net.name}-fva-max-{rid}", backend=backend, keep=())
        out[rid] = (float(lo.objective or 0.0), float(hi.objective or 0.0))
    return out


def raise_infeasible(net: MetabolicNetwork) -> None:
    from kakehashi.exceptions import ModelError

    raise ModelError(f"model {net.name} has no feasible flux (check the bounds, e.g. a maintenance demand "
                     "that the uptake cannot meet)", source=net.source or None)


@dataclass
class ProductionRange:
    """Growth optimum of a (knockout) network and the product flux range at that optimum."""

    growth: float | None
    minimum: float | None
    maximum: float | None
    fluxes: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def production_range(net: MetabolicNetwork, product: str, *, backend: str = LP_BACKEND) -> ProductionRange:
    """Maximal growth, then the least and the most ``product`` flux at that growth (3 LPs).

    ``fluxes`` is the flux vector of the least-production optimum (the guaranteed phenotype).
    An infeasible network (for example a knockout that leaves the maintenance ATP demand
    impossible) gives ``growth=None``.
    """
    net.index(product, field="product")
    first = fba(net, backend=backend)
    if first.objective is None:
        return ProductionRange(None, None, None, seconds=first.seconds)
    cqm = flux_model(net)
    _floor(cqm, net, first.objective, 1.0)
    _objective(cqm, [(product, 1.0)])
    lo = solve_lp(cqm, "min", f"{net.name}-prod-min", backend=backend, keep=net.reactions)
    hi = solve_lp(cqm, "max", f"{net.name}-prod-max", backend=backend, keep=())
    return ProductionRange(growth=first.objective, minimum=lo.objective, maximum=hi.objective, fluxes=lo.fluxes,
                           seconds=first.seconds + lo.seconds + hi.seconds)
