"""The annealer's default policy: what to run, chosen from the problem and the time budget.

A caller gives a model and a budget, nothing else; no setting is per instance. The policy:

* **Replicas**: one per usable core (``os.sched_getaffinity``): each round anneals them in
  parallel, so a round costs the time of one replica.
* **β range**: :func:`~kakehashi.ising.anneal.default_beta_range` (hot end from the RMS local
  field, cold end from the smallest coupling and n), times the fitted multipliers
  :data:`HOT_MULT` / :data:`COLD_MULT`.
* **Restarts whose length grows with the time used**: rounds of independent anneals of
  ``first_sweeps``, then ``GROWTH``× longer each round. The sweep rate is measured on every
  round; when the next round could not be followed by one more, that round is stretched to
  take *all* the time left (its schedule re-fitted to the deadline as it runs, ``fill`` in
  :func:`~kakehashi.ising.anneal.anneal`, so it ends cold), so the last anneal takes about
  half the budget or more (the earlier rounds sum to about one round before it). Big sparse graphs thus get one long anneal at large
  budgets, small dense ones many short restarts first; more time never shortens any round.
* **Stops** only at the deadline, or when a caller-given target energy is reached.
  Without a deadline (``time_limit=None``) it runs :data:`UNTIMED_ROUNDS` rounds.

The first round's length comes from the problem's features (:func:`first_sweeps`): sparse
graphs with signed weights need longer anneals than dense ones of equal size. The constants
below were fitted on the training set written in ``benchmarks/results/maxcut.md`` (Gset
G1–G21, G22 and G55) and on nothing else. Before the first round is timed, its cost is guessed
from the number of couplings (``_PRIOR_PER_ENTRY``), so a first round too long for a short
budget is stretched (shrunk) to it from the start.

The driver is Python over :func:`~kakehashi.ising.anneal.anneal` (numba kernels, ``cache=True``);
one round's Python overhead is a few milliseconds, so it is hand-written rather than a library.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from kakehashi.ising.anneal import EngineResult, ImproveCallback, anneal, default_beta_range
from kakehashi.ising.arrays import IsingArrays

#: Each round is this many times longer than the one before (2 and 4 tied on the training set).
GROWTH = 2.0
#: Share of the time left a stretched (last) round plans to use (the rest absorbs rate noise).
SAFETY = 0.92
#: Rounds when no deadline is given.
UNTIMED_ROUNDS = 3
#: β multipliers on the default range (hot, cold), fitted on the training set
#: (benchmarks/maxcut_train.py, results/maxcut_train.md: hot ×2 had the lowest mean gap at 2 s).
HOT_MULT = 2.0
COLD_MULT = 1.0


@dataclass(frozen=True)
class Features:
    """What the policy looks at.

    Attributes:
        n: spins.
        edges: non-zero couplings (each pair once).
        mean_degree: 2·edges/n.
        density: edges / (n·(n-1)/2).
        signed: some couplings are negative and some positive (frustrated, like ±1 Gset graphs).
        integral: coefficients are multiples of ½ (the integer kernels apply).
    """

    n: int
    edges: int
    mean_degree: float
    density: float
    signed: bool
    integral: bool


def features(arrays: IsingArrays) -> Features:
    """The :class:`Features` of a model (one pass over its couplings)."""
    n = arrays.n
    edges = int(arrays.Js.nnz // 2)
    data = arrays.Js.data
    signed = bool(data.size and data.min() < 0 < data.max())
    return Features(n=n, edges=edges, mean_degree=2.0 * edges / max(n, 1),
                    density=edges / max(1.0, n * (n - 1) / 2.0), signed=signed,
                    integral=bool(arrays.integral))


def usable_cores() -> int:
    """Cores this process may run on (affinity mask; ``os.cpu_count()`` where it is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def first_sweeps(f: Features) -> int:
    """Sweeps of the first round: 100 for a small dense graph, up to 2,000 for large sparse ones.

    Sparse graphs (mean degree below ~16) relax slowly and need longer anneals; signed ones
    more (their low states are separated by frustrated loops); longer as the graph grows.
    """
    base = 100.0
    if f.mean_degree < 16:
        base *= 2.0
    if f.signed:
        base *= 2.0
    base *= max(1.0, math.sqrt(f.n / 1000.0))
    return int(min(2000, max(50, round(base))))


@dataclass(frozen=True)
class AnnealPlan:
    """One call's plan (all the policy decided; in ``info["policy"]``)."""

    replicas: int
    first_sweeps: int
    growth: float
    beta_range: tuple[float, float]

    def as_info(self) -> dict[str, Any]:
        return {"replicas": self.replicas, "first_sweeps": self.first_sweeps, "growth": self.growth,
                "beta_range": [float(self.beta_range[0]), float(self.beta_range[1])]}


def plan(arrays: IsingArrays, *, replicas: int | None = None, sweeps: int | None = None,
         beta_range: tuple[float, float] | None = None) -> AnnealPlan:
    """The policy's plan for ``arrays``; given arguments override the policy's choice."""
    f = features(arrays)
    if beta_range is None:
        hot, cold = default_beta_range(arrays)
        beta_range = (hot * HOT_MULT, max(cold * COLD_MULT, hot * HOT_MULT * 1.01))
    return AnnealPlan(replicas=replicas or usable_cores(), first_sweeps=sweeps or first_sweeps(f),
                      growth=1.0 if sweeps else GROWTH, beta_range=beta_range)


#: Prior seconds per coupling-or-field entry and sweep (one replica per core), before a round is timed.
_PRIOR_PER_ENTRY = 4e-9


def _prior_rate(arrays: IsingArrays, replicas: int) -> float:
    """Guessed seconds per sweep of one round, until the first round measures it."""
    waves = math.ceil(replicas / usable_cores())
    return float(_PRIOR_PER_ENTRY * (arrays.Js.nnz + arrays.n) * waves)


class _Best:
    """The best state over rounds: forwards global improvements only, notes when each came."""

    def __init__(self, start: float, on_improve: ImproveCallback | None) -> None:
        self.start, self.on_improve = start, on_improve
        self.energy = math.inf
        self.time_to_best: float | None = None
        self.improvements = 0

    def offer(self, spins: np.ndarray, energy: float) -> None:
        if energy < self.energy - 1e-9:
            self.energy = float(energy)
            self.time_to_best = time.perf_counter() - self.start
            self.improvements += 1
            if self.on_improve is not None:
                self.on_improve(spins, float(energy))


def solve(arrays: IsingArrays, *, time_limit: float | None = None, deadline: float | None = None,
          seed: int | None = None, target: float | None = None, replicas: int | None = None,
          sweeps: int | None = None, beta_range: tuple[float, float] | None = None,
          restarts: bool = True, polish: bool = True,
          on_improve: ImproveCallback | None = None) -> EngineResult:
    """Anneal under the default policy until the deadline or the target (see the module doc).

    Args:
        arrays: the Ising model.
        time_limit: seconds from now; ``deadline``: a ``time.perf_counter()`` instant (the
            earlier counts). Both None: :data:`UNTIMED_ROUNDS` rounds.
        seed: random seed (None: from the OS); round k uses a stream derived from it.
        target: stop once a state reaches this energy (offset included).
        replicas, sweeps, beta_range: override the policy (``sweeps``: every round that long).
        restarts: False runs one round only (the first round's length).
        polish: 1-flip descent on every round's states.
        on_improve: called with each new best state and its energy, across rounds.

    Returns:
        the best ``replicas`` states over all rounds, best first; ``info`` holds the plan,
        ``rounds``, ``sweeps`` (per replica, summed), ``round_sweeps`` and ``time_to_best_s``
        (seconds from the call's start until the best energy was first seen).
    """
    start = time.perf_counter()
    stop = None if time_limit is None else start + float(time_limit)
    if deadline is not None:
        stop = deadline if stop is None else min(stop, deadline)
    p = plan(arrays, replicas=replicas, sweeps=sweeps, beta_range=beta_range)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    best = _Best(start, on_improve)
    kept_s = np.zeros((0, arrays.n), dtype=np.int8)
    kept_e = np.zeros(0)
    length = float(p.first_sweeps)
    rate: float | None = None  # seconds per sweep of one round (all replicas in parallel)
    done: list[int] = []
    timed_out = reached = False
    ttt: float | None = None
    info: dict[str, Any] = {}
    while True:
        now = time.perf_counter()
        last = False
        if stop is not None:
            left = stop - now
            if left <= 0 and done:
                timed_out = True
                break
            per_sweep = rate if rate is not None else _prior_rate(arrays, p.replicas)
            fit = SAFETY * left / max(per_sweep, 1e-12)
            if restarts and p.growth > 1.0 and fit < length * (1.0 + p.growth):
                length = max(1.0, fit)  # no room for a round after this one: take all of it
                last = True
        sweeps_now = max(1, int(length))
        t0 = time.perf_counter()
        res = anneal(arrays, num_replicas=p.replicas, num_sweeps=sweeps_now, beta_range=p.beta_range,
                     seed=(int(seed) * 1_000_003 + len(done)) & 0x7FFFFFFFFFFFFFFF, deadline=stop,
                     target=target, restarts=False, polish=polish, on_improve=best.offer, fill=last)
        elapsed = time.perf_counter() - t0
        done.append(int(res.info.get("sweeps", sweeps_now * p.replicas)) // p.replicas)
        info = res.info
        if done[-1] > 0:
            rate = elapsed / done[-1]
        k = int(np.argmin(res.energies))
        best.offer(res.spins[k], float(res.energies[k]))  # the polished best
        kept_s = np.concatenate([kept_s, res.spins])
        kept_e = np.concatenate([kept_e, res.energies])
        order = np.argsort(kept_e, kind="stable")[: p.replicas]
        kept_s, kept_e = kept_s[order], kept_e[order]
        if target is not None and kept_e[0] <= float(target) + 1e-7:
            reached = True
            ttt = best.time_to_best
            break
        if res.timed_out or (stop is not None and time.perf_counter() >= stop):
            timed_out = res.timed_out
            break
        if last or not restarts or arrays.n == 0 or (stop is None and len(done) >= UNTIMED_ROUNDS):
            break  # (an empty model has one answer: no second round)
        length *= p.growth
    return EngineResult(
        spins=kept_s, energies=kept_e, seconds=time.perf_counter() - start, reached_target=reached,
        timed_out=timed_out, time_to_target=ttt,
        info={"engine": "anneal", "kernel": info.get("kernel"), "seed": int(seed), "policy": p.as_info(),
              "rounds": len(done), "round_sweeps": done, "sweeps": int(sum(done)),
              "time_to_best_s": best.time_to_best},
    )


def solve_sb(arrays: IsingArrays, *, deadline: float | None, seed: int | None, target: float | None,
             on_improve: ImproveCallback | None = None, **sb_args: Any) -> EngineResult:
    """Simulated bifurcation under the same restart policy: runs of ``num_steps``, doubling, until
    the deadline or the target (one run without a deadline). ``sb_args`` go to every run."""
    from kakehashi.ising.sb import simulated_bifurcation

    start = time.perf_counter()
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    best = _Best(start, on_improve)
    steps = int(sb_args.pop("num_steps", 1000))
    kept: EngineResult | None = None
    runs = 0
    while True:
        res = simulated_bifurcation(arrays, num_steps=steps, seed=(int(seed) + 7919 * runs) % (2**32),
                                    deadline=deadline, target=target, on_improve=best.offer, **sb_args)
        runs += 1
        # later runs reuse the first run's step and scale: no second spectrum estimate near the deadline
        sb_args["dt"], sb_args["c0"] = res.info["dt"], res.info["c0"]
        best.offer(res.spins[0], float(res.energies[0]))
        if kept is None or res.energies[0] < kept.energies[0]:
            kept = res
        if res.reached_target or res.timed_out or deadline is None or time.perf_counter() >= deadline:
            break
        steps *= 2
    kept.info.update({"runs": runs, "time_to_best_s": best.time_to_best})
    kept.seconds = time.perf_counter() - start
    if kept.reached_target:
        kept.time_to_target = best.time_to_best
    return kept
