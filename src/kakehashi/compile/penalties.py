"""CQM → BQM with one penalty weight per constraint (pass ``cqm_to_bqm``).

Each linear constraint becomes a squared penalty λ_c · (lhs − rhs [+ slack])². Inequalities get
binary slack variables (log encoded; exact when the constraint's coefficients and rhs are
integers, otherwise discretised in steps of the smallest coefficient — reported). Quadratic
constraints cannot be squared into a BQM and raise :class:`CompileError`.

The weight rule (documented in ``docs/architecture.md``), for constraint c with support S_c:

    Δ_i  = |a_i| + Σ_j |b_ij|                     objective change when binary i flips
    m_c  = max_{i ∈ S_c} Δ_i                      (falls back to the mean Δ when 0)
    δ_c  = 1 if c has integer coefficients, else min_{i ∈ S_c} |coef_i|
    λ_c  = scale · m_c / δ_c²                     (scale = 2 by default)

A violated constraint costs at least λ_c·δ_c² = scale·m_c, more than any single flip in its
support can gain in the objective, so a state that one flip would repair is never a local
minimum of the BQM. Per-constraint overrides are accepted and recorded in the report.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi.compile.integers import Encoding, coefficients, encode_variables
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.poly import Poly, substitute
from kakehashi.compile.targets import Compiled, CompileReport, TargetKind
from kakehashi.exceptions import CompileError
from kakehashi.model.problem import Problem

DEFAULT_PENALTY_SCALE = 2.0
_INT_TOL = 1e-9


def slack_label(constraint: Hashable, i: int) -> Hashable:
    return ("_kk", "slack", constraint, i)


def _is_integral(x: float) -> bool:
    return abs(x - round(x)) <= _INT_TOL


def _sensitivities(objective: Poly) -> dict[Hashable, float]:
    delta: dict[Hashable, float] = {v: abs(b) for v, b in objective.linear.items()}
    for (u, v), b in objective.quadratic.items():
        delta[u] = delta.get(u, 0.0) + abs(b)
        delta[v] = delta.get(v, 0.0) + abs(b)
    return delta


def _constraint_expression(
    label: Hashable, lhs: Poly, sense: str, rhs: float, info: dict[str, Any]
) -> tuple[Poly | None, float]:
    """``lhs − rhs (+ slack)`` as a linear Poly that is 0 exactly when satisfied, and δ_c.

    Returns ``(None, 0)`` for a constraint that every binary assignment satisfies.
    """
    expr = Poly(linear=dict(lhs.linear), offset=lhs.offset - rhs)
    if sense == ">=":
        expr = Poly(linear={v: -b for v, b in expr.linear.items()}, offset=-expr.offset)
    coefs = [abs(b) for b in expr.linear.values() if b]
    integral = all(_is_integral(b) for b in expr.linear.values()) and _is_integral(expr.offset)
    delta = 1.0 if integral or not coefs else min(coefs)
    if sense == "==":
        return expr, delta
    lo, hi = expr.min_max()  # expr <= 0 is the constraint
    if hi <= 1e-12:
        info["redundant"].append(str(label))
        return None, 0.0
    if lo > 1e-12:
        info["unsatisfiable"].append(str(label))
        return expr, delta
    slack_range = -lo  # expr + s = 0 with s in [0, -lo]
    if integral:
        steps, step = math.floor(slack_range + _INT_TOL), 1.0
    else:
        step = delta
        steps = math.ceil(slack_range / step - _INT_TOL)
        info["discretised"].append(str(label))
    for k, c in enumerate(coefficients(steps)):
        expr.add_linear(slack_label(label, k), c * step)
    info["slack_bits"] += len(coefficients(steps))
    return expr, delta


def cqm_to_bqm(
    problem: Problem,
    *,
    encoding: Encoding = "log",
    penalty_scale: float = DEFAULT_PENALTY_SCALE,
    penalties: Mapping[Hashable, float] | None = None,
) -> Compiled[dimod.BinaryQuadraticModel]:
    """Compile ``problem`` to a minimisation BQM over binaries (penalties for constraints)."""
    report = CompileReport()
    enc, binaries, inverter, stats = encode_variables(problem, encoding)
    report.add("integers_to_binaries", encoding=encoding, **stats)
    model = problem.model
    sign = -1.0 if problem.sense == "max" else 1.0
    objective = Poly()
    source = model.objective if isinstance(model, dimod.ConstrainedQuadraticModel) else model
    objective.add_scaled(substitute(source, enc), sign)
    sens = _sensitivities(objective)
    fallback = float(np.mean(list(sens.values()))) if sens else 1.0
    fallback = fallback if fallback > 0 else 1.0
    info: dict[str, Any] = {"redundant": [], "unsatisfiable": [], "discretised": [], "slack_bits": 0}
    weights: dict[str, float] = {}
    bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
    bqm.add_variables_from((v, 0.0) for v in binaries)
    bqm.add_linear_from(objective.linear.items())
    bqm.add_quadratic_from((u, v, b) for (u, v), b in objective.quadratic.items())
    bqm.offset += objective.offset
    overrides = dict(penalties or {})
    if isinstance(model, dimod.ConstrainedQuadraticModel):
        for label, comp in model.constraints.items():
            lhs = substitute(comp.lhs, enc)
            if not lhs.is_linear():
                raise CompileError(
                    f"constraint {label!r} is quadratic: a BQM target cannot express it; "
                    "use a MIQP backend such as scip"
                )
            expr, delta = _constraint_expression(label, lhs, comp.sense.value, float(comp.rhs), info)
            if expr is None:
                continue
            if label in overrides:
                weight = float(overrides.pop(label))
            else:
                support = [v for v in lhs.linear if lhs.linear[v]]
                m_c = max((sens.get(v, 0.0) for v in support), default=0.0)
                weight = penalty_scale * (m_c if m_c > 0 else fallback) / (delta * delta)
            weights[str(label)] = weight
            sq = expr.square()
            bqm.add_linear_from((v, weight * b) for v, b in sq.linear.items())
            bqm.add_quadratic_from((u, v, weight * b) for (u, v), b in sq.quadratic.items())
            bqm.offset += weight * sq.offset
    if overrides:
        raise CompileError(f"penalties given for unknown constraints: {sorted(map(str, overrides))}")
    report.add(
        "cqm_to_bqm",
        rule="lambda_c = scale * max_{i in S_c} delta_i / delta_c^2",
        penalty_scale=penalty_scale,
        penalties=weights,
        num_variables=bqm.num_variables,
        num_interactions=bqm.num_interactions,
        **info,
    )
    variables = tuple(bqm.variables)
    return Compiled(
        kind=TargetKind.BQM,
        target=bqm,
        variables=variables,
        inverter=inverter.then(select(binaries, variables)),
        report=report,
    )


def select(wanted: list[Hashable], available: tuple[Hashable, ...]) -> Inverter:
    """Inverter that picks the ``wanted`` columns out of ``available`` ones (drops slacks)."""
    index = {v: i for i, v in enumerate(available)}
    n = len(wanted)
    matrix = sp.csr_matrix(
        (np.ones(n), (np.arange(n), [index[v] for v in wanted])), shape=(n, len(available))
    )
    return Inverter(
        original=tuple(wanted),
        target=available,
        matrix=matrix,
        offset=np.zeros(n),
        integral=np.zeros(n, bool),
    )
