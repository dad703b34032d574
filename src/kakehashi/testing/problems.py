"""Small seeded test problems with independently computed optima, for the conformance kit.

Each :class:`Case` is a :class:`~kakehashi.model.problem.Problem` whose ``known_optimum`` was
computed here by brute force (or, for the one continuous QP, by scipy's SLSQP), never by a
kakehashi backend. Cases are compiled for a target kind with
:func:`kakehashi.compile.compile_for`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi.compile import compile_for
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, MatrixProgram, TargetKind
from kakehashi.exceptions import CompileError
from kakehashi.model.problem import Problem


@dataclass(frozen=True)
class Case:
    """A test problem, the target kinds it is meant for and the tolerance on its optimum.

    Most cases are a :class:`Problem` compiled with :func:`compile_for`. A case that dimod cannot
    express (continuous variables with quadratic terms) carries its ``prebuilt`` target instead,
    with ``problem`` None and ``target_optimum`` in the target's (minimised) terms.
    """

    name: str
    problem: Problem | None
    kinds: tuple[TargetKind, ...]
    tolerance: float = 1e-6
    prebuilt: Compiled[Any] | None = None
    target_optimum: float | None = None

    def compile(self, kind: TargetKind) -> Compiled[Any]:
        if self.prebuilt is not None:
            if kind not in self.kinds:
                raise CompileError(f"case {self.name} exists only as {self.prebuilt.kind.value}")
            return self.prebuilt
        assert self.problem is not None
        return compile_for(self.problem, kind)


def random_bqm(num_variables: int = 10, seed: int = 0, density: float = 0.5) -> dimod.BinaryQuadraticModel:
    """A binary BQM with uniform(-1, 1) biases on a G(n, density) graph and offset 0.25."""
    rng = np.random.default_rng(seed)
    labels = [f"v{i}" for i in range(num_variables)]
    bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
    bqm.add_linear_from(zip(labels, rng.uniform(-1.0, 1.0, num_variables), strict=True))
    for i, j in itertools.combinations(range(num_variables), 2):
        if rng.random() < density:
            bqm.add_quadratic(labels[i], labels[j], float(rng.uniform(-1.0, 1.0)))
    bqm.offset = 0.25
    return bqm


def bqm_case(num_variables: int = 10, seed: int = 0) -> Case:
    """An unconstrained random BQM; its minimum comes from :class:`dimod.ExactSolver`."""
    bqm = random_bqm(num_variables, seed)
    optimum = float(dimod.ExactSolver().sample(bqm).first.energy) if num_variables <= 16 else None
    return Case(
        name=f"bqm{num_variables}",
        problem=Problem(bqm, name=f"random-bqm-{num_variables}", known_optimum=optimum),
        kinds=(TargetKind.BQM, TargetKind.ISING),
    )


def knapsack_case(continuous: bool = True, seed: int = 1, items: int = 10) -> Case:
    """Maximise v·x + 2y (+ 1.5z) s.t. w·x + 3y (+ 2z) <= C, y (+ z) <= 3.5.

    x binary, y integer in [0, 3], z real in [0, 2.5] (only when ``continuous``). The optimum is
    found by enumerating x and y; the best z for them is then the largest one the rows allow.
    """
    rng = np.random.default_rng(seed)
    w = rng.integers(3, 20, items).astype(float)
    v = rng.integers(1, 25, items).astype(float)
    cap = float(np.floor(w.sum() / 2.5))
    x = [dimod.Binary(f"x{i}") for i in range(items)]
    y = dimod.Integer("y", lower_bound=0, upper_bound=3)
    objective = dimod.quicksum(float(v[i]) * x[i] for i in range(items)) + 2 * y
    weight = dimod.quicksum(float(w[i]) * x[i] for i in range(items)) + 3 * y
    mix = 1 * y
    if continuous:
        z = dimod.Real("z", lower_bound=0, upper_bound=2.5)
        objective += 1.5 * z
        weight += 2 * z
        mix += z
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(objective)
    cqm.add_constraint(weight <= cap, label="capacity")
    cqm.add_constraint(mix <= 3.5, label="mix")

    X = ((np.arange(1 << items)[:, None] >> np.arange(items)) & 1).astype(float)
    best = -np.inf
    for yv in range(4):
        slack = cap - X @ w - 3 * yv
        zv = np.clip(np.minimum(2.5, np.minimum(3.5 - yv, slack / 2)), 0.0, None) if continuous else 0.0
        value = X @ v + 2 * yv + 1.5 * zv
        best = max(best, float(np.max(np.where(slack - 2 * zv >= -1e-9, value, -np.inf))))
    return Case(
        name="knapsack" if continuous else "knapsack-integer",
        problem=Problem(cqm, name="knapsack", sense="max", known_optimum=best),
        kinds=(TargetKind.MILP, TargetKind.CQM),
    )


def integer_qp_case(quadratic_row: bool = True, seed: int = 2) -> Case:
    """A non-convex integer QP in 5 variables in [-2, 2] (optimum by enumerating 5^5 points).

    Minimise xᵀPx + c·x (P indefinite) s.t. Σx >= -1 and, when ``quadratic_row``, Σx² <= 6.
    """
    rng = np.random.default_rng(seed)
    n = 5
    P = np.triu(rng.uniform(-2.0, 2.0, (n, n)))
    c = rng.uniform(-3.0, 3.0, n)
    xs = [dimod.Integer(f"i{k}", lower_bound=-2, upper_bound=2) for k in range(n)]
    objective = dimod.quicksum(float(P[a, b]) * xs[a] * xs[b] for a in range(n) for b in range(a, n))
    objective += dimod.quicksum(float(c[a]) * xs[a] for a in range(n))
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(objective)
    cqm.add_constraint(dimod.quicksum(xs) >= -1, label="sum")
    if quadratic_row:
        cqm.add_constraint(dimod.quicksum(x * x for x in xs) <= 6, label="ball")
    grid = np.array(list(itertools.product(range(-2, 3), repeat=n)), dtype=float)
    values = np.einsum("ij,jk,ik->i", grid, P, grid) + grid @ c
    ok = grid.sum(axis=1) >= -1
    if quadratic_row:
        ok &= (grid**2).sum(axis=1) <= 6
    return Case(
        name="integer-qp" + ("-ball" if quadratic_row else ""),
        problem=Problem(cqm, name="integer-qp", known_optimum=float(values[ok].min())),
        kinds=(TargetKind.MIQP,),
    )


def convex_qp_case(seed: int = 3) -> Case:
    """A convex continuous QP in 4 reals in [-3, 3] with Σx >= 1 (optimum by scipy's SLSQP).

    dimod forbids interactions between REAL variables, so this case is a prebuilt MIQP
    :class:`MatrixProgram` (objective ``c·x + xᵀQx``, Q upper triangular) with no Problem.
    """
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    n = 4
    M = rng.normal(size=(n, n))
    P = M.T @ M + 0.1 * np.eye(n)  # symmetric positive definite: xᵀPx is convex
    c = rng.uniform(-3.0, 3.0, n)
    Q = sp.csr_matrix(np.triu(2 * P) - np.diag(np.diag(P)))  # xᵀQx = xᵀPx
    program = MatrixProgram(
        c=c,
        A=sp.csr_matrix(np.ones((1, n))),
        row_lower=np.array([1.0]),
        row_upper=np.array([np.inf]),
        lower=np.full(n, -3.0),
        upper=np.full(n, 3.0),
        integrality=np.zeros(n, dtype=bool),
        Q=Q,
        row_names=("sum",),
    )
    labels = [f"r{k}" for k in range(n)]
    compiled: Compiled[MatrixProgram] = Compiled(
        kind=TargetKind.MIQP, target=program, variables=tuple(labels), inverter=Inverter.identity(labels)
    )
    ref = minimize(
        lambda x: float(x @ P @ x + c @ x),
        np.full(n, 0.25),
        jac=lambda x: 2 * P @ x + c,
        bounds=[(-3.0, 3.0)] * n,
        constraints=[{"type": "ineq", "fun": lambda x: float(x.sum() - 1.0), "jac": lambda x: np.ones(n)}],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    return Case(
        name="convex-qp",
        problem=None,
        kinds=(TargetKind.MIQP,),
        tolerance=1e-5,
        prebuilt=compiled,
        target_optimum=float(ref.fun),
    )


def market_split_case(rows: int = 4, columns: int = 40, seed: int = 4, integer_slack: bool = False) -> Case:
    """A market-split MILP (Cornuéjols–Dawande): hard for branch and bound, used for time limits.

    Minimise Σ(s⁺ + s⁻) s.t. a_i·x + s⁺_i - s⁻_i = floor(Σa_i / 2), x binary, s >= 0. No optimum
    is recorded: the instance is only meant to run into a time limit.
    """
    rng = np.random.default_rng(seed)
    A = rng.integers(0, 100, (rows, columns))
    x = [dimod.Binary(f"x{j}") for j in range(columns)]
    cqm = dimod.ConstrainedQuadraticModel()
    slack: list[Any] = []
    for i in range(rows):
        if integer_slack:
            sp_ = dimod.Integer(f"sp{i}", upper_bound=int(A[i].sum()))
            sm = dimod.Integer(f"sm{i}", upper_bound=int(A[i].sum()))
        else:
            sp_ = dimod.Real(f"sp{i}", upper_bound=float(A[i].sum()))
            sm = dimod.Real(f"sm{i}", upper_bound=float(A[i].sum()))
        slack += [sp_, sm]
        lhs = dimod.quicksum(int(A[i, j]) * x[j] for j in range(columns)) + sp_ - sm
        cqm.add_constraint(lhs == float(A[i].sum() // 2), label=f"split{i}")
    cqm.set_objective(dimod.quicksum(slack))
    return Case(
        name="market-split",
        problem=Problem(cqm, name="market-split"),
        kinds=(TargetKind.MILP,),
    )
