"""Array kernels for simulated bifurcation: the one matrix product per step, in numpy.

All agents (replicas) are the columns of one (n × agents) float32 matrix, so a step costs one
matrix product: dense BLAS (``np.matmul`` on a float32 matrix) when the couplings are dense,
scipy CSR × dense when they are sparse (O(edges · agents) time, O(edges + n · agents) memory).
:mod:`kakehashi.ising.torch_kernels` provides the same operations in PyTorch (GPU).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from kakehashi.ising.arrays import IsingArrays


class SBOps(Protocol):
    """The operations the SB loop needs, on one array library."""

    kernel: str

    def zeros(self, n: int, agents: int) -> Any: ...

    def uniform(self, n: int, agents: int, seed: int, scale: float) -> Any: ...

    def force(self, x: Any) -> Any:
        """Js @ x + h (h broadcast over agents)."""

    def sign(self, x: Any) -> Any: ...

    def walls(self, x: Any, y: Any) -> None:
        """Inelastic walls: where |x| > 1 set x = sign(x) and y = 0 (in place)."""

    def to_numpy(self, x: Any) -> np.ndarray: ...

    def energies(self, s: Any) -> np.ndarray:
        """Energies (without offset) of the spin columns of ``s`` (n × agents, ±1), float64."""


class NumpyOps:
    """numpy/scipy kernels: float32, dense BLAS or CSR chosen by density."""

    def __init__(self, arrays: IsingArrays, dense: bool | None = None) -> None:
        use_dense = arrays.is_dense if dense is None else dense
        self.kernel = "dense" if use_dense else "sparse"
        self._J: Any = arrays.dense(np.float32) if use_dense else arrays.Js.astype(np.float32)
        self._h = arrays.h.astype(np.float32)[:, None]
        self._has_h = bool(np.any(arrays.h != 0))

    def zeros(self, n: int, agents: int) -> np.ndarray:
        return np.zeros((n, agents), dtype=np.float32)

    def uniform(self, n: int, agents: int, seed: int, scale: float) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return (rng.uniform(-scale, scale, size=(n, agents))).astype(np.float32)

    def force(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(self._J @ x, dtype=np.float32)
        if self._has_h:
            out += self._h
        return out

    def sign(self, x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0, np.float32(1.0), np.float32(-1.0))

    def walls(self, x: np.ndarray, y: np.ndarray) -> None:
        out = np.abs(x) > 1.0
        if out.any():
            x[out] = np.sign(x[out])
            y[out] = 0.0

    def to_numpy(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x)

    def energies(self, s: np.ndarray) -> np.ndarray:
        F = self.force(s)
        return np.asarray(((F + self._h) * s).sum(axis=0, dtype=np.float64) / 2.0)
