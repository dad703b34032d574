"""CQM → matrix arrays for MILP/MIQP solvers (pass ``to_matrix_program``).

Spins become binaries (s = 2x − 1); BINARY, INTEGER and REAL variables keep their bounds.
A maximised objective is negated (targets always minimise). The objective is
``offset + c·x + xᵀQx`` with Q upper triangular (including squares on the diagonal); linear
constraints become rows of A with two-sided bounds; quadratic constraints become
:class:`~kakehashi.compile.targets.QuadraticRow` entries.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, CompileReport, MatrixProgram, QuadraticRow, TargetKind
from kakehashi.model.problem import Problem


def _quadratic_matrix(qm: Any, index: dict[Hashable, int], n: int, scale: float) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for (u, v), b in qm.quadratic.items():
        i, j = index[u], index[v]
        rows.append(min(i, j))
        cols.append(max(i, j))
        vals.append(scale * float(b))
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def _linear_vector(qm: Any, index: dict[Hashable, int], n: int, scale: float) -> np.ndarray:
    c = np.zeros(n)
    for v, b in qm.linear.items():
        c[index[v]] += scale * float(b)
    return c


def to_matrix_program(problem: Problem) -> Compiled[MatrixProgram]:
    """Compile ``problem`` to a :class:`MatrixProgram` (kind MILP or MIQP)."""
    cqm = copy.deepcopy(problem.cqm)
    variables = list(cqm.variables)
    spins = [v for v in variables if cqm.vartype(v) is dimod.SPIN]
    for v in spins:
        cqm.change_vartype(dimod.BINARY, v)
    n = len(variables)
    index = {v: i for i, v in enumerate(variables)}
    sign = -1.0 if problem.sense == "max" else 1.0
    lower = np.array([cqm.lower_bound(v) for v in variables], dtype=float)
    upper = np.array([cqm.upper_bound(v) for v in variables], dtype=float)
    integrality = np.array([cqm.vartype(v) is not dimod.REAL for v in variables], dtype=bool)
    c = _linear_vector(cqm.objective, index, n, sign)
    Q = _quadratic_matrix(cqm.objective, index, n, sign)
    a_rows: list[int] = []
    a_cols: list[int] = []
    a_vals: list[float] = []
    row_lower: list[float] = []
    row_upper: list[float] = []
    names: list[str] = []
    quadratic_rows: list[QuadraticRow] = []
    for label, comp in cqm.constraints.items():
        rhs = float(comp.rhs) - float(comp.lhs.offset)
        sense = comp.sense.value
        lo = rhs if sense in (">=", "==") else -np.inf
        hi = rhs if sense in ("<=", "==") else np.inf
        if comp.lhs.num_interactions:
            quadratic_rows.append(
                QuadraticRow(
                    Q=_quadratic_matrix(comp.lhs, index, n, 1.0),
                    a=_linear_vector(comp.lhs, index, n, 1.0),
                    lower=lo,
                    upper=hi,
                    name=str(label),
                )
            )
            continue
        for v, b in comp.lhs.linear.items():
            a_rows.append(len(names))
            a_cols.append(index[v])
            a_vals.append(float(b))
        row_lower.append(lo)
        row_upper.append(hi)
        names.append(str(label))
    A = sp.csr_matrix((a_vals, (a_rows, a_cols)), shape=(len(names), n))
    program = MatrixProgram(
        c=c,
        A=A,
        row_lower=np.asarray(row_lower, dtype=float),
        row_upper=np.asarray(row_upper, dtype=float),
        lower=lower,
        upper=upper,
        integrality=integrality,
        offset=sign * float(cqm.objective.offset),
        Q=Q if Q.nnz else None,
        quadratic_rows=tuple(quadratic_rows),
        row_names=tuple(names),
    )
    # original spin s = 2x − 1; every other variable is itself
    spin_set = set(spins)
    scale = np.array([2.0 if v in spin_set else 1.0 for v in variables])
    offset = np.array([-1.0 if v in spin_set else 0.0 for v in variables])
    inverter = Inverter(
        original=tuple(problem.variables),
        target=tuple(variables),
        matrix=sp.diags(scale, format="csr"),
        offset=offset,
        integral=integrality.copy(),
    )
    report = CompileReport()
    kind = TargetKind.MIQP if program.is_quadratic else TargetKind.MILP
    report.add(
        "to_matrix_program",
        kind=kind.value,
        num_variables=n,
        num_integer=int(integrality.sum()),
        num_rows=len(names),
        num_quadratic_rows=len(quadratic_rows),
        spins_to_binaries=len(spins),
        negated_for_max=problem.sense == "max",
    )
    return Compiled(kind=kind, target=program, variables=tuple(variables), inverter=inverter, report=report)
