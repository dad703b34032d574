"""Compilation targets: what a backend receives.

Every target is a *minimisation* problem over its own variables; a :class:`Compiled` carries
the target, the column order of the samples a backend returns (``variables``), the
:class:`~kakehashi.compile.inverter.Inverter` back to the original problem's variables and the
:class:`CompileReport` of the passes that made it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

import numpy as np
import scipy.sparse as sp

from kakehashi.compile.inverter import Inverter


class TargetKind(StrEnum):
    """The kinds of compiled problem a backend may accept."""

    BQM = "bqm"  #: dimod.BinaryQuadraticModel, vartype BINARY, minimise
    ISING = "ising"  #: IsingModel: spins, local fields h and sparse couplings J
    CQM = "cqm"  #: dimod.ConstrainedQuadraticModel, minimise (for hybrid cloud solvers)
    MILP = "milp"  #: MatrixProgram with a linear objective
    MIQP = "miqp"  #: MatrixProgram with a quadratic objective and/or quadratic constraints
    CIRCUIT = "circuit"  #: a gate-model circuit (see kakehashi.backends.gate)
    HAMILTONIAN = "hamiltonian"  #: a qubit Hamiltonian (Pauli sum)
    ROUTING = "routing"  #: a vehicle-routing instance (kakehashi.apps.routing.target.RoutingTarget)


@dataclass(frozen=True)
class IsingModel:
    """E(s) = offset + h·s + Σ_{i<j} J_ij s_i s_j over spins s ∈ {-1, +1}^n.

    ``J`` is a scipy CSR matrix, strictly upper triangular (i < j), float64.
    """

    h: np.ndarray
    J: sp.csr_matrix
    offset: float = 0.0

    @property
    def num_variables(self) -> int:
        return int(self.h.shape[0])

    def energies(self, spins: np.ndarray) -> np.ndarray:
        """Energies of the rows of ``spins`` (shape (k, n) or (n,)), float64."""
        s = np.atleast_2d(np.asarray(spins, dtype=np.float64))
        coupled = np.asarray((self.J.T @ s.T).T)  # row k: s_k @ J
        return np.asarray(self.offset + s @ self.h + np.einsum("ij,ij->i", coupled, s))

    def symmetric(self) -> sp.csr_matrix:
        """J + Jᵀ: the symmetric coupling matrix (zero diagonal)."""
        return (self.J + self.J.T).tocsr()


@dataclass(frozen=True)
class QuadraticRow:
    """One quadratic constraint ``lower <= a·x + xᵀ Q x <= upper`` (Q upper triangular)."""

    Q: sp.csr_matrix
    a: np.ndarray
    lower: float
    upper: float
    name: str = ""


@dataclass(frozen=True)
class MatrixProgram:
    """A mixed-integer (quadratic) program in matrix form, minimised.

    objective:   offset + c·x + xᵀ Q x        (Q upper triangular incl. diagonal, or None)
    constraints: row_lower <= A x <= row_upper, plus ``quadratic_rows``
    bounds:      lower <= x <= upper;  x_i integer where ``integrality[i]``
    Infinite bounds are ``±inf``. Row names are kept for reports.
    """

    c: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integrality: np.ndarray
    offset: float = 0.0
    Q: sp.csr_matrix | None = None
    quadratic_rows: tuple[QuadraticRow, ...] = ()
    row_names: tuple[str, ...] = ()

    @property
    def num_variables(self) -> int:
        return int(self.c.shape[0])

    @property
    def is_quadratic(self) -> bool:
        return (self.Q is not None and self.Q.nnz > 0) or bool(self.quadratic_rows)

    def objective(self, x: np.ndarray) -> np.ndarray:
        """Objective values of the rows of ``x`` (shape (k, n) or (n,))."""
        X = np.atleast_2d(np.asarray(x, dtype=np.float64))
        val = self.offset + X @ self.c
        if self.Q is not None and self.Q.nnz:
            val = val + np.einsum("ij,ij->i", (self.Q @ X.T).T, X)
        return np.asarray(val)


@dataclass
class CompileReport:
    """What the passes did: one entry per pass (name, sizes, chosen penalty weights...).

    ``warnings`` carries what the problem's reader skipped or reinterpreted
    (:attr:`Problem.warnings <kakehashi.model.problem.Problem.warnings>`), so that every result
    says it; the key is present in :meth:`to_dict` only when there are warnings.
    """

    passes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, name: str, **info: Any) -> None:
        self.passes.append({"pass": name, **info})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"passes": self.passes}
        if self.warnings:
            out["warnings"] = self.warnings
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompileReport:
        return cls(passes=list(data.get("passes", [])), warnings=list(data.get("warnings", [])))


T = TypeVar("T")


@dataclass(frozen=True)
class Compiled(Generic[T]):
    """A compiled problem: the target, its variable order, the way back, and the report.

    ``variables`` is the column order of the sample arrays a backend returns for this target.
    ``inverter`` maps such arrays to the original problem's variables.
    """

    kind: TargetKind
    target: T
    variables: tuple[Hashable, ...]
    inverter: Inverter
    report: CompileReport = field(default_factory=CompileReport)

    @property
    def num_variables(self) -> int:
        return len(self.variables)
