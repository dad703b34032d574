"""Simulated annealing over many replicas, compiled with numba, with a 1-flip descent polish.

The schedule is geometric in β from ``beta_range[0]`` (hot) to ``beta_range[1]`` (cold), one
Metropolis sweep per β. Replicas run in parallel on all cores (numba ``prange``), each with its
own random stream derived from the seed, so the same seed gives the same samples. The run is cut
into chunks of sweeps; between chunks the driver checks the time limit and the target energy and
stops early, returning the best state every replica has seen. Every returned state is polished by
greedy single-flip descent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kakehashi.exceptions import BackendRejected
from kakehashi.ising import intkernels, kernels
from kakehashi.ising.arrays import IsingArrays

#: Largest integer |dE| a lookup table is built for; beyond it the kernels call exp().
_MAX_TABLE = 4096


@dataclass
class EngineResult:
    """What an engine run produced.

    Attributes:
        spins: (replicas, n) int8 spins, the best state each replica found (polished).
        energies: (replicas,) exact float64 energies including the offset.
        seconds: wall time of the run (seconds).
        reached_target: a replica reached the requested target energy.
        timed_out: the time limit stopped the run before its schedule ended.
        time_to_target: seconds from the start until the target was first seen (None if never).
        info: details (sweeps or steps done, schedule, kernel).
    """

    spins: np.ndarray
    energies: np.ndarray
    seconds: float
    reached_target: bool = False
    timed_out: bool = False
    time_to_target: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


#: ``on_improve(spins, energy)``: one int8 spin row and its exact energy (offset included).
ImproveCallback = Callable[[np.ndarray, float], None]


class Improvements:
    """Forwards a run's best state to ``on_improve`` each time the best energy drops.

    ``offer`` is called between kernel chunks with every replica's best state; it costs one
    ``argmin`` and, on an improvement only, one row copy.
    """

    def __init__(self, on_improve: ImproveCallback | None) -> None:
        self.on_improve = on_improve
        self.best = math.inf

    def offer(self, states: np.ndarray, energies: np.ndarray) -> None:
        if self.on_improve is None or len(energies) == 0:
            return
        k = int(np.argmin(energies))
        e = float(energies[k])
        if e < self.best - 1e-9:
            self.best = e
            self.on_improve(np.array(states[k], dtype=np.int8), e)


def default_beta_range(arrays: IsingArrays) -> tuple[float, float]:
    """(hot, cold) inverse temperatures from the coefficients (1/energy units).

    Hot: the typical largest flip, 2·max field, is taken with probability about ½ at a scale
    set by the root-mean-square field; cold: the smallest flip 2·min|coefficient| is taken with
    probability about 1/(10·n)... tuned on Gset and dense ±1 graphs (see benchmarks/maxcut.py).
    """
    n = max(arrays.n, 2)
    rms_field = arrays.rms_field
    hot = math.log(2.0) / (2.0 * max(rms_field, 1e-12))
    cold = math.log(10.0 * n) / (2.0 * arrays.min_coupling())
    return hot, max(cold, hot * 1.01)


def _betas(hot: float, cold: float, sweeps: int, k0: int, k1: int) -> np.ndarray:
    """β of sweeps k0..k1-1 of a geometric schedule from ``hot`` to ``cold`` over ``sweeps``."""
    k = np.arange(k0, k1, dtype=np.float64)
    if sweeps == 1:
        return np.full(k.shape, cold)
    return np.asarray(hot * (cold / hot) ** (k / (sweeps - 1)))


def _table(betas: np.ndarray, arrays: IsingArrays) -> np.ndarray:
    """exp(-β·d) for the integer energy changes d = 0..ceil(2·max field)+1, one row per β."""
    dmax = math.ceil(2.0 * arrays.max_field()) + 1
    d = np.arange(dmax + 1, dtype=np.float64)
    return np.exp(-np.outer(betas, d))


def anneal(
    arrays: IsingArrays,
    *,
    num_replicas: int = 16,
    num_sweeps: int = 1000,
    beta_range: tuple[float, float] | None = None,
    seed: int | None = None,
    time_limit: float | None = None,
    target: float | None = None,
    restarts: bool = False,
    chunk_sweeps: int = 64,
    polish: bool = True,
    kernel: str | None = None,
    integer: bool | None = None,
    deadline: float | None = None,
    on_improve: ImproveCallback | None = None,
    fill: bool = False,
) -> EngineResult:
    """Anneal ``num_replicas`` replicas for ``num_sweeps`` sweeps each.

    Args:
        arrays: the Ising model.
        num_replicas: independent replicas (run in parallel on all cores).
        num_sweeps: Metropolis sweeps per replica (one per β of the geometric schedule).
        beta_range: (hot, cold) inverse temperatures; default :func:`default_beta_range`.
        seed: random seed (None: drawn from the OS).
        time_limit: wall-clock budget in seconds; the best states so far are returned.
        target: stop as soon as a replica reaches this energy (including the offset).
        restarts: when the schedule ends without reaching ``target``, start new replicas
            (fresh streams) until the target or the time limit; needs a target or time limit.
        chunk_sweeps: sweeps between time/target checks.
        polish: run the 1-flip descent on every returned state.
        kernel: "dense" or "sparse" to force a kernel; default by density.
        integer: use the integer kernels (:mod:`~kakehashi.ising.intkernels`); default
            whenever the model allows them (coefficients multiples of ½, small enough).
        deadline: a ``time.perf_counter()`` instant to stop at (the earlier of it and
            ``time_limit`` counts); the polish runs after it, so callers leave room for it.
        on_improve: called with the best state and its exact energy whenever the best energy
            seen between chunks drops (see :mod:`kakehashi.backends.progress`).
        fill: stretch or shrink the schedule so that it ends (cold) at the time limit: after
            every chunk the sweeps left are re-fitted to :data:`FILL_SHARE` of the time left at
            the measured sweep rate (``num_sweeps`` is the first guess). A run cut by a noisy
            machine still ends cold, instead of stopping half-way down the schedule.
    """
    start = time.perf_counter()
    if deadline is not None:
        left = max(0.0, deadline - start)
        time_limit = left if time_limit is None else min(float(time_limit), left)
    track = Improvements(on_improve)
    R = max(1, int(num_replicas))
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    hot, cold = beta_range if beta_range is not None else default_beta_range(arrays)
    if integer is not False and int_layout(arrays, kernel) is not None:
        return _anneal_int(arrays, R, max(1, int(num_sweeps)), (hot, cold), int(seed), start, time_limit,
                           target, restarts, polish, kernel, track, fill)
    if integer:
        raise BackendRejected("anneal: the integer kernels need coefficients that are multiples of 1/2")
    return _anneal_float(arrays, R, max(1, int(num_sweeps)), (hot, cold), int(seed), start, time_limit,
                         target, restarts, chunk_sweeps, polish, kernel, track, fill)


class _Restarts:
    """Best states over independent restarts: accumulate, check the target, trim, report.

    Shared by the float and integer paths so both stop and report the same way.
    """

    def __init__(self, n: int, R: int, start: float, target: float | None, deadline: float | None,
                 restarts: bool) -> None:
        self.R, self.start, self.target, self.deadline, self.restarts = R, start, target, deadline, restarts
        self.spins = np.zeros((0, n), dtype=np.int8)
        self.energies = np.zeros(0)
        self.rounds = 0
        self.sweeps = 0
        self.timed_out = False
        self.ttt: float | None = None

    def add(self, best_s: np.ndarray, exact: np.ndarray) -> bool:
        """Record a round's best states (exact energies); True when no further round should run."""
        self.spins = np.concatenate([self.spins, best_s])
        self.energies = np.concatenate([self.energies, exact])
        if self.ttt is None and self.target is not None and exact.min() <= float(self.target) + 1e-7:
            self.ttt = time.perf_counter() - self.start
        if self.ttt is not None or self.timed_out or not self.restarts:
            return True
        if self.deadline is None and self.target is None:
            return True
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            self.timed_out = True
            return True
        if self.energies.shape[0] > 4 * self.R:  # keep the best 2R states only
            keep = np.argsort(self.energies, kind="stable")[: 2 * self.R]
            self.spins, self.energies = self.spins[keep], self.energies[keep]
        return False

    def result(self, info: dict[str, Any]) -> EngineResult:
        order = np.argsort(self.energies, kind="stable")[: self.R]
        return EngineResult(
            spins=self.spins[order],
            energies=self.energies[order],
            seconds=time.perf_counter() - self.start,
            reached_target=self.ttt is not None,
            timed_out=self.timed_out,
            time_to_target=self.ttt,
            info={**info, "sweeps": self.sweeps, "rounds": self.rounds},
        )


def _anneal_float(arrays: IsingArrays, R: int, sweeps: int, beta: tuple[float, float], seed: int,
                  start: float, time_limit: float | None, target: float | None, restarts: bool,
                  chunk_sweeps: int, polish: bool, kernel: str | None, track: Improvements,
                  fill: bool = False) -> EngineResult:
    """The general path (real coefficients, or a forced kernel): float fields, exp() or a table."""
    hot, cold = beta
    n = arrays.n
    use_table = arrays.integral and math.ceil(2.0 * arrays.max_field()) + 1 <= _MAX_TABLE
    no_table = np.zeros((1, 1))
    dense = arrays.is_dense if kernel is None else kernel == "dense"
    if dense:
        J = arrays.dense(np.float32)
        fdtype: Any = np.float32
    else:
        J = np.zeros((0, 0), dtype=np.float32)
        fdtype = np.float64
    indptr, indices, data = arrays.Js.indptr, arrays.Js.indices, arrays.Js.data
    target_raw = -np.inf if target is None else float(target) - arrays.offset + 1e-7
    deadline = None if time_limit is None else start + float(time_limit)
    rng = kernels.seed_streams(int(seed) & 0x7FFFFFFFFFFFFFFF, R)

    run = _Restarts(n, R, start, target, deadline, restarts)
    stop = np.zeros(1, dtype=np.int64)
    while True:
        run.rounds += 1
        s = kernels.random_spins(rng, n)
        f = np.empty((R, n), dtype=fdtype)
        energy = np.empty(R)
        if dense:
            kernels.fields_dense(J, arrays.h.astype(fdtype), s, f, energy)
        else:
            kernels.fields_sparse(indptr, indices, data, arrays.h, s, f, energy)
        best_s = s.copy()
        best_e = energy.copy()
        k0 = 0
        total = sweeps
        while k0 < total:
            k1 = min(total, k0 + chunk_sweeps)
            b = _betas(hot, cold, total, k0, k1)
            t_chunk = time.perf_counter()
            t = _table(b, arrays) if use_table else no_table
            if dense:
                kernels.anneal_dense(J, b, t, use_table, s, f, energy, best_s, best_e, rng, target_raw, stop)
            else:
                kernels.anneal_sparse(indptr, indices, data, b, t, use_table, s, f, energy, best_s, best_e,
                                      rng, target_raw, stop)
            run.sweeps += (k1 - k0) * R
            track.offer(best_s, best_e + arrays.offset)
            now = time.perf_counter()
            if fill and deadline is not None:
                total = _refit(k1, total, (now - t_chunk) / (k1 - k0), deadline - now)
            k0 = k1
            if stop[0]:
                run.ttt = now - start
                break
            if deadline is not None and now >= deadline:
                run.timed_out = True
                break
        if polish:
            fb = np.empty((R, n), dtype=fdtype)
            eb = np.empty(R)
            if dense:
                kernels.fields_dense(J, arrays.h.astype(fdtype), best_s, fb, eb)
                kernels.descend_dense(J, best_s, fb, eb)
            else:
                kernels.fields_sparse(indptr, indices, data, arrays.h, best_s, fb, eb)
                kernels.descend_sparse(indptr, indices, data, best_s, fb, eb)
        if run.add(best_s, arrays.energies(best_s)):
            break
    return run.result({"engine": "anneal", "kernel": "dense" if dense else "sparse", "table": use_table,
                       "beta_range": [float(hot), float(cold)], "seed": int(seed)})


def int_layout(arrays: IsingArrays, kernel: str | None = None) -> str | None:
    """"dense" or "sparse" when the integer kernels can run this model, else None.

    Needs integral coefficients, flip energies below the table limit and, for the dense layout,
    doubled couplings that fit int8.
    """
    if not arrays.integral or int_width(arrays) > _MAX_TABLE:
        return None
    dense = arrays.is_dense if kernel is None else kernel == "dense"
    if dense:
        return "dense" if 2.0 * arrays.max_coupling <= 127.0 else ("sparse" if kernel is None else None)
    return "sparse"


def int_width(arrays: IsingArrays) -> int:
    """One more than the largest flip energy |dE| = 2·|field| the model can produce."""
    return math.ceil(2.0 * arrays.max_field()) + 2


#: Share of the time left that a ``fill`` run plans its remaining sweeps into.
FILL_SHARE = 0.9


def _refit(done: int, total: int, per_sweep: float, left: float) -> int:
    """A ``fill`` schedule's new length: ``done`` plus the sweeps that fit in FILL_SHARE·left."""
    return done + max(1, int(FILL_SHARE * max(0.0, left) / max(per_sweep, 1e-9)))


#: Most entries of one threshold table (uint32: 1 MiB); longer runs are cut into chunks.
_TABLE_ENTRIES = 1 << 18
#: Target wall time of one kernel call between time-limit / target checks (seconds).
_CHUNK_SECONDS = 0.05


def _anneal_int(arrays: IsingArrays, R: int, sweeps: int, beta: tuple[float, float], seed: int,
                start: float, time_limit: float | None, target: float | None, restarts: bool,
                polish: bool, kernel: str | None, track: Improvements, fill: bool = False) -> EngineResult:
    """Integer path: int8 spins, integer fields, threshold tables (see ``intkernels``)."""
    hot, cold = beta
    n = arrays.n
    layout = int_layout(arrays, kernel)
    width = int_width(arrays)
    h2 = np.rint(2.0 * arrays.h).astype(np.int64)
    if layout == "dense":
        C = intkernels.doubled_rows(arrays.Js.indptr, arrays.Js.indices, arrays.Js.data, n)
        gdtype: Any = np.int16 if width < 32000 else np.int32
    else:
        C = np.zeros((0, 0), dtype=np.int8)
        gdtype = np.int32
    indptr, indices = arrays.Js.indptr, arrays.Js.indices
    coup = np.rint(2.0 * arrays.Js.data).astype(np.int32) if layout == "sparse" else np.zeros(0, np.int32)
    deadline = None if time_limit is None else start + float(time_limit)
    rng = kernels.seed_streams(int(seed) & 0x7FFFFFFFFFFFFFFF, R)
    checks = deadline is not None or target is not None
    # Without checks a run is one kernel call, unless its threshold table would be large.
    chunk = max(1, min(sweeps, _TABLE_ENTRIES // width)) if not checks else 8

    run = _Restarts(n, R, start, target, deadline, restarts)
    while True:
        run.rounds += 1
        s = kernels.random_spins(rng, n)
        g = np.empty((R, n), dtype=gdtype)
        if layout == "dense":
            intkernels.fields_rows(C, h2, s, g)
        else:
            intkernels.fields_csr(indptr, indices, coup, h2, s, g)
        e0 = arrays.energies(s)  # exact, with offset
        energy = np.zeros(R, dtype=np.int64)
        best_e = np.zeros(R, dtype=np.int64)
        best_s = s.copy()
        k0 = 0
        while k0 < sweeps:
            k1 = min(sweeps, k0 + chunk)
            thr, cut = intkernels.thresholds(_betas(hot, cold, sweeps, k0, k1), width)
            t0 = time.perf_counter()
            if layout == "dense":
                intkernels.anneal_rows(C, thr, cut, s, g, energy, best_s, best_e, rng)
            else:
                intkernels.anneal_csr(indptr, indices, coup, thr, cut, s, g, energy, best_s, best_e, rng)
            now = time.perf_counter()
            run.sweeps += (k1 - k0) * R
            if checks:  # size the next chunk to about _CHUNK_SECONDS of work
                per = max(now - t0, 1e-6) / (k1 - k0)
                chunk = int(min(4096, max(1, _CHUNK_SECONDS / per), max(1, _TABLE_ENTRIES // width)))
                if fill and deadline is not None:
                    sweeps = _refit(k1, sweeps, per, deadline - now)
            k0 = k1
            track.offer(best_s, e0 + best_e)
            if target is not None and float(np.min(e0 + best_e)) <= float(target) + 1e-7:
                run.ttt = now - start
                break
            if deadline is not None and now >= deadline:
                run.timed_out = k0 < sweeps
                break
        if polish:
            if layout == "dense":
                intkernels.fields_rows(C, h2, best_s, g)
                intkernels.descend_rows(C, best_s, g)
            else:
                intkernels.fields_csr(indptr, indices, coup, h2, best_s, g)
                intkernels.descend_csr(indptr, indices, coup, best_s, g)
        if run.add(best_s, arrays.energies(best_s)):
            break
    return run.result({"engine": "anneal", "kernel": f"{layout}-int", "table": True,
                       "beta_range": [float(hot), float(cold)], "seed": int(seed)})
