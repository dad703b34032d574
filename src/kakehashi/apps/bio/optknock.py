"""OptKnock (Burgard, Pharkya & Maranas 2003) as one MILP through LP duality.

Bilevel problem: choose knockouts ``y`` (``y_j = 1``: reaction j deleted, ``Σ y <= k``) to
maximise the product flux ``v_P``, where the cell answers with fluxes ``v`` that maximise its own
objective (growth) on the knockout network::

    max_y  v_P   s.t.  v ∈ argmax { c·v : S v = 0,  l_j (1 - y_j) <= v_j <= u_j (1 - y_j) }

The inner LP has the dual ``min u·α - l·β  s.t.  Sᵀλ + α - β = c,  α, β >= 0``. For a deleted
reaction the column's bounds are 0, so its dual row is free: a slack ``s_j`` with
``|s_j| <= M y_j`` stands for ``α_j - β_j`` and ``α_j, β_j <= M (1 - y_j)``. Optimality of ``v``
for the inner LP is then one linear row, strong duality ``c·v >= u·α - l·β`` (weak duality gives
``<=``). Bounding the duals by ``M`` never admits a non-optimal ``v`` (every bounded dual point is
still dual feasible, so ``c·v`` still reaches the inner optimum); a too small ``M`` can only hide
designs whose duals need more.

Worst case instead of OptKnock's optimism: the inner objective is tilted,
``c = e_growth - δ e_P`` (δ = :data:`TILT`), so among growth-optimal fluxes the cell is assumed to
make the *least* product. Since a unit of product costs at most ~1/δ units of growth only at
slopes no E. coli core envelope has, the inner optimum stays at maximal growth and the MILP's
``v_P`` is the guaranteed production; every design is still validated exactly by FBA.

Variables: REAL ``("v", rxn)``, ``("lam", met)``, ``("a", rxn)``, ``("b", rxn)``, ``("s", rxn)``;
BINARY ``("y", rxn)`` for the knockout candidates only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import dimod
import numpy as np

from kakehashi.apps.bio.design import Design, validate_design
from kakehashi.apps.bio.network import MetabolicNetwork
from kakehashi.model.problem import Problem

#: Bound on every dual variable (shadow prices and reduced costs, objective units per flux unit).
DUAL_BOUND = 100.0
#: Tilt of the inner objective towards the least product (growth units per product unit).
#: Measured on E. coli core succinate, k = 3: 1e-3 let the inner LP leave the growth optimum
#: (the envelope's lower edge falls ~1000 product units per growth unit near it) and missed
#: the 9.78 design; 1e-4 finds it.
TILT = 1e-4
#: The MILP caps every flux bound at ±BOUND_CAP (mmol gDW⁻¹ h⁻¹). COBRA's ±1000 "unbounded" bounds
#: enter the strong-duality row multiplied by duals up to DUAL_BOUND; at that scale HiGHS's
#: solutions violated the row by more than kakehashi's 1e-6 tolerance and proposed designs that
#: validated at zero production. No E. coli core exchange flux comes near 100 on 10 glucose;
#: only internal loops are cut, and every design is validated on the uncapped network.
BOUND_CAP = 100.0
#: HiGHS tolerances for the MILP (its defaults, 1e-7 and 1e-6, are too loose for big-M rows).
HIGHS_TOLERANCES = {"primal_feasibility_tolerance": 1e-9, "mip_feasibility_tolerance": 1e-9}
#: Objective penalty per knockout, so that deletions that change nothing are not made.
KNOCKOUT_COST = 1e-4


def optknock_problem(net: MetabolicNetwork, product: str, candidates: Sequence[str], k: int, *,
                     min_growth: float, dual_bound: float = DUAL_BOUND, tilt: float = TILT,
                     exclude: Sequence[Sequence[str]] = ()) -> Problem:
    """The single-level OptKnock MILP (module docstring); ``exclude``: knockout sets cut off."""
    p = net.index(product, field="product")
    net = replace(net, lower=np.clip(net.lower, -BOUND_CAP, BOUND_CAP), upper=np.clip(net.upper, -BOUND_CAP, BOUND_CAP))
    cand = set(candidates)
    for rid in cand:
        net.index(rid, field="candidates")
    c = net.c.astype(float).copy()
    c[p] -= tilt
    growth_cols = np.flatnonzero(net.c)
    cqm = dimod.ConstrainedQuadraticModel()
    V = [("v", r) for r in net.reactions]
    for j, r in enumerate(net.reactions):
        cqm.add_variable("REAL", V[j], lower_bound=float(net.lower[j]), upper_bound=float(net.upper[j]))
        cqm.add_variable("REAL", ("a", r), lower_bound=0.0, upper_bound=dual_bound)
        cqm.add_variable("REAL", ("b", r), lower_bound=0.0, upper_bound=dual_bound)
    for met in net.metabolites:
        cqm.add_variable("REAL", ("lam", met), lower_bound=-dual_bound, upper_bound=dual_bound)
    for r in candidates:
        cqm.add_variable("BINARY", ("y", r))
        cqm.add_variable("REAL", ("s", r), lower_bound=-dual_bound, upper_bound=dual_bound)
    S = net.S.tocsr()
    for i, met in enumerate(net.metabolites):
        lo, hi = S.indptr[i], S.indptr[i + 1]
        terms = [(V[int(j)], float(a)) for j, a in zip(S.indices[lo:hi], S.data[lo:hi], strict=True)]
        if terms:
            cqm.add_constraint_from_iterable(terms, "==", 0.0, label=f"mb:{met}")
    ST = S.T.tocsr()
    for j, r in enumerate(net.reactions):
        lo, hi = ST.indptr[j], ST.indptr[j + 1]
        terms = [(("lam", net.metabolites[int(i)]), float(a)) for i, a in zip(ST.indices[lo:hi], ST.data[lo:hi],
                                                                              strict=True)]
        terms += [(("a", r), 1.0), (("b", r), -1.0)]
        if r in cand:
            terms.append((("s", r), 1.0))
        cqm.add_constraint_from_iterable(terms, "==", float(c[j]), label=f"dual:{r}")
        if r in cand:
            y = ("y", r)
            u, low = float(net.upper[j]), float(net.lower[j])
            cqm.add_constraint_from_iterable([(V[j], 1.0), (y, u)], "<=", u, label=f"ko_ub:{r}")
            cqm.add_constraint_from_iterable([(V[j], 1.0), (y, low)], ">=", low, label=f"ko_lb:{r}")
            cqm.add_constraint_from_iterable([(("a", r), 1.0), (y, dual_bound)], "<=", dual_bound, label=f"a_off:{r}")
            cqm.add_constraint_from_iterable([(("b", r), 1.0), (y, dual_bound)], "<=", dual_bound, label=f"b_off:{r}")
            cqm.add_constraint_from_iterable([(("s", r), 1.0), (y, -dual_bound)], "<=", 0.0, label=f"s_on+:{r}")
            cqm.add_constraint_from_iterable([(("s", r), 1.0), (y, dual_bound)], ">=", 0.0, label=f"s_on-:{r}")
    duality = [(V[j], float(c[j])) for j in np.flatnonzero(c)]
    duality += [(("a", r), -float(net.upper[j])) for j, r in enumerate(net.reactions) if net.upper[j] != 0]
    duality += [(("b", r), float(net.lower[j])) for j, r in enumerate(net.reactions) if net.lower[j] != 0]
    cqm.add_constraint_from_iterable(duality, ">=", 0.0, label="strong_duality")
    cqm.add_constraint_from_iterable([(("y", r), 1.0) for r in candidates], "<=", float(k), label="budget")
    cqm.add_constraint_from_iterable([(V[j], float(net.c[j])) for j in growth_cols], ">=", float(min_growth),
                                     label="min_growth")
    for n, ko in enumerate(exclude):
        cqm.add_constraint_from_iterable([(("y", r), 1.0) for r in ko], "<=", float(len(ko) - 1), label=f"cut:{n}")
    obj = dimod.QuadraticModel()
    obj.add_variable("REAL", V[p], lower_bound=float(net.lower[p]), upper_bound=float(net.upper[p]))
    obj.add_linear(V[p], 1.0)
    for r in candidates:
        obj.add_variable("BINARY", ("y", r))
        obj.add_linear(("y", r), -KNOCKOUT_COST)
    cqm.set_objective(obj)
    return Problem(cqm, name=f"{net.name}-optknock-{product}-k{k}", sense="max",
                   metadata={"domain": "bio", "formulation": "optknock-milp", "product": product, "k": k,
                             "min_growth": min_growth, "dual_bound": dual_bound, "tilt": tilt})


@dataclass
class RouteResult:
    """Designs of one route, best (guaranteed production) first, with the route's wall time (s)."""

    route: str
    designs: list[Design]
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> Design | None:
        return self.designs[0] if self.designs else None

    def to_dict(self) -> dict[str, Any]:
        return {"route": self.route, "seconds": self.seconds, "designs": [d.to_dict() for d in self.designs],
                "info": self.info}


def rank(designs: Sequence[Design]) -> list[Design]:
    """Valid first, then by guaranteed production, then growth; duplicates dropped."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for d in sorted(designs, key=lambda d: (not d.valid, -d.guaranteed, -(d.growth or 0.0), len(d.knockouts))):
        if d.knockouts not in seen:
            seen.add(d.knockouts)
            out.append(d)
    return out


def optknock(net: MetabolicNetwork, product: str, candidates: Sequence[str], k: int, *, min_growth: float,
             designs: int = 1, backend: str = "highs", time_limit: float = 30.0, seed: int | None = 0,
             dual_bound: float = DUAL_BOUND) -> RouteResult:
    """Solve the OptKnock MILP ``designs`` times (each cutting off the sets found) and validate each."""
    import time

    from kakehashi.solver import solve

    start = time.perf_counter()
    found: list[Design] = []
    cuts: list[tuple[str, ...]] = []
    solves = []
    for _ in range(designs):
        left = time_limit - (time.perf_counter() - start)
        if left <= 0.5:
            break
        problem = optknock_problem(net, product, candidates, k, min_growth=min_growth, dual_bound=dual_bound,
                                   exclude=cuts)
        params = {"vendor": HIGHS_TOLERANCES} if backend == "highs" else None
        result = solve(problem, backend, time_limit=left, seed=seed, params=params)
        solves.append({"status": result.status.value, "objective": result.objective, "bound": result.bound,
                       "seconds": result.timings.total})
        if not result.sample or not result.feasible:
            break
        kos = tuple(sorted(r for r in candidates if float(result.sample.get(("y", r), 0.0)) > 0.5))
        predicted = float(result.sample[("v", product)])
        found.append(validate_design(net, kos, product, min_growth=min_growth, route=f"milp:{backend}",
                                     predicted=predicted))
        if not kos:
            break
        cuts.append(kos)
    return RouteResult(route=f"milp:{backend}", designs=rank(found), seconds=time.perf_counter() - start,
                       info={"solves": solves, "candidates": len(candidates)})
