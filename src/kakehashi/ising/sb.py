"""Simulated bifurcation (Goto et al. 2019, 2021; heated variants: Kanao & Goto 2022).

Each agent has positions x ∈ [-1, 1]ⁿ and momenta y. With a(t) ramped linearly from 0 to a0
over ``num_steps`` steps of size dt (symplectic Euler):

    y ← y + dt · (-(a0 - a(t)) x - c0 (Js z + h))      z = x (ballistic) or sign(x) (discrete)
    y ← y + heat · dt · y_before                         (heated variants only)
    x ← x + dt · a0 · y;   where |x| > 1: x ← sign(x), y ← 0   (inelastic walls)

so one step is one matrix product over all agents. c0 follows Goto's rule and dt comes from the
coupling spectrum (see :mod:`kakehashi.ising.spectrum`). Every ``check_every`` steps the
spins sign(x) are scored; the best state of each agent is kept and polished by 1-flip descent.
The run stops early at the target energy, at the time limit, or when no agent improved for
``patience`` checks in the second half of the schedule.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from kakehashi.exceptions import BackendRejected
from kakehashi.ising import kernels
from kakehashi.ising.anneal import EngineResult, ImproveCallback, Improvements
from kakehashi.ising.arrays import IsingArrays
from kakehashi.ising.ops import NumpyOps, SBOps
from kakehashi.ising.spectrum import extreme_eigenvalues, goto_c0, stable_dt

VARIANTS = ("ballistic", "discrete")


def simulated_bifurcation(
    arrays: IsingArrays,
    *,
    variant: str = "ballistic",
    heated: bool = False,
    num_agents: int = 64,
    num_steps: int = 1000,
    dt: float | None = None,
    c0: float | None = None,
    a0: float = 1.0,
    heat: float = 0.06,
    seed: int | None = None,
    time_limit: float | None = None,
    target: float | None = None,
    check_every: int = 25,
    patience: int | None = 8,
    ops: SBOps | None = None,
    polish: bool = True,
    deadline: float | None = None,
    on_improve: ImproveCallback | None = None,
) -> EngineResult:
    """Run SB with ``num_agents`` agents for at most ``num_steps`` steps.

    Args:
        variant: "ballistic" (bSB) or "discrete" (dSB).
        heated: add the heating term (HbSB / HdSB).
        dt: step size (dimensionless); default from the spectrum.
        c0: coupling scale; default Goto's 0.5 / (sqrt(n) std(Js)).
        time_limit: wall-clock budget in seconds; the best states so far are returned.
        target: stop when an agent reaches this energy (including the offset).
        ops: array kernels (numpy by default; :class:`~kakehashi.ising.torch_kernels.TorchOps`
            for torch/GPU).
        deadline: a ``time.perf_counter()`` instant to stop at (the earlier of it and
            ``time_limit`` counts); the agents' best signs so far are returned, never nothing.
        on_improve: called with the best spins and their energy (offset included) whenever the
            best energy seen at a check drops.
    """
    if variant not in VARIANTS:
        raise BackendRejected(f"sb: variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    start = time.perf_counter()
    n, R = arrays.n, max(1, int(num_agents))
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    ops = ops if ops is not None else NumpyOps(arrays)
    c0v = float(c0) if c0 is not None else goto_c0(arrays)
    lam_min: float | None
    lam_max: float | None
    if dt is None:  # the spectrum (Lanczos) is only needed for the default step
        lam_min, lam_max = extreme_eigenvalues(arrays.Js, seed=int(seed) % (2**32))
        dtv = stable_dt(a0, c0v, lam_max)
    else:
        lam_min = lam_max = None  # not estimated (the step was given)
        dtv = float(dt)
    steps = max(1, int(num_steps))
    x = ops.uniform(n, R, int(seed), 0.1)
    y = ops.uniform(n, R, int(seed) + 1, 0.1)
    best_e = np.full(R, np.inf)
    best_s = np.ones((R, n), dtype=np.int8)
    scored = False
    discrete = variant == "discrete"
    target_raw = -np.inf if target is None else float(target) - arrays.offset + 1e-7
    if time_limit is not None:
        limit_end = start + float(time_limit)
        deadline = limit_end if deadline is None else min(deadline, limit_end)
    track = Improvements(on_improve)
    ttt: float | None = None
    timed_out = False
    stale = 0
    done = 0
    for k in range(steps):
        a = a0 * (k / (steps - 1) if steps > 1 else 1.0)
        fx = ops.force(ops.sign(x) if discrete else x)
        if heated:
            y_before = y * 1.0
        y += dtv * (-(a0 - a) * x - c0v * fx)
        if heated:
            y += heat * dtv * y_before
        x += dtv * a0 * y
        ops.walls(x, y)
        done = k + 1
        late = deadline is not None and time.perf_counter() >= deadline
        if done % check_every and done != steps and not late:
            continue
        S = ops.sign(x)
        e = ops.energies(S)
        scored = True
        better = e < best_e - 1e-9
        if better.any():
            best_e[better] = e[better]
            best_s[better] = ops.to_numpy(S).T[better].astype(np.int8)
            stale = 0
            track.offer(best_s, best_e + arrays.offset)
        else:
            stale += 1
        now = time.perf_counter()
        if best_e.min() <= target_raw:
            ttt = now - start
            break
        if deadline is not None and now >= deadline:
            timed_out = True
            break
        if patience is not None and stale >= patience and 2 * done >= steps:
            break
    if not scored:  # stopped before the first check: the agents' current signs are the answer
        best_s = np.where(ops.to_numpy(ops.sign(x)).T >= 0, 1, -1).astype(np.int8)
    if polish:
        _descend(arrays, best_s)
    exact = arrays.energies(best_s)
    if ttt is None and target is not None and exact.min() <= float(target) + 1e-7:
        ttt = time.perf_counter() - start
    order = np.argsort(exact, kind="stable")
    info: dict[str, Any] = {
        "engine": "sb", "variant": variant, "heated": heated, "kernel": ops.kernel, "steps": done,
        "dt": dtv, "c0": c0v, "lambda_min": lam_min, "lambda_max": lam_max, "seed": int(seed),
    }
    return EngineResult(
        spins=best_s[order], energies=exact[order], seconds=time.perf_counter() - start,
        reached_target=ttt is not None, timed_out=timed_out, time_to_target=ttt, info=info,
    )


def _descend(arrays: IsingArrays, s: np.ndarray) -> None:
    """1-flip greedy descent on the rows of ``s`` (in place)."""
    R, n = s.shape
    energy = np.empty(R)
    if arrays.is_dense:
        J = arrays.dense(np.float32)
        f32 = np.empty((R, n), dtype=np.float32)
        kernels.fields_dense(J, arrays.h.astype(np.float32), s, f32, energy)
        kernels.descend_dense(J, s, f32, energy)
    else:
        f = np.empty((R, n))
        Js = arrays.Js
        kernels.fields_sparse(Js.indptr, Js.indices, Js.data, arrays.h, s, f, energy)
        kernels.descend_sparse(Js.indptr, Js.indices, Js.data, s, f, energy)
