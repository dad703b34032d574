"""Ising coefficients in the layouts the engine's kernels want.

The compile layer hands over an :class:`~kakehashi.compile.targets.IsingModel` (local fields
``h``, strictly upper-triangular CSR ``J``, ``offset``). The kernels want the *symmetric*
coupling matrix ``Js = J + Jᵀ`` (so the local field of spin i is ``h_i + (Js s)_i``), either as
CSR (sparse instances) or as a dense float32 array (dense instances). This module builds both,
once per solve, and evaluates energies exactly (float64) for the samples the kernels return.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp

from kakehashi.compile.targets import IsingModel

#: Above this fill ratio of Js the dense kernels are used (BLAS / contiguous rows beat CSR).
DENSE_THRESHOLD = 0.15


@dataclass(frozen=True)
class IsingArrays:
    """E(s) = offset + h·s + ½ sᵀ Js s, spins s ∈ {-1, +1}ⁿ (Js symmetric, zero diagonal).

    Attributes:
        h: (n,) float64 local fields.
        Js: symmetric CSR coupling matrix, float64, int32 indices, sorted.
        offset: constant energy term.
        integral: every single-flip energy change 2·s_i·(h_i + (Js s)_i) is an integer, i.e.
            every coefficient of h and Js is a multiple of ½ (enables exact table lookups).
    """

    h: np.ndarray
    Js: sp.csr_matrix
    offset: float
    integral: bool

    @property
    def n(self) -> int:
        return int(self.h.shape[0])

    @property
    def density(self) -> float:
        """Fraction of the n·(n-1) off-diagonal entries of Js that are non-zero."""
        n = self.n
        return float(self.Js.nnz) / max(1, n * (n - 1))

    @property
    def is_dense(self) -> bool:
        return self.density >= DENSE_THRESHOLD

    def dense(self, dtype: Any = np.float32) -> np.ndarray:
        """Js as a dense C-contiguous array (float32 unless asked otherwise)."""
        return np.ascontiguousarray(self.Js.toarray().astype(dtype, copy=False))

    def energies(self, spins: np.ndarray) -> np.ndarray:
        """Exact float64 energies of the rows of ``spins`` ((k, n) or (n,))."""
        s = np.atleast_2d(np.asarray(spins, dtype=np.float64))
        coupled = np.asarray((self.Js @ s.T).T)
        return np.asarray(self.offset + s @ self.h + 0.5 * np.einsum("ij,ij->i", coupled, s))

    def max_field(self) -> float:
        """max_i (|h_i| + Σ_j |Js_ij|): the largest local field any state can have."""
        return self._max_field

    @cached_property
    def _max_field(self) -> float:
        absrow, _ = _row_norms(self.Js.indptr, self.Js.data)
        return float(np.max(np.abs(self.h) + absrow)) if self.n else 0.0

    @cached_property
    def max_coupling(self) -> float:
        """max |Js_ij| (0.0 without couplings)."""
        return float(np.max(np.abs(self.Js.data))) if self.Js.nnz else 0.0

    @cached_property
    def rms_field(self) -> float:
        """sqrt(mean_i (h_i² + Σ_j Js_ij²)): the typical local field of a random state."""
        _, sqrow = _row_norms(self.Js.indptr, self.Js.data)
        rows = sqrow + self.h**2
        return float(np.sqrt(rows.mean())) if rows.size else 1.0

    def min_coupling(self) -> float:
        """The smallest energy quantum of a coefficient in h or Js (1.0 if there is none).

        For integral models the smallest non-zero |coefficient|; for real-valued ones the 10th
        percentile of the non-zero |coefficients| (a tiny outlier must not freeze the schedule).
        """
        vals = np.abs(np.concatenate([self.Js.data, self.h]))
        vals = vals[vals > 0]
        if not vals.size:
            return 1.0
        return float(vals.min()) if self.integral else float(np.percentile(vals, 10))

    @classmethod
    def from_ising(cls, model: IsingModel) -> IsingArrays:
        """Build from the compile target (``J`` strictly upper triangular)."""
        J = sp.csr_matrix(model.J, dtype=np.float64)
        return cls.from_parts(np.asarray(model.h, dtype=np.float64), J + J.T, float(model.offset))

    @classmethod
    def from_parts(cls, h: np.ndarray, Js: sp.spmatrix | np.ndarray, offset: float = 0.0) -> IsingArrays:
        """Build from local fields and an already symmetric coupling matrix."""
        M = sp.csr_matrix(Js, dtype=np.float64)
        M.setdiag(0.0)
        M.eliminate_zeros()
        M.sum_duplicates()
        M.sort_indices()
        M = sp.csr_matrix((M.data, M.indices.astype(np.int32), M.indptr.astype(np.int64)), shape=M.shape)
        hh = np.ascontiguousarray(h, dtype=np.float64)
        integral = bool(np.all(2 * M.data == np.round(2 * M.data)) and np.all(2 * hh == np.round(2 * hh)))
        return cls(h=hh, Js=M, offset=float(offset), integral=integral)

    @classmethod
    def from_bqm(cls, bqm: Any, variables: tuple[Any, ...]) -> IsingArrays:
        """Build from a dimod BQM (any vartype) over ``variables`` (column order)."""
        h_dict, j_dict, offset = bqm.spin.to_ising()
        index = {v: i for i, v in enumerate(variables)}
        n = len(variables)
        h = np.zeros(n)
        for v, bias in h_dict.items():
            h[index[v]] = bias
        rows = [index[u] for (u, _v) in j_dict]
        cols = [index[v] for (_u, v) in j_dict]
        vals = list(j_dict.values())
        upper = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
        return cls.from_parts(h, upper + upper.T, float(offset))


@nb.njit(cache=True)
def _row_norms(indptr: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Σ_j |a_ij|, Σ_j a_ij²) per CSR row, without a copy of the matrix."""
    n = indptr.shape[0] - 1
    l1 = np.zeros(n)
    l2 = np.zeros(n)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            l1[i] += abs(v)
            l2[i] += v * v
    return l1, l2


def cut_weights_to_ising(n: int, edges: np.ndarray, weights: np.ndarray) -> IsingModel:
    """MaxCut on an undirected graph as an Ising minimisation with E(s) = -cut(s).

    ``edges`` is (m, 2) with 0-based endpoints; cut(s) = Σ w_ij (1 - s_i s_j)/2, so
    E(s) = -Σw/2 + Σ_{i<j} (w_ij/2) s_i s_j.
    """
    e = np.asarray(edges, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    lo, hi = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
    J = sp.coo_matrix((w / 2.0, (lo, hi)), shape=(n, n)).tocsr()
    J.sum_duplicates()
    return IsingModel(h=np.zeros(n), J=J, offset=-float(w.sum()) / 2.0)
