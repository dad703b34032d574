"""Small MatrixProgram builders shared by the classical backend tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, MatrixProgram, QuadraticRow, TargetKind


def compiled(program: MatrixProgram, kind: TargetKind | None = None) -> Compiled[MatrixProgram]:
    labels = [f"x{j}" for j in range(program.num_variables)]
    if kind is None:
        kind = TargetKind.MIQP if program.is_quadratic else TargetKind.MILP
    return Compiled(kind=kind, target=program, variables=tuple(labels), inverter=Inverter.identity(labels))


def knapsack(items: int, seed: int) -> tuple[MatrixProgram, np.ndarray, np.ndarray, float]:
    """min -v·x s.t. w·x <= C, x binary; returns (program, v, w, C)."""
    rng = np.random.default_rng(seed)
    w = rng.integers(10, 60, items).astype(float)
    v = np.round(w + rng.uniform(-5, 15, items))  # correlated: harder than random values
    cap = float(np.floor(w.sum() / 2))
    program = MatrixProgram(
        c=-v,
        A=sp.csr_matrix(w[None, :]),
        row_lower=np.array([-np.inf]),
        row_upper=np.array([cap]),
        lower=np.zeros(items),
        upper=np.ones(items),
        integrality=np.ones(items, dtype=bool),
        offset=3.0,
    )
    return program, v, w, cap


def box_program(
    c: np.ndarray, Q: Any, lower: float, upper: float, integral: bool, **extra: Any
) -> MatrixProgram:
    n = len(c)
    return MatrixProgram(
        c=np.asarray(c, dtype=float),
        A=extra.pop("A", sp.csr_matrix((0, n))),
        row_lower=extra.pop("row_lower", np.zeros(0)),
        row_upper=extra.pop("row_upper", np.zeros(0)),
        lower=np.full(n, lower),
        upper=np.full(n, upper),
        integrality=np.full(n, integral),
        Q=None if Q is None else sp.csr_matrix(Q),
        **extra,
    )


__all__ = ["QuadraticRow", "box_program", "compiled", "knapsack"]
