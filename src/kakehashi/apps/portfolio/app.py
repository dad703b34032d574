"""Solve, validate and sweep portfolios: weights, return, risk and the efficient frontier.

* ``scip`` (or any MIQP backend): :func:`~kakehashi.apps.portfolio.formulation.to_problem`; with
  ``polish=True`` the weights on SCIP's selection are then re-optimised continuously (SCIP
  works on a grid of 1/MIQP_UNITS and may stop at the time limit before they converge).
* Ising backends (``sa``, ``tabu``, ``sb``, ``anneal``...), ``formulation="selection"`` (default):
  the asset-selection QUBO (:func:`~kakehashi.apps.portfolio.formulation.selection_problem`:
  equal-weight proxy objective, cardinality as an equality penalty with an explicit weight,
  :func:`~kakehashi.apps.portfolio.formulation.selection_penalty`). When the raw answer does
  not hold exactly K assets, a documented greedy repair (:func:`repair_selection`) drops or adds
  one asset at a time, whichever changes the proxy objective least, until K are held
  (``info["repaired_selection"]``, ``info["raw_selected"]``). The weights of the K assets are
  then optimised classically (convex QP, SLSQP, bounds [min_weight, max_weight]).
* ``formulation="units"``: the older integer-unit QUBO (weights in 1/20 steps, binary-encoded,
  many slack bits); ``polish=True`` keeps the K largest weights and re-optimises them as above.

Mean percentage error (Chang et al. 2000): for each point (v, r), ψ = 100·|V*(r) − v| / V*(r)
and φ = 100·|R*(v) − r| / R*(v) against the unconstrained frontier (interpolated); the error
of the point is min(ψ, φ) and the MPE is the mean over points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from kakehashi.apps.portfolio.formulation import (
    DEFAULT_UNITS,
    MIQP_UNITS,
    qubo_problem,
    selected_assets,
    selection_penalty,
    selection_problem,
    to_problem,
    weights_from_sample,
)
from kakehashi.apps.portfolio.instance import PortfolioInstance, PortfolioSettings

#: Backends that receive the MIQP formulation (everything else gets the QUBO).
MIQP_BACKENDS = ("scip", "highs")
#: Weight tolerance of validate() (the MIQP grid is 1e-3).
WEIGHT_TOL = 1e-6


class PortfolioSolution(BaseModel):
    """Weights (fractions summing to 1), expected return and variance per period."""

    instance: str
    lam: float
    weights: dict[str, float]
    expected_return: float
    variance: float
    objective: float
    status: str
    backend: str
    solve_seconds: float = 0.0
    violations: list[str] = Field(default_factory=list)
    info: dict[str, Any] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


def validate(weights: np.ndarray, settings: PortfolioSettings) -> list[str]:
    """Broken rules (empty when valid): budget Σw = 1, exactly K assets held, bounds per held asset."""
    w = np.asarray(weights, dtype=float)
    problems: list[str] = []
    if abs(w.sum() - 1.0) > 1e-6:
        problems.append(f"budget: weights sum to {w.sum():.6f}, not 1")
    if (w < -WEIGHT_TOL).any():
        problems.append(f"bounds: negative weight on asset {int(np.argmin(w)) + 1}")
    held = np.flatnonzero(w > WEIGHT_TOL)
    if len(held) != settings.k:
        problems.append(f"cardinality: {len(held)} assets held, K = {settings.k}")
    for i in held:
        if w[i] < settings.min_weight - WEIGHT_TOL or w[i] > settings.max_weight + WEIGHT_TOL:
            problems.append(f"bounds: asset {i + 1} weight {w[i]:.6f} outside "
                            f"[{settings.min_weight}, {settings.max_weight}]")
    return problems


def polish_weights(instance: PortfolioInstance, settings: PortfolioSettings, lam: float,
                   selected: Sequence[int] | np.ndarray) -> np.ndarray:
    """Optimal continuous weights for a fixed asset set (convex QP by SLSQP)."""
    from scipy.optimize import minimize

    idx = np.asarray(list(selected), dtype=int)
    mu, sig = instance.mu[idx], instance.sigma[np.ix_(idx, idx)]
    k = len(idx)

    def f(x: np.ndarray) -> float:
        return float(lam * x @ sig @ x - (1 - lam) * mu @ x)

    def g(x: np.ndarray) -> np.ndarray:
        return np.asarray(2 * lam * sig @ x - (1 - lam) * mu)

    x0 = np.full(k, 1.0 / k)
    res = minimize(f, x0, jac=g, method="SLSQP", bounds=[(settings.min_weight, settings.max_weight)] * k,
                   constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0, "jac": lambda x: np.ones(k)}],
                   options={"ftol": 1e-14, "maxiter": 500})
    w = np.zeros(instance.n)
    x = np.clip(res.x, settings.min_weight, settings.max_weight)
    w[idx] = x / x.sum()
    return w


def proxy_objective(instance: PortfolioInstance, lam: float, selected: Sequence[int] | np.ndarray, k: int) -> float:
    """Objective of the equal-weight (1/K) portfolio on ``selected``: what the selection QUBO minimises."""
    idx = np.asarray(list(selected), dtype=int)
    return float(lam * instance.sigma[np.ix_(idx, idx)].sum() / k**2 - (1 - lam) * instance.mu[idx].sum() / k)


def repair_selection(instance: PortfolioInstance, lam: float, selected: Sequence[int] | np.ndarray,
                     k: int) -> np.ndarray:
    """Greedy repair to exactly ``k`` assets on the equal-weight proxy objective.

    Too many assets: drop, one at a time, the asset whose removal gives the lowest proxy
    objective; too few: add, one at a time, the asset whose addition gives the lowest. Ties go
    to the lower index. Returns the sorted indices.
    """
    chosen = sorted(int(i) for i in selected)
    while len(chosen) > k:
        drop = min(chosen, key=lambda i: (proxy_objective(instance, lam, [j for j in chosen if j != i], k), i))
        chosen.remove(drop)
    while len(chosen) < k:
        rest = [i for i in range(instance.n) if i not in chosen]
        add = min(rest, key=lambda i: (proxy_objective(instance, lam, [*chosen, i], k), i))
        chosen = sorted([*chosen, add])
    return np.asarray(chosen, dtype=int)


def _solution(instance: PortfolioInstance, settings: PortfolioSettings, lam: float, w: np.ndarray, *,
              status: str, backend: str, seconds: float, info: dict[str, Any]) -> PortfolioSolution:
    ret = float(instance.mu @ w)
    var = float(w @ instance.sigma @ w)
    return PortfolioSolution(
        instance=instance.name, lam=lam,
        weights={instance.assets[i]: float(w[i]) for i in np.flatnonzero(w > WEIGHT_TOL)},
        expected_return=ret, variance=var, objective=lam * var - (1 - lam) * ret, status=status,
        backend=backend, solve_seconds=seconds, violations=validate(w, settings), info=info)


def solve_portfolio(instance: PortfolioInstance, settings: PortfolioSettings, lam: float = 0.5, *,
                    backend: str = "scip", time_limit: float = 10.0, seed: int | None = None,
                    units: int = DEFAULT_UNITS, polish: bool = True,
                    formulation: str = "selection") -> PortfolioSolution:
    """One constrained portfolio for trade-off ``lam`` (0: maximise return, 1: minimise risk).

    ``formulation`` picks the Ising route's QUBO: ``"selection"`` or ``"units"`` (module docstring).
    """
    from kakehashi.solver import solve

    settings.check(instance.n, instance.source)
    if backend in MIQP_BACKENDS:
        problem = to_problem(instance, settings, lam)
        result = solve(problem, backend, time_limit=time_limit, seed=seed)
        scale = float(problem.metadata["objective_scale"])
        bound = None if result.bound is None else result.bound / scale  # in portfolio-objective units
        w = weights_from_sample(instance.n, result.sample, MIQP_UNITS) if result.sample else np.zeros(instance.n)
        sol = _solution(instance, settings, lam, w, status=result.status.value, backend=backend,
                        seconds=result.timings.solve, info={"formulation": "miqp", "bound": bound})
        held = np.flatnonzero(w > WEIGHT_TOL)
        if not polish or sol.violations or len(held) != settings.k:
            return sol
        # SCIP branches on integer weight steps and may stop at the time limit before the
        # weights converge: re-optimise them continuously on its selection (never worse).
        wp = polish_weights(instance, settings, lam, held)
        better = _solution(instance, settings, lam, wp, status=result.status.value, backend=backend,
                           seconds=result.timings.solve,
                           info={"formulation": "miqp+qp", "bound": bound, "raw_objective": sol.objective})
        return better if better.objective <= sol.objective and not better.violations else sol
    if formulation == "selection":
        problem = selection_problem(instance, settings, lam)
        penalties = selection_penalty(problem)
        result = solve(problem, backend, time_limit=time_limit, seed=seed, compile_options={"penalties": penalties})
        raw_sel = selected_assets(instance.n, result.sample) if result.sample else np.zeros(0, dtype=int)
        repaired = len(raw_sel) != settings.k
        sel = repair_selection(instance, lam, raw_sel, settings.k) if repaired else raw_sel
        wp = polish_weights(instance, settings, lam, sel)
        info: dict[str, Any] = {
            "formulation": "selection-qubo+qp", "raw_selected": len(raw_sel), "repaired_selection": repaired,
            "raw_feasible": not repaired, "penalty": penalties["cardinality"],
            "raw_violations": [] if not repaired else [f"cardinality: {len(raw_sel)} assets selected, K = {settings.k}"],
            "proxy_objective": proxy_objective(instance, lam, sel, settings.k)}
        return _solution(instance, settings, lam, wp, status=result.status.value, backend=f"{backend}+qp",
                         seconds=result.timings.solve, info=info)
    result = solve(qubo_problem(instance, settings, lam, units), backend, time_limit=time_limit, seed=seed)
    w = weights_from_sample(instance.n, result.sample, units) if result.sample else np.zeros(instance.n)
    raw = _solution(instance, settings, lam, w, status=result.status.value, backend=backend,
                    seconds=result.timings.solve, info={"formulation": "qubo", "units": units})
    if not polish:
        return raw
    held = np.flatnonzero(w > WEIGHT_TOL)
    repaired = len(held) != settings.k
    if repaired:  # keep the K largest QUBO weights (ties: higher mean return)
        key = np.lexsort((-instance.mu, -w))
        held = np.sort(key[: settings.k])
    wp = polish_weights(instance, settings, lam, held)
    info = {"formulation": "qubo+qp", "units": units, "raw_objective": raw.objective,
            "raw_violations": raw.violations, "raw_feasible": not raw.violations, "repaired_selection": repaired}
    return _solution(instance, settings, lam, wp, status=result.status.value, backend=f"{backend}+qp",
                     seconds=result.timings.solve, info=info)


def frontier(instance: PortfolioInstance, settings: PortfolioSettings, lambdas: Sequence[float], *,
             backend: str = "scip", time_limit: float = 5.0, seed: int | None = None,
             polish: bool = True, formulation: str = "selection") -> list[PortfolioSolution]:
    """Constrained efficient frontier: one portfolio per trade-off λ."""
    return [solve_portfolio(instance, settings, float(lam), backend=backend, time_limit=time_limit, seed=seed,
                            polish=polish, formulation=formulation) for lam in lambdas]


def mean_percentage_error(points: Sequence[tuple[float, float]], frontier_points: Sequence[tuple[float, float]]) -> float:
    """Chang et al. (2000) mean percentage error of (return, variance) points to a frontier."""
    ef = np.asarray(sorted(frontier_points), dtype=float)  # by return
    r_ef, v_ef = ef[:, 0], ef[:, 1]
    order_v = np.argsort(v_ef)
    errors = []
    for r, v in points:
        errs = []
        if r_ef[0] <= r <= r_ef[-1]:
            v_star = float(np.interp(r, r_ef, v_ef))
            errs.append(100.0 * abs(v_star - v) / v_star)
        if v_ef[order_v][0] <= v <= v_ef[order_v][-1]:
            r_star = float(np.interp(v, v_ef[order_v], r_ef[order_v]))
            errs.append(100.0 * abs(r_star - r) / abs(r_star))
        if errs:
            errors.append(min(errs))
    return float(np.mean(errors)) if errors else float("nan")
