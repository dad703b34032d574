"""Integer Metropolis kernels (numba) for models whose flip energies are integers.

When every coefficient of h and Js is a multiple of ½ (``IsingArrays.integral``), the doubled
couplings ``c = 2·Js`` and doubled fields ``g = 2·(h + Js s)`` are integers and the energy change
of flipping spin i is the integer ``dE = -s_i·g_i``. These kernels keep spins as int8, fields as
int32 (sparse) or int16/int32 (dense, int8 coupling rows), and accept an uphill flip of size d at
sweep k when the top 32 bits of the replica's xorshift64 stream are below ``thr[k, d]`` =
⌊exp(-β_k d)·2³²⌋ — a table lookup, no exp() in the loop. A downhill or neutral flip uses no
random number; an uphill flip with ``d >= cut[k]`` (where the threshold is 0) is rejected
without one.

Replicas run in parallel (numba ``prange``, one replica per iteration); a replica's trajectory
depends only on its own stream, so results do not depend on the thread count.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_S12 = np.uint64(12)
_S25 = np.uint64(25)
_S27 = np.uint64(27)
_S32 = np.uint64(32)
#: exp(-x)·2³² < 1 beyond x = 32·ln 2 ≈ 22.18: such flips are never taken.
LOG_2_32 = 22.18070977791825


@nb.njit(cache=True, inline="always")
def _next(x: np.uint64) -> np.uint64:
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    return x


def thresholds(betas: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(thr, cut): thr[k, d] = ⌊exp(-β_k d)·2³²⌋ (uint32), cut[k] = the first d never accepted.

    ``width`` is one more than the largest dE the model can produce; the table stops at the
    largest cut (a kernel rejects dE >= cut[k] before it looks at the table).
    """
    cut = np.minimum(np.ceil(LOG_2_32 / np.maximum(betas, 1e-300)) + 1.0, float(width)).astype(np.int64)
    used = int(cut.max()) + 1 if cut.size else 1  # entries at or beyond every cut are never read
    d = np.arange(min(width, used), dtype=np.float64)
    p = np.exp(-np.outer(betas, d)) * 4294967296.0
    thr = np.minimum(np.floor(p), 4294967295.0).astype(np.uint32)
    return thr, cut


@nb.njit(cache=True)
def doubled_rows(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n: int) -> np.ndarray:
    """The dense (n, n) int8 matrix 2·Js from CSR, without float temporaries (|2·Js| <= 127)."""
    C = np.zeros((n, n), dtype=np.int8)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            C[i, indices[p]] = np.int8(round(2.0 * data[p]))
    return C


@nb.njit(cache=True, parallel=True)
def fields_csr(indptr: np.ndarray, indices: np.ndarray, coup: np.ndarray, h2: np.ndarray,
               s: np.ndarray, g: np.ndarray) -> None:
    """g[r] = h2 + coup · s[r] for every replica (doubled integer fields)."""
    R, n = s.shape
    for r in nb.prange(R):
        sr = s[r]
        gr = g[r]
        for i in range(n):
            acc = h2[i]
            for p in range(indptr[i], indptr[i + 1]):
                acc += coup[p] * sr[indices[p]]
            gr[i] = acc


@nb.njit(cache=True, parallel=True)
def fields_rows(C: np.ndarray, h2: np.ndarray, s: np.ndarray, g: np.ndarray) -> None:
    """Dense twin of :func:`fields_csr` (C an (n, n) int8 matrix of doubled couplings)."""
    R, n = s.shape
    for r in nb.prange(R):
        sr = s[r]
        gr = g[r]
        for i in range(n):
            acc = np.int64(h2[i])
            row = C[i]
            for j in range(n):
                acc += np.int64(row[j]) * sr[j]
            gr[i] = acc


@nb.njit(cache=True, parallel=True)
def anneal_csr(indptr: np.ndarray, indices: np.ndarray, coup: np.ndarray,
               thr: np.ndarray, cut: np.ndarray, s: np.ndarray, g: np.ndarray,
               energy: np.ndarray, best_s: np.ndarray, best_e: np.ndarray, rng: np.ndarray) -> None:
    """One Metropolis sweep per row of ``thr`` for every replica (CSR couplings, int32 fields).

    ``energy`` and ``best_e`` are int64 energy offsets (units of the model's energy, relative to
    any common origin); ``best_s`` takes the lowest-energy state seen at the end of a sweep.
    """
    R, n = s.shape
    K = thr.shape[0]
    for r in nb.prange(R):
        x = rng[r]
        e = energy[r]
        be = best_e[r]
        sr = s[r]
        gr = g[r]
        for k in range(K):
            c = cut[k]
            tk = thr[k]
            for i in range(n):
                si = sr[i]
                de = -si * gr[i]
                if de > 0:
                    if de >= c:
                        continue
                    x = _next(x)
                    if (x >> _S32) >= tk[de]:
                        continue
                sn = -si
                sr[i] = sn
                e += de
                two = 2 * sn
                for q in range(indptr[i], indptr[i + 1]):
                    gr[indices[q]] += two * coup[q]
            if e < be:
                be = e
                best_s[r, :] = sr
        rng[r] = x
        energy[r] = e
        best_e[r] = be


@nb.njit(cache=True, parallel=True)
def anneal_rows(C: np.ndarray, thr: np.ndarray, cut: np.ndarray, s: np.ndarray, g: np.ndarray,
                energy: np.ndarray, best_s: np.ndarray, best_e: np.ndarray, rng: np.ndarray) -> None:
    """Dense twin of :func:`anneal_csr`: an accepted flip adds one int8 row to the fields."""
    R, n = s.shape
    K = thr.shape[0]
    for r in nb.prange(R):
        x = rng[r]
        e = energy[r]
        be = best_e[r]
        sr = s[r]
        gr = g[r]
        for k in range(K):
            c = cut[k]
            tk = thr[k]
            for i in range(n):
                si = sr[i]
                de = -np.int64(si) * gr[i]
                if de > 0:
                    if de >= c:
                        continue
                    x = _next(x)
                    if (x >> _S32) >= tk[de]:
                        continue
                sn = -si
                sr[i] = sn
                e += de
                row = C[i]
                if sn > 0:
                    for q in range(n):
                        gr[q] += 2 * row[q]
                else:
                    for q in range(n):
                        gr[q] -= 2 * row[q]
            if e < be:
                be = e
                best_s[r, :] = sr
        rng[r] = x
        energy[r] = e
        best_e[r] = be


@nb.njit(cache=True, parallel=True)
def descend_csr(indptr: np.ndarray, indices: np.ndarray, coup: np.ndarray, s: np.ndarray,
                g: np.ndarray) -> None:
    """Greedy 1-flip descent of every replica to a local minimum (all flips have dE >= 0)."""
    R, n = s.shape
    for r in nb.prange(R):
        sr = s[r]
        gr = g[r]
        improved = True
        while improved:
            improved = False
            for i in range(n):
                if sr[i] * gr[i] > 0:  # dE = -s·g < 0
                    sn = -sr[i]
                    sr[i] = sn
                    two = 2 * sn
                    for q in range(indptr[i], indptr[i + 1]):
                        gr[indices[q]] += two * coup[q]
                    improved = True


@nb.njit(cache=True, parallel=True)
def descend_rows(C: np.ndarray, s: np.ndarray, g: np.ndarray) -> None:
    """Dense twin of :func:`descend_csr`."""
    R, n = s.shape
    for r in nb.prange(R):
        sr = s[r]
        gr = g[r]
        improved = True
        while improved:
            improved = False
            for i in range(n):
                if np.int64(sr[i]) * gr[i] > 0:
                    sn = -sr[i]
                    sr[i] = sn
                    row = C[i]
                    if sn > 0:
                        for q in range(n):
                            gr[q] += 2 * row[q]
                    else:
                        for q in range(n):
                            gr[q] -= 2 * row[q]
                    improved = True



