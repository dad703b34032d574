"""Variational circuits: UCCSD (spin-conserving singles and doubles) and a hardware-efficient ansatz.

Both start from the Hartree–Fock determinant (X gates on the occupied qubits of the chosen
mapping), so all-zero parameters give the HF energy. The UCCSD circuit applies one
``exp(-iθ_k G_k)`` per excitation, ``G_k = i(T_k − T_k†)``; the Pauli terms of one excitation
commute, so one Trotter step per factor is exact for that factor.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Literal

from kakehashi.apps.chemistry.mapping import QubitMapping
from kakehashi.exceptions import ModelError

Ansatz = Literal["uccsd", "hea"]
ANSATZE: tuple[str, ...] = ("uccsd", "hea")
#: Gates the circuits are lowered to before simulation.
BASIS_GATES = ["rz", "ry", "rx", "sx", "x", "h", "cx", "s", "sdg"]


def excitations(qm: QubitMapping) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Spin-conserving single and double excitations (creators, annihilators) from the HF determinant."""
    m = qm.num_orbitals
    occ_a, vir_a = list(range(qm.num_alpha)), list(range(qm.num_alpha, m))
    occ_b = [m + i for i in range(qm.num_beta)]
    vir_b = [m + i for i in range(qm.num_beta, m)]
    out: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    for occ, vir in ((occ_a, vir_a), (occ_b, vir_b)):
        out += [((a,), (i,)) for i in occ for a in vir]
    for occ, vir in ((occ_a, vir_a), (occ_b, vir_b)):
        out += [(va, oc) for oc in combinations(occ, 2) for va in combinations(vir, 2)]
    out += [((a, b), (i, j)) for i in occ_a for j in occ_b for a in vir_a for b in vir_b]
    return out


def hf_circuit(qm: QubitMapping) -> Any:
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(qm.num_qubits)
    for q, bit in enumerate(qm.occupation_bits()):
        if bit:
            qc.x(q)
    return qc


def uccsd(qm: QubitMapping) -> Any:
    """The UCCSD circuit (parameters ``t[0..k-1]``), lowered to :data:`BASIS_GATES`."""
    from qiskit import transpile
    from qiskit.circuit import ParameterVector
    from qiskit.circuit.library import PauliEvolutionGate

    exc = excitations(qm)
    if not exc:
        raise ModelError("no excitations: the active space has no empty or no occupied orbitals")
    theta = ParameterVector("t", len(exc))
    qc = hf_circuit(qm)
    for k, (cre, ann) in enumerate(exc):
        qc.append(PauliEvolutionGate(qm.excitation_generator(cre, ann), time=theta[k]), range(qm.num_qubits))
    return transpile(qc, basis_gates=BASIS_GATES, optimization_level=1)


def hardware_efficient(qm: QubitMapping, reps: int = 2) -> Any:
    """HF state, then ``reps`` × (RY on every qubit, CX ladder), then a final RY layer."""
    from qiskit.circuit import ParameterVector

    n = qm.num_qubits
    theta = ParameterVector("t", n * (reps + 1))
    qc = hf_circuit(qm)
    k = 0
    for layer in range(reps + 1):
        for q in range(n):
            qc.ry(theta[k], q)
            k += 1
        if layer < reps:
            for q in range(n - 1):
                qc.cx(q, q + 1)
    return qc


def build(qm: QubitMapping, ansatz: str, reps: int = 2) -> Any:
    if ansatz == "uccsd":
        return uccsd(qm)
    if ansatz == "hea":
        return hardware_efficient(qm, reps)
    raise ModelError(f"unknown ansatz {ansatz!r}; known: {', '.join(ANSATZE)}", field="ansatz")
