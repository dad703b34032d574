"""Step size and coupling scale for simulated bifurcation, from the coupling spectrum.

With E(s) = ½ sᵀJs s + h·s the SB force is -(a0 - a(t)) x - c0 (Js x + h). Linearised, each
eigenmode of K(t) = (a0 - a(t)) I + c0 Js with eigenvalue μ > 0 oscillates, and the symplectic
Euler step is stable only while dt² a0 μ < 4. The largest μ over the run is a0 + c0 λmax(Js).
On all-positive graphs (Gset G1, G22, …) λmax(Js) is about the mean degree, far above the bulk
of the spectrum, so a fixed dt (≈1.25, fine for zero-mean couplings) makes the uniform mode blow
up and the cut collapses to about 0. We take dt from λmax instead, with a safety margin.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from kakehashi.ising.arrays import IsingArrays

#: Fraction of the stability limit used as the step.
SAFETY = 0.8
#: The step never exceeds this (Goto et al. use 1.25 for zero-mean couplings).
DT_MAX = 1.25


#: Above this many spins the Lanczos tolerance is relaxed (1e-2: λ within 0.1 %, half the time).
LARGE = 5000


def extreme_eigenvalues(Js: sp.csr_matrix, *, seed: int = 0) -> tuple[float, float]:
    """(λmin, λmax) of the symmetric ``Js`` by Lanczos (eigsh); power iteration as fallback."""
    n = Js.shape[0]
    if n == 0 or Js.nnz == 0:
        return 0.0, 0.0
    if n <= 64:
        w = np.linalg.eigvalsh(Js.toarray())
        return float(w[0]), float(w[-1])
    v0 = np.random.default_rng(seed).standard_normal(n)
    tol = 1e-2 if n > LARGE else 1e-3
    try:
        lmax = float(spla.eigsh(Js, k=1, which="LA", v0=v0, tol=tol, maxiter=5000,
                                return_eigenvectors=False)[0])
        lmin = float(spla.eigsh(Js, k=1, which="SA", v0=v0, tol=tol, maxiter=5000,
                                return_eigenvectors=False)[0])
        return lmin, lmax
    except (spla.ArpackNoConvergence, spla.ArpackError):
        return _power_extremes(Js, v0)


def _power_extremes(Js: sp.csr_matrix, v0: np.ndarray, iters: int = 300) -> tuple[float, float]:
    """Power iteration: the dominant eigenvalue, then the other end by shifting."""

    def dominant(shift: float) -> float:
        v = v0 / np.linalg.norm(v0)
        lam = 0.0
        for _ in range(iters):
            w = Js @ v - shift * v
            norm = float(np.linalg.norm(w))
            if norm == 0.0:
                return shift
            lam = float(v @ w)
            v = w / norm
        return lam + shift

    first = dominant(0.0)
    second = dominant(first)
    return (min(first, second), max(first, second))


def goto_c0(arrays: IsingArrays) -> float:
    """Goto's coupling scale c0 = 0.5 / (sqrt(n) · std(Js)) (std over all n² entries)."""
    n = max(arrays.n, 2)
    mean = arrays.Js.data.sum() / (n * n)
    var = float((arrays.Js.data**2).sum() / (n * n) - mean**2)
    if var <= 0.0:
        return 0.5
    return 0.5 / (math.sqrt(n) * math.sqrt(var))


def stable_dt(a0: float, c0: float, lam_max: float) -> float:
    """A step size inside the symplectic-Euler stability region for every positive mode."""
    mu = max(a0 + c0 * max(lam_max, 0.0), 1e-12)
    dt = SAFETY * 2.0 / math.sqrt(a0 * mu)
    return float(min(DT_MAX, dt))
