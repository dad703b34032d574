"""QAOA angle optimisation: a coarse grid at p=1, INTERP growth to depth p, scipy refinement.

Angles are ``θ = [γ_0..γ_{p-1}, β_0..β_{p-1}]`` (radians) for a cost Hamiltonian whose
coefficients were divided by their largest magnitude (see
:class:`~kakehashi.compile.circuits.QaoaProgram`). The optimiser works on any batched energy
function ``evaluate(thetas: (k × 2p)) -> (k,)``: Aer's or a user's ``EstimatorV2`` (one call per
batch), or the pure-numpy statevector :func:`numpy_expectation` used by the cloud adapters to
choose angles locally before spending device time.

INTERP (Zhou, Wang, Choi, Pichler, Lukin, PRX 10, 021067, 2020): the optimum at depth p is
linearly interpolated to a start at depth p+1, which avoids a random restart per depth.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from kakehashi.compile.circuits import ising_diagonal, ising_scale
from kakehashi.compile.targets import IsingModel

#: Expected energies of angle rows (k × 2p) at the full depth p.
BatchEnergy = Callable[[np.ndarray], np.ndarray]

#: Grid used to start p=1: γ in [0, π), β in [0, π/2) (radians).
GRID_GAMMA = 12
GRID_BETA = 8
#: Grid points evaluated per batch.
GRID_CHUNK = 8


class _OutOfTime(Exception):
    """Raised inside the objective when the deadline passed (caught by :func:`optimise`)."""


@dataclass
class AngleResult:
    """The optimised angles and what it took.

    Attributes:
        theta: ``[γ..., β...]`` at the final depth (radians).
        energy: the expected energy at ``theta`` (units of the evaluated Hamiltonian).
        per_depth: expected energy reached at each depth 1..p.
        evaluations: number of energy evaluations (batched points count one each).
        timed_out: the deadline stopped the optimisation early.
    """

    theta: np.ndarray
    energy: float
    per_depth: list[float] = field(default_factory=list)
    evaluations: int = 0
    timed_out: bool = False


def interp(theta: np.ndarray) -> np.ndarray:
    """INTERP: angles for depth p+1 from optimised angles at depth p (Zhou et al. 2020, eq. B1)."""
    p = theta.size // 2
    out = []
    for part in (theta[:p], theta[p:]):
        padded = np.concatenate([[0.0], part, [0.0]])
        new = [(i / p) * padded[i] + ((p - i) / p) * padded[i + 1] for i in range(p + 1)]
        out.append(np.asarray(new))
    return np.concatenate(out)


def pad(thetas: np.ndarray, p: int) -> np.ndarray:
    """Pad angle rows of depth d <= p to depth p with zero angles (an identity layer)."""
    d = thetas.shape[1] // 2
    if d == p:
        return thetas
    zeros = np.zeros((thetas.shape[0], p - d))
    return np.hstack([thetas[:, :d], zeros, thetas[:, d:], zeros])


class _Counter:
    """Wraps a batched energy with a call counter, a best-so-far record and a deadline."""

    def __init__(self, evaluate: BatchEnergy, deadline: float | None, p: int) -> None:
        self.evaluate = evaluate
        self.p = p
        self.deadline = deadline
        self.count = 0
        self.best_theta: np.ndarray | None = None
        self.best_energy = np.inf

    def __call__(self, thetas: np.ndarray) -> np.ndarray:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _OutOfTime
        thetas = np.atleast_2d(thetas)
        values = np.asarray(self.evaluate(pad(thetas, self.p)), dtype=np.float64).reshape(-1)
        self.count += len(values)
        k = int(np.argmin(values))
        if values[k] < self.best_energy:
            self.best_energy = float(values[k])
            self.best_theta = thetas[k].copy()
        return values


def _refine(counter: _Counter, theta0: np.ndarray, method: str, maxiter: int) -> np.ndarray:
    if method == "COBYLA":
        res = minimize(lambda t: float(counter(t)[0]), theta0, method="COBYLA",
                       options={"maxiter": maxiter, "rhobeg": 0.2})
        return np.asarray(res.x)
    step = 1e-4

    def fun_and_grad(t: np.ndarray) -> tuple[float, np.ndarray]:
        d = t.size
        pts = np.vstack([t, t + step * np.eye(d), t - step * np.eye(d)])
        vals = counter(pts)
        grad = (vals[1 : d + 1] - vals[d + 1 :]) / (2 * step)
        return float(vals[0]), grad

    res = minimize(fun_and_grad, theta0, jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    return np.asarray(res.x)


def optimise(
    evaluate: BatchEnergy,
    p: int,
    *,
    method: str = "L-BFGS-B",
    maxiter: int = 200,
    deadline: float | None = None,
    initial: np.ndarray | None = None,
    grid_chunk: int = GRID_CHUNK,
) -> AngleResult:
    """Optimise QAOA angles up to depth ``p`` with INTERP growth.

    Args:
        evaluate: batched expected energy of angle rows (k × 2·depth), minimised.
        p: final depth.
        method: ``"L-BFGS-B"`` (central-difference gradient, one batch per step) or ``"COBYLA"``.
        maxiter: iterations per depth.
        deadline: ``time.monotonic()`` value after which the best angles so far are returned.
        initial: angles ``[γ..., β...]`` for depth ``p`` to refine directly (skips grid and INTERP).
        grid_chunk: grid points per batched call (1 for large circuits under a tight deadline).
    """
    counter = _Counter(evaluate, deadline, p)
    per_depth: list[float] = []
    try:
        if initial is not None:
            theta = _refine(counter, np.asarray(initial, dtype=np.float64), method, maxiter)
            per_depth.append(float(counter(theta)[0]))
        else:
            g, b = np.meshgrid(
                np.linspace(0, np.pi, GRID_GAMMA, endpoint=False) + np.pi / (2 * GRID_GAMMA),
                np.linspace(0, np.pi / 2, GRID_BETA, endpoint=False) + np.pi / (4 * GRID_BETA),
                indexing="ij",
            )
            grid = np.column_stack([g.ravel(), b.ravel()])
            for chunk in range(0, len(grid), grid_chunk):  # chunks: the deadline is checked between them
                counter(grid[chunk : chunk + grid_chunk])
            assert counter.best_theta is not None
            theta = counter.best_theta
            for depth in range(1, p + 1):
                if depth > 1:
                    theta = interp(theta)
                theta = _refine(counter, theta, method, maxiter)
                per_depth.append(float(counter(theta)[0]))
        timed_out = False
    except _OutOfTime:
        timed_out = True
    if counter.best_theta is None:  # the deadline passed before the first evaluation
        return AngleResult(theta=np.full(2 * p, 0.1), energy=np.inf, evaluations=0, timed_out=True)
    best = pad(counter.best_theta[None, :], p)[0]  # stopped early: the extra layers are identities
    return AngleResult(theta=best, energy=counter.best_energy, per_depth=per_depth,
                       evaluations=counter.count, timed_out=timed_out)


def numpy_expectation(diagonal: np.ndarray) -> BatchEnergy:
    """A batched QAOA expected-energy function for a cost given by its basis ``diagonal``.

    ``diagonal`` (length 2^n, Qiskit bit order) must already be divided by the Hamiltonian's
    scale; the returned energies are in those scaled units.
    """

    def evaluate(thetas: np.ndarray) -> np.ndarray:
        return np.array([float(np.real(np.vdot(psi, diagonal * psi)))
                         for psi in (numpy_state(diagonal, t) for t in np.atleast_2d(thetas))])

    return evaluate


def numpy_state(diagonal: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The QAOA statevector for angles ``theta`` (pure numpy; index = Qiskit bit integer)."""
    dim = diagonal.size
    n = round(np.log2(dim))
    p = theta.size // 2
    psi = np.full(dim, 1.0 / np.sqrt(dim), dtype=np.complex128)
    for k in range(p):
        psi = psi * np.exp(-1j * theta[k] * diagonal)
        c, s = np.cos(theta[p + k]), -1j * np.sin(theta[p + k])
        for q in range(n):
            view = psi.reshape(-1, 2, 2**q)
            a0 = view[:, 0, :].copy()
            a1 = view[:, 1, :]
            view[:, 0, :] = c * a0 + s * a1
            view[:, 1, :] = s * a0 + c * a1
    return psi


def local_angles(ising: IsingModel, p: int, *, deadline: float | None = None, maxiter: int = 100) -> AngleResult:
    """Angles for ``ising`` chosen on the exact numpy statevector (≤ 24 spins), before using a device.

    ``energy`` in the result is in the Ising model's own units (the scale is undone).
    """
    scale = ising_scale(ising)
    diag = ising_diagonal(ising) / scale
    res = optimise(numpy_expectation(diag), p, maxiter=maxiter, deadline=deadline)
    res.energy *= scale
    res.per_depth = [e * scale for e in res.per_depth]
    return res
