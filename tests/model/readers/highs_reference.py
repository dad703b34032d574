"""Reference data from HiGHS reading the same file: an independent check of our LP/MPS readers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class HighsModel:
    names: list[str]
    c: np.ndarray
    offset: float
    maximize: bool
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    row_names: list[str]
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: np.ndarray
    Q: np.ndarray

    def objective(self, x: np.ndarray) -> float:
        return float(self.c @ x + 0.5 * x @ self.Q @ x + self.offset)


def read_with_highs(path: Path) -> HighsModel:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    status = h.readModel(str(path))
    assert status in (highspy.HighsStatus.kOk, highspy.HighsStatus.kWarning), status
    lp = h.getLp()
    n, m = lp.num_col_, lp.num_row_
    A = np.zeros((m, n))
    a = lp.a_matrix_
    start, index, value = list(a.start_), list(a.index_), list(a.value_)
    for col in range(n):
        for k in range(start[col], start[col + 1]):
            A[index[k], col] += value[k]
    Q = np.zeros((n, n))
    hess = h.getModel().hessian_
    if hess.dim_:
        hs, hi, hv = list(hess.start_), list(hess.index_), list(hess.value_)
        for col in range(hess.dim_):
            for k in range(hs[col], hs[col + 1]):
                row = hi[k]
                Q[row, col] += hv[k]
                if row != col:
                    Q[col, row] += hv[k]  # triangular storage: mirror the lower part
    integ = list(lp.integrality_) or [highspy.HighsVarType.kContinuous] * n
    return HighsModel(
        names=list(lp.col_names_),
        c=np.array(lp.col_cost_),
        offset=float(lp.offset_),
        maximize=lp.sense_ == highspy.ObjSense.kMaximize,
        col_lower=np.array(lp.col_lower_),
        col_upper=np.array(lp.col_upper_),
        integer=np.array([t == highspy.HighsVarType.kInteger for t in integ]),
        row_names=list(lp.row_names_),
        row_lower=np.array(lp.row_lower_),
        row_upper=np.array(lp.row_upper_),
        A=A,
        Q=Q,
    )
