"""Cardinality-constrained mean–variance portfolios (Chang, Meade, Beasley & Sharaiha 2000).

For a trade-off λ ∈ [0, 1]:  minimise  λ · wᵀΣw − (1 − λ) · μᵀw
subject to  Σ w_i = 1,  Σ z_i = K,  ε z_i <= w_i <= δ z_i,  z_i ∈ {0, 1}.

* :func:`to_problem`: the MIQP as a dimod CQM with weights in steps of 0.1% (INTEGER ``("n", i)``,
  since dimod forbids quadratic terms on REAL variables) and BINARY selectors ``("z", i)``; the
  compile pass turns it into a MatrixProgram for SCIP.
* :func:`qubo_problem`: a binary-encodable version for Ising backends: integer units
  ``("n", i)`` with w_i = n_i / U, selectors ``("z", i)`` and the same linking constraints
  written in units (the compile pass encodes integers in binary and inequalities with slack).
* :func:`selection_problem`: the asset-selection QUBO used by the Ising route. Binary ``("z", i)``
  only; the objective is the portfolio objective of the equal-weight portfolio of the selected
  assets (w_i = z_i / K):  λ/K² · zᵀΣz − (1 − λ)/K · μᵀz,  with the single equality
  Σ z_i = K (the compile pass turns it into the penalty (Σ z − K)² times a weight, see
  :func:`selection_penalty`). Weights are then optimised classically on the selection.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

import dimod
import numpy as np

from kakehashi.apps.portfolio.instance import PortfolioInstance, PortfolioSettings
from kakehashi.model.problem import Problem

#: Resolution of the MIQP weights: steps of 1/1000. Measured on port5 (225 assets, λ = 0.5, 20 s):
#: basis points (10 000) left SCIP without any portfolio, steps of 1/1000 gave one whose objective
#: is within 0.1% of the QUBO route's. The weights are then re-optimised continuously on SCIP's
#: selection.
MIQP_UNITS = 1_000
#: Default resolution of the QUBO weights: w_i is a multiple of 1 / DEFAULT_UNITS.
DEFAULT_UNITS = 20


def _objective(instance: PortfolioInstance, lam: float, labels: list[tuple[str, int]], scale: float,
               upper: int, factor: float = 1.0) -> dimod.QuadraticModel:
    mu, sigma = instance.mu * factor, instance.sigma * factor
    n = instance.n
    qm = dimod.QuadraticModel()
    for i in range(n):
        qm.add_variable(dimod.INTEGER, labels[i], lower_bound=0, upper_bound=int(upper))
    qm.add_linear_from({labels[i]: -(1.0 - lam) * mu[i] * scale for i in range(n)})
    quad: dict[tuple[Hashable, Hashable], float] = {(labels[i], labels[i]): float(lam * sigma[i, i] * scale * scale) for i in range(n)}
    quad.update({(labels[i], labels[j]): float(2.0 * lam * sigma[i, j] * scale * scale)
                 for i in range(n) for j in range(i + 1, n) if sigma[i, j] != 0.0})
    qm.add_quadratic_from(quad)
    return qm


def to_problem(instance: PortfolioInstance, settings: PortfolioSettings, lam: float,
               units: int = MIQP_UNITS) -> Problem:
    """The MIQP for trade-off ``lam``: weights in units of 1/``units`` (:data:`MIQP_UNITS` by default).

    dimod does not allow quadratic terms on REAL variables, so the weights are INTEGER counts of
    1/``units``; SCIP solves this MIQP exactly on that grid, and :func:`solve_portfolio` then
    re-optimises the weights of SCIP's selection continuously. The objective is multiplied by
    :func:`objective_scale` (``metadata["objective_scale"]``) so that SCIP's tolerances see it.
    """
    factor = objective_scale(instance, units)
    problem = qubo_problem(instance, settings, lam, units=units, factor=factor)
    problem.name = f"{instance.name}-K{settings.k}-lam{lam:g}"
    problem.metadata["formulation"] = "miqp"
    problem.metadata["objective_scale"] = factor
    return problem


def objective_scale(instance: PortfolioInstance, units: int) -> float:
    """Factor on the MIQP objective that makes its quadratic coefficients O(1): ``units² / max |Σ_ij|``.

    Unscaled, σ_ij / units² is ~1e-9 for weekly covariances on a 1/1000 grid — below SCIP's
    tolerances, so SCIP declared wrong optima (variance terms read as zero). The scale does not
    change the minimiser; the Problem's objective is the portfolio objective times this factor.
    """
    peak = float(np.abs(instance.sigma).max()) or 1.0
    return float(units) ** 2 / peak


def qubo_problem(instance: PortfolioInstance, settings: PortfolioSettings, lam: float,
                 units: int = DEFAULT_UNITS, factor: float = 1.0) -> Problem:
    """Integer-unit formulation (w_i = n_i / ``units``) for binary encoding on Ising backends."""
    settings.check(instance.n, instance.source)
    n = instance.n
    lo = max(1, math.ceil(settings.min_weight * units - 1e-9))
    hi = max(lo, math.floor(settings.max_weight * units + 1e-9))
    nv = [("n", i) for i in range(n)]
    z = [("z", i) for i in range(n)]
    cqm = dimod.ConstrainedQuadraticModel()
    obj = _objective(instance, lam, nv, 1.0 / units, hi, factor)
    for v in z:
        obj.add_variable(dimod.BINARY, v)
    cqm.set_objective(obj)
    cqm.add_constraint_from_iterable([(v, 1.0) for v in nv], "==", float(units), label="budget")
    cqm.add_constraint_from_iterable([(v, 1.0) for v in z], "==", float(settings.k), label="cardinality")
    for i in range(n):
        cqm.add_constraint_from_iterable([(nv[i], 1.0), (z[i], -float(lo))], ">=", 0.0, label=f"min_{i}")
        cqm.add_constraint_from_iterable([(nv[i], 1.0), (z[i], -float(hi))], "<=", 0.0, label=f"max_{i}")
    return Problem(cqm, name=f"{instance.name}-K{settings.k}-lam{lam:g}-qubo", sense="min",
                   metadata={"domain": "portfolio", "formulation": "units", "lambda": lam, "units": units,
                             "k": settings.k, "source": instance.source})


def weights_from_sample(n: int, sample: Mapping[Hashable, float], units: int) -> np.ndarray:
    """Weights ``n_i / units`` of a sample of either formulation."""
    return np.array([float(sample.get(("n", i), 0.0)) / units for i in range(n)])


def selection_problem(instance: PortfolioInstance, settings: PortfolioSettings, lam: float) -> Problem:
    """Asset-selection QUBO: equal-weight proxy objective, cardinality Σ z = K as the only constraint."""
    settings.check(instance.n, instance.source)
    n, k = instance.n, settings.k
    mu, sigma = instance.mu, instance.sigma
    obj = dimod.BinaryQuadraticModel(dimod.BINARY)
    z = [("z", i) for i in range(n)]
    obj.add_linear_from({z[i]: float(lam * sigma[i, i] / k**2 - (1.0 - lam) * mu[i] / k) for i in range(n)})
    obj.add_quadratic_from({(z[i], z[j]): float(2.0 * lam * sigma[i, j] / k**2)
                            for i in range(n) for j in range(i + 1, n) if sigma[i, j] != 0.0})
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(obj)
    cqm.add_constraint_from_iterable([(v, 1.0) for v in z], "==", float(k), label="cardinality")
    return Problem(cqm, name=f"{instance.name}-K{k}-lam{lam:g}-select", sense="min",
                   metadata={"domain": "portfolio", "formulation": "selection", "lambda": lam, "k": k,
                             "source": instance.source})


def selection_penalty(problem: Problem, scale: float = 2.0) -> dict[str, float]:
    """Penalty weight of the cardinality constraint: ``scale`` × the largest one-flip objective change.

    The same rule as the core pass (docs/architecture.md, λ_c = scale · m_c / δ_c² with δ_c = 1),
    written out here so the weight is explicit in ``compile_options``: a portfolio with K ± 1
    assets always costs more than any single flip of the objective can gain.
    """
    bqm = problem.cqm.objective
    delta: dict[Hashable, float] = {v: abs(float(bqm.get_linear(v))) for v in bqm.variables}
    for u, v, b in bqm.iter_quadratic():
        delta[u] += abs(float(b))
        delta[v] += abs(float(b))
    return {"cardinality": scale * max(delta.values(), default=1.0)}


def selected_assets(n: int, sample: Mapping[Hashable, float]) -> np.ndarray:
    """Indices ``i`` with ``("z", i) = 1`` in a sample."""
    return np.array([i for i in range(n) if round(float(sample.get(("z", i), 0.0))) == 1], dtype=int)
