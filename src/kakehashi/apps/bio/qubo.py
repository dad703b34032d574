"""The QUBO/Ising route to the knockout choice: a second-order surrogate, sampled, then validated.

The exact objective of a knockout set K (its guaranteed production, :mod:`kakehashi.apps.bio.design`)
is not a quadratic function of the choice bits. The route therefore fits the quadratic that is
exact on every single and every pair of candidate knockouts:

    g(K) ≈ Σ_{i∈K} g_i + Σ_{i<j∈K} (g_ij − g_i − g_j)

where ``g_i`` and ``g_ij`` are the screened guaranteed productions of the single and double
mutants (−``LETHAL_PENALTY`` × the best single when the mutant grows below the minimum). The
QUBO minimises −g(x) over binaries ``("x", rxn)`` subject to ``Σ x = k`` (compiled to a penalty
with an explicit weight, :func:`cardinality_penalty`), is sampled by any Ising backend through
:func:`kakehashi.solve`, and the distinct decoded sets (best surrogate value first, at most
``evaluate`` of them) are validated exactly by FBA through HiGHS. The route's answer is the best
*validated* design; the surrogate never ranks it.

Screening (the n + n(n−1)/2 single and double mutants) runs on COBRApy's own LP solver: it is the
route's training data, ~1 ms per LP instead of the ~50 ms of a full ``solve()`` call per LP, and
its values agree with the HiGHS ones (tests). The time it takes is part of the route's time.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Hashable, Sequence
from typing import Any

import dimod
import numpy as np

from kakehashi.apps.bio.design import validate_design
from kakehashi.apps.bio.network import MetabolicNetwork
from kakehashi.apps.bio.optknock import RouteResult, rank
from kakehashi.model.problem import Problem

#: A lethal single/double mutant scores −LETHAL_PENALTY × (best single score, at least 1).
LETHAL_PENALTY = 2.0
#: Most decoded sets validated exactly by FBA.
EVALUATE = 20


def screen(net: MetabolicNetwork, product: str, knockout_sets: Sequence[Sequence[str]], *,
           min_growth: float) -> list[float | None]:
    """Guaranteed production of each knockout set on COBRApy's LP solver (None: grows below the minimum)."""
    if net.model is None:
        from kakehashi.exceptions import ModelError

        raise ModelError("screening needs the COBRApy model the network was read from", field="model")
    model = net.model
    growth_rxn = model.reactions.get_by_id(net.objective_reaction)
    out: list[float | None] = []
    with model:
        for j, r in enumerate(model.reactions):
            r.bounds = (float(net.lower[j]), float(net.upper[j]))
        model.objective = {model.reactions.get_by_id(r): float(net.c[j]) for j, r in enumerate(net.reactions)
                           if net.c[j]}
        for kos in knockout_sets:
            with model:
                for rid in kos:
                    model.reactions.get_by_id(rid).bounds = (0.0, 0.0)
                mu = model.slim_optimize(error_value=float("nan"))
                if not np.isfinite(mu) or mu < min_growth:
                    out.append(None)
                    continue
                growth_rxn.lower_bound = mu - 1e-9 * max(1.0, abs(mu))
                model.objective = model.reactions.get_by_id(product)
                model.objective_direction = "min"
                p = model.slim_optimize(error_value=float("nan"))
                out.append(float(p) if np.isfinite(p) else None)
    return out


def surrogate(net: MetabolicNetwork, product: str, candidates: Sequence[str], *,
              min_growth: float) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """Exact single and pair scores turned into QUBO coefficients ``(h, J)`` to be maximised."""
    singles = screen(net, product, [[r] for r in candidates], min_growth=min_growth)
    best = max([s for s in singles if s is not None] + [1.0])
    lethal = -LETHAL_PENALTY * best
    g1 = {r: (s if s is not None else lethal) for r, s in zip(candidates, singles, strict=True)}
    pairs = list(itertools.combinations(candidates, 2))
    doubles = screen(net, product, pairs, min_growth=min_growth)
    J = {}
    for (a, b), s in zip(pairs, doubles, strict=True):
        value = s if s is not None else lethal
        inter = value - g1[a] - g1[b]
        if inter != 0.0:
            J[(a, b)] = float(inter)
    return g1, J


def qubo_problem(h: dict[str, float], J: dict[tuple[str, str], float], k: int, name: str) -> Problem:
    """Minimise −g(x) over ``("x", rxn)`` with ``Σ x = k`` (the constraint labelled ``cardinality``)."""
    bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
    linear: dict[Hashable, float] = {("x", r): -v for r, v in h.items()}
    bqm.add_linear_from(linear)
    bqm.add_quadratic_from({(("x", a), ("x", b)): -v for (a, b), v in J.items()})
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(bqm)
    cqm.add_constraint_from_iterable([(("x", r), 1.0) for r in h], "==", float(k), label="cardinality")
    return Problem(cqm, name=name, sense="min", metadata={"domain": "bio", "formulation": "knockout-qubo", "k": k})


def cardinality_penalty(problem: Problem, scale: float = 2.0) -> dict[str, float]:
    """``scale`` × the largest change one flip can make to the objective (as the portfolio QUBO)."""
    bqm = problem.cqm.objective
    delta = {v: abs(float(bqm.get_linear(v))) for v in bqm.variables}
    for u, v, b in bqm.iter_quadratic():
        delta[u] += abs(float(b))
        delta[v] += abs(float(b))
    return {"cardinality": scale * max(delta.values(), default=1.0)}


def qubo_route(net: MetabolicNetwork, product: str, candidates: Sequence[str], k: int, *, min_growth: float,
               backend: str = "sa", time_limit: float = 10.0, seed: int | None = 0, evaluate: int = EVALUATE,
               surrogate_terms: tuple[dict[str, float], dict[tuple[str, str], float]] | None = None) -> RouteResult:
    """Screen, build the QUBO, sample it with ``backend``, validate the best decoded sets by FBA.

    ``surrogate_terms`` reuses a screening already done (its time is then not counted again).
    """
    from kakehashi.solver import solve

    start = time.perf_counter()
    h, J = surrogate_terms or surrogate(net, product, candidates, min_growth=min_growth)
    screened = time.perf_counter() - start
    problem = qubo_problem(h, J, k, f"{net.name}-knockout-qubo-{product}-k{k}")
    penalties = cardinality_penalty(problem)
    left = max(0.5, time_limit - screened)
    result = solve(problem, backend, time_limit=left, seed=seed, compile_options={"penalties": penalties})
    sets: dict[tuple[str, ...], float] = {}
    records = result.samples or []
    for rec in records:
        kos = tuple(sorted(r for r in h if round(float(rec.sample.get(("x", r), 0.0))) == 1))
        if len(kos) > k:  # the penalty failed: keep the k with the best single scores
            kos = tuple(sorted(sorted(kos, key=lambda r: -h[r])[:k]))
        value = sum(h[r] for r in kos) + sum(J.get((a, b), J.get((b, a), 0.0)) for a, b in itertools.combinations(kos, 2))
        sets[kos] = max(value, sets.get(kos, -np.inf))
    chosen = sorted(sets, key=lambda s: -sets[s])[:evaluate]
    designs = [validate_design(net, kos, product, min_growth=min_growth, route=f"qubo:{backend}",
                               predicted=float(sets[kos])) for kos in chosen]
    info: dict[str, Any] = {"screen_seconds": screened, "pairs": len(J), "candidates": len(candidates),
                            "sampler_status": result.status.value, "distinct_sets": len(sets),
                            "evaluated": len(chosen), "penalty": penalties["cardinality"]}
    return RouteResult(route=f"qubo:{backend}", designs=rank(designs), seconds=time.perf_counter() - start, info=info)
