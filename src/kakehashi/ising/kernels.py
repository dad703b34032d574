"""Numba kernels for the annealer: Metropolis sweeps and a 1-flip descent, many replicas at once.

Every replica r owns one row of each state array: spins ``s[r]`` (int8), local fields
``f[r] = h + Js s[r]``, its energy, its best state so far and one xorshift64* random stream
``rng[r]``. Replicas run in parallel (``prange``); a replica's result depends only on its own
stream, so results are the same whatever the thread count or schedule.

Flipping spin i changes the energy by ``dE = -2 s_i f_i`` and the field of each neighbour k by
``2 s_i' Js_ik`` (s_i' the new value). Sparse kernels walk CSR rows; dense kernels stream one
contiguous row of a float32 matrix per accepted flip.

Acceptance is Metropolis: a flip with dE <= 0 is always taken, one with dE > 0 with probability
exp(-β dE). When every dE is an integer (see ``IsingArrays.integral``) the probabilities of one
sweep come from a precomputed table row (no exp in the loop).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_MUL = np.uint64(0x2545F4914F6CDD1D)
_S12 = np.uint64(12)
_S25 = np.uint64(25)
_S27 = np.uint64(27)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
#: exp(-40) ~ 4e-18: above β·dE = 40 a flip is never taken (skips the random draw).
_CUTOFF = 40.0


@nb.njit(cache=True, inline="always")
def _next(x: np.uint64) -> np.uint64:
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    return x


@nb.njit(cache=True, inline="always")
def _uniform(x: np.uint64) -> float:
    return float((x * _MUL) >> _S11) * _INV53


@nb.njit(cache=True)
def seed_streams(seed: int, count: int) -> np.ndarray:
    """``count`` non-zero xorshift states from one seed (splitmix64), one per replica."""
    out = np.empty(count, dtype=np.uint64)
    z = np.uint64(seed) ^ np.uint64(0x9E3779B97F4A7C15)
    for r in range(count):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        x = z
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
        if x == np.uint64(0):
            x = np.uint64(1)
        out[r] = x
    return out


@nb.njit(cache=True)
def random_spins(rng: np.ndarray, n: int) -> np.ndarray:
    """(replicas × n) int8 uniform random spins drawn from (and advancing) the streams."""
    R = rng.shape[0]
    s = np.empty((R, n), dtype=np.int8)
    for r in range(R):
        x = rng[r]
        for i in range(n):
            x = _next(x)
            s[r, i] = 1 if (x >> np.uint64(63)) == np.uint64(1) else -1
        rng[r] = x
    return s


@nb.njit(cache=True, parallel=True)
def fields_sparse(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, h: np.ndarray,
                  s: np.ndarray, f: np.ndarray, energy: np.ndarray) -> None:
    """f[r] = h + Js s[r] and energy[r] = h·s + ½ sᵀJs s (no offset) for every replica."""
    R, n = s.shape
    for r in nb.prange(R):
        e = 0.0
        for i in range(n):
            acc = h[i]
            for p in range(indptr[i], indptr[i + 1]):
                acc += data[p] * s[r, indices[p]]
            f[r, i] = acc
            e += s[r, i] * (h[i] + 0.5 * (acc - h[i]))
        energy[r] = e


@nb.njit(cache=True, parallel=True)
def fields_dense(J: np.ndarray, h: np.ndarray, s: np.ndarray, f: np.ndarray, energy: np.ndarray) -> None:
    """Dense twin of :func:`fields_sparse` (J a symmetric (n, n) array)."""
    R, n = s.shape
    for r in nb.prange(R):
        e = 0.0
        for i in range(n):
            acc = 0.0
            for j in range(n):
                acc += J[i, j] * s[r, j]
            f[r, i] = h[i] + acc
            e += s[r, i] * (h[i] + 0.5 * acc)
        energy[r] = e


@nb.njit(cache=True, parallel=True)
def anneal_sparse(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                  betas: np.ndarray, table: np.ndarray, use_table: bool,
                  s: np.ndarray, f: np.ndarray, energy: np.ndarray,
                  best_s: np.ndarray, best_e: np.ndarray, rng: np.ndarray,
                  target: float, stop: np.ndarray) -> None:
    """Metropolis sweeps at inverse temperatures ``betas`` (one sweep each) on CSR couplings.

    ``table[k, d]`` = exp(-betas[k]·d) for integer dE = d (used when ``use_table``). A replica
    whose best energy (without offset) reaches ``target`` sets ``stop[0]``; every replica
    checks it once per sweep and returns early.
    """
    R, n = s.shape
    nb_ = betas.shape[0]
    tmax = table.shape[1] - 1
    for r in nb.prange(R):
        x = rng[r]
        e = energy[r]
        be = best_e[r]
        for k in range(nb_):
            if stop[0] != 0:
                break
            beta = betas[k]
            limit = _CUTOFF / beta
            for i in range(n):
                de = -2.0 * s[r, i] * f[r, i]
                if de > 0.0:
                    if de >= limit:
                        continue
                    x = _next(x)
                    if use_table:
                        d = int(de + 0.5)
                        if d > tmax:
                            continue
                        p = table[k, d]
                    else:
                        p = math.exp(-beta * de)
                    if _uniform(x) >= p:
                        continue
                si = -s[r, i]
                s[r, i] = si
                e += de
                two = 2.0 * si
                for q in range(indptr[i], indptr[i + 1]):
                    f[r, indices[q]] += two * data[q]
            if e < be - 1e-9:
                be = e
                best_s[r, :] = s[r, :]
                if be <= target:
                    stop[0] = 1
        rng[r] = x
        energy[r] = e
        best_e[r] = be


@nb.njit(cache=True, parallel=True)
def anneal_dense(J: np.ndarray, betas: np.ndarray, table: np.ndarray, use_table: bool,
                 s: np.ndarray, f: np.ndarray, energy: np.ndarray,
                 best_s: np.ndarray, best_e: np.ndarray, rng: np.ndarray,
                 target: float, stop: np.ndarray) -> None:
    """Dense twin of :func:`anneal_sparse`: J is a symmetric (n, n) float32 array."""
    R, n = s.shape
    nb_ = betas.shape[0]
    tmax = table.shape[1] - 1
    for r in nb.prange(R):
        x = rng[r]
        e = energy[r]
        be = best_e[r]
        fr = f[r]
        for k in range(nb_):
            if stop[0] != 0:
                break
            beta = betas[k]
            limit = _CUTOFF / beta
            for i in range(n):
                de = -2.0 * s[r, i] * fr[i]
                if de > 0.0:
                    if de >= limit:
                        continue
                    x = _next(x)
                    if use_table:
                        d = int(de + 0.5)
                        if d > tmax:
                            continue
                        p = table[k, d]
                    else:
                        p = math.exp(-beta * de)
                    if _uniform(x) >= p:
                        continue
                si = -s[r, i]
                s[r, i] = si
                e += de
                two = np.float32(2.0 * si)
                row = J[i]
                for q in range(n):
                    fr[q] += two * row[q]
            if e < be - 1e-9:
                be = e
                best_s[r, :] = s[r, :]
                if be <= target:
                    stop[0] = 1
        rng[r] = x
        energy[r] = e
        best_e[r] = be


@nb.njit(cache=True, parallel=True)
def descend_sparse(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                   s: np.ndarray, f: np.ndarray, energy: np.ndarray) -> None:
    """Greedy 1-flip descent to a local minimum (every single flip has dE >= 0)."""
    R, n = s.shape
    for r in nb.prange(R):
        improved = True
        while improved:
            improved = False
            for i in range(n):
                de = -2.0 * s[r, i] * f[r, i]
                if de < -1e-12:
                    si = -s[r, i]
                    s[r, i] = si
                    energy[r] += de
                    two = 2.0 * si
                    for q in range(indptr[i], indptr[i + 1]):
                        f[r, indices[q]] += two * data[q]
                    improved = True


@nb.njit(cache=True, parallel=True)
def descend_dense(J: np.ndarray, s: np.ndarray, f: np.ndarray, energy: np.ndarray) -> None:
    """Dense twin of :func:`descend_sparse`."""
    R, n = s.shape
    for r in nb.prange(R):
        fr = f[r]
        improved = True
        while improved:
            improved = False
            for i in range(n):
                de = -2.0 * s[r, i] * fr[i]
                if de < -1e-6:
                    si = -s[r, i]
                    s[r, i] = si
                    energy[r] += de
                    two = np.float32(2.0 * si)
                    row = J[i]
                    for q in range(n):
                        fr[q] += two * row[q]
                    improved = True
