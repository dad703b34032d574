"""Cardinality-constrained mean–variance portfolios (Chang, Meade, Beasley & Sharaiha 2000).

For a trade-off λ ∈ [0, 1]:  minimise  λ · wᵀΣw − (1 − λ) · μᵀw
subject to  Σ w_i = 1,  Σ z_i = K,  ε z_i <= w_i <= δ z_i,  z_i ∈ {0, 1}.

* :func:`to_problem`: the MIQP as a dimod CQM with weights in basis points (INTEGER ``("n", i)``,
  since dimod forbids quadratic terms on REAL variables) and BINARY selectors ``("z", i)``; the
  compile pass turns it into a MatrixProgram for SCIP.
* :func:`qubo_problem`: a binary-encodable version for Ising backends: integer units
  ``("n", i)`` with w_i = n_i / U, selectors ``("z", i)`` and the same linking constraints
  written in units (the compile pass encodes integers in binary and inequalities with slack).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

import dimod
import numpy as np

from kakehashi.apps.portfolio.instance import PortfolioInstance, PortfolioSettings
from kakehashi.model.problem import Problem

#: Resolution of the MIQP weights (basis points).
MIQP_UNITS = 10_000
#: Default resolution of the QUBO weights: w_i is a multiple of 1 / DEFAULT_UNITS.
DEFAULT_UNITS = 20


def _objective(instance: PortfolioInstance, lam: float, labels: list[tuple[str, int]], scale: float,
               upper: int) -> dimod.QuadraticModel:
    mu, sigma = instance.mu, instance.sigma
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
    """The MIQP for trade-off ``lam``: weights in units of 1/``units`` (basis points by default).

    dimod does not allow quadratic terms on REAL variables, so the weights are INTEGER counts of
    basis points; SCIP solves this MIQP exactly, and the 1e-4 grid changes objective values by
    far less than the frontier errors being measured.
    """
    problem = qubo_problem(instance, settings, lam, units=units)
    problem.name = f"{instance.name}-K{settings.k}-lam{lam:g}"
    problem.metadata["formulation"] = "miqp"
    return problem


def qubo_problem(instance: PortfolioInstance, settings: PortfolioSettings, lam: float,
                 units: int = DEFAULT_UNITS) -> Problem:
    """Integer-unit formulation (w_i = n_i / ``units``) for binary encoding on Ising backends."""
    settings.check(instance.n, instance.source)
    n = instance.n
    lo = max(1, math.ceil(settings.min_weight * units - 1e-9))
    hi = max(lo, math.floor(settings.max_weight * units + 1e-9))
    nv = [("n", i) for i in range(n)]
    z = [("z", i) for i in range(n)]
    cqm = dimod.ConstrainedQuadraticModel()
    obj = _objective(instance, lam, nv, 1.0 / units, hi)
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
