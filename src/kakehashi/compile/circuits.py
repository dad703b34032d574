"""Ising → QAOA: the cost Hamiltonian as a Pauli sum and the layered QAOA circuit.

Conventions (Qiskit's, little-endian): qubit ``i`` holds spin ``i`` of the
:class:`~kakehashi.compile.targets.IsingModel`; a measured bit ``b`` means spin ``s = 1 - 2b``
(``|0⟩`` is ``Z = +1``). The cost Hamiltonian is

    H_C = offset·I + Σ_i h_i Z_i + Σ_{i<j} J_ij Z_i Z_j

so ``⟨H_C⟩`` is the expected Ising energy. One QAOA layer applies ``exp(-iγ H_C)`` (``RZ(2γh_i)``,
``RZZ(2γJ_ij)``) then the transverse-field mixer ``exp(-iβ Σ X_i)`` (``RX(2β)``), starting from
``|+⟩^n`` (Farhi, Goldstone, Gutmann 2014).

The pure-numpy helpers (:func:`ising_diagonal`, :func:`bits_to_spins`) need no SDK; the Qiskit
builders import ``qiskit`` lazily so that this module loads without the ``[qiskit]`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kakehashi.compile.targets import IsingModel
from kakehashi.exceptions import BackendUnavailable, CompileError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

#: Above this many qubits :func:`ising_diagonal` refuses (2^n float64 energies).
MAX_DIAGONAL_QUBITS = 28


def _qiskit() -> Any:
    try:
        import qiskit
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise BackendUnavailable("install the extra: pip install 'kakehashi[qiskit]'") from exc
    return qiskit


@dataclass(frozen=True)
class QaoaProgram:
    """A parameterised QAOA circuit for an Ising model.

    Attributes:
        circuit: ``p`` layers, parameters ``gamma[0..p-1]`` and ``beta[0..p-1]``, no measurement.
        cost: the cost Hamiltonian ``H_C`` (includes the offset as an identity term).
        p: the number of layers.
        scale: the Ising coefficients were divided by this (max |h|, |J|) before building the
            circuit, so good angles do not depend on the energy unit; ``cost`` is NOT scaled.
    """

    circuit: QuantumCircuit
    cost: SparsePauliOp
    p: int
    scale: float

    @property
    def num_qubits(self) -> int:
        return int(self.circuit.num_qubits)

    def parameter_order(self) -> list[Any]:
        """The circuit's parameters in the order ``[γ_0..γ_{p-1}, β_0..β_{p-1}]``."""
        params = list(self.circuit.parameters)
        by_name = {prm.name: prm for prm in params}
        return [by_name[f"gamma[{k}]"] for k in range(self.p)] + [by_name[f"beta[{k}]"] for k in range(self.p)]


def ising_scale(ising: IsingModel) -> float:
    """The largest absolute coefficient of ``ising`` (1.0 for an all-zero model)."""
    m = max(float(np.max(np.abs(ising.h))) if ising.h.size else 0.0,
            float(np.max(np.abs(ising.J.data))) if ising.J.nnz else 0.0)
    return m if m > 0 else 1.0


def ising_to_pauli(ising: IsingModel) -> SparsePauliOp:
    """The cost Hamiltonian ``H_C`` of ``ising`` as a Qiskit ``SparsePauliOp`` (offset included)."""
    qiskit = _qiskit()
    n = ising.num_variables
    if n == 0:
        raise CompileError("cannot build a Hamiltonian over zero spins")
    terms: list[tuple[str, list[int], float]] = [("", [], float(ising.offset))]
    for i in np.flatnonzero(ising.h):
        terms.append(("Z", [int(i)], float(ising.h[i])))
    coo = ising.J.tocoo()
    for i, j, v in zip(coo.row, coo.col, coo.data, strict=True):
        if v != 0.0:
            terms.append(("ZZ", [int(i), int(j)], float(v)))
    op = qiskit.quantum_info.SparsePauliOp.from_sparse_list(terms, num_qubits=n)
    return op.simplify(atol=0.0)


def qaoa_program(ising: IsingModel, p: int) -> QaoaProgram:
    """Build the ``p``-layer QAOA circuit for ``ising`` (see the module docstring)."""
    if p < 1:
        raise CompileError(f"QAOA depth p must be >= 1, got {p}")
    qiskit = _qiskit()
    from qiskit.circuit import ParameterVector

    n = ising.num_variables
    cost = ising_to_pauli(ising)
    scale = ising_scale(ising)
    h = ising.h / scale
    coo = ising.J.tocoo()
    gamma = ParameterVector("gamma", p)
    beta = ParameterVector("beta", p)
    qc = qiskit.QuantumCircuit(n, name=f"qaoa_p{p}")
    qc.h(range(n))
    for k in range(p):
        for i in np.flatnonzero(h):
            qc.rz(2.0 * float(h[i]) * gamma[k], int(i))
        for i, j, v in zip(coo.row, coo.col, coo.data, strict=True):
            if v != 0.0:
                qc.rzz(2.0 * float(v) / scale * gamma[k], int(i), int(j))
        qc.rx(2.0 * beta[k], range(n))
    return QaoaProgram(circuit=qc, cost=cost, p=p, scale=scale)


def ising_diagonal(ising: IsingModel) -> np.ndarray:
    """The energies of all ``2^n`` basis states, indexed by the Qiskit bit integer (float64).

    Basis index ``x`` has bit ``i`` (``(x >> i) & 1``) on qubit ``i``, i.e. spin ``1 - 2·bit``.
    """
    n = ising.num_variables
    if n > MAX_DIAGONAL_QUBITS:
        raise CompileError(f"{n} spins: the full energy table needs 2^{n} entries (limit {MAX_DIAGONAL_QUBITS})")
    idx = np.arange(2**n, dtype=np.int64)
    z = np.empty((n, 2**n), dtype=np.float64)
    for i in range(n):
        z[i] = 1.0 - 2.0 * ((idx >> i) & 1)
    energy = np.full(2**n, float(ising.offset))
    energy += ising.h @ z
    coo = ising.J.tocoo()
    for i, j, v in zip(coo.row, coo.col, coo.data, strict=True):
        energy += float(v) * z[i] * z[j]
    return energy


def bits_to_spins(bitstrings: list[str]) -> np.ndarray:
    """Qiskit bitstrings (qubit 0 rightmost) → spins (k × n, values ±1, float64)."""
    if not bitstrings:
        return np.zeros((0, 0))
    bits = np.array([[c == "1" for c in reversed(b)] for b in bitstrings], dtype=np.float64)
    return 1.0 - 2.0 * bits
