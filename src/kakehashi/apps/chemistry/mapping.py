"""Fermion → qubit mappings: Jordan–Wigner and parity (with the two-qubit reduction).

Spin orbitals are ordered ``[α_0..α_{m-1}, β_0..β_{m-1}]``; spin orbital ``j`` is qubit ``j``.

- Jordan–Wigner: ``a†_j = ½ (X_j − iY_j) Z_{j-1}…Z_0``; qubit j holds the occupation n_j.
- Parity: qubit j holds ``n_0 + … + n_j mod 2``;
  ``a†_j = ½ (X_j Z_{j-1} − iY_j) X_{j+1}…X_{n-1}`` (Seeley, Richard, Love 2012).
  With α-then-β ordering, qubit ``m-1`` holds the α-electron parity and qubit ``2m-1`` the
  total parity: the Hamiltonian acts on them only through ``Z``, so both are replaced by their
  eigenvalues and removed (Bravyi, Gambetta, Mezzacapo, Temme 2017): two qubits fewer.

The Hamiltonian is built from the number-conserving pair operators ``E_pq = a†_p a_q``:
``a†_p a†_r a_s a_q = E_pq E_rs − δ_qr E_ps``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from kakehashi.apps.chemistry.integrals import ActiveSpaceIntegrals
from kakehashi.exceptions import ModelError

if TYPE_CHECKING:
    from qiskit.quantum_info import SparsePauliOp

Mapping = Literal["jordan_wigner", "parity"]
MAPPINGS: tuple[str, ...] = ("jordan_wigner", "parity")


def _sparse_pauli_op() -> Any:
    from qiskit.quantum_info import SparsePauliOp

    return SparsePauliOp


def creation_operators(n: int, mapping: Mapping) -> list[SparsePauliOp]:
    """``a†_j`` for j in 0..n-1 as ``SparsePauliOp`` on n qubits."""
    spo = _sparse_pauli_op()
    ops = []
    for j in range(n):
        if mapping == "jordan_wigner":
            z = list(range(j))
            terms = [("X" + "Z" * j, [j, *z], 0.5), ("Y" + "Z" * j, [j, *z], -0.5j)]
        elif mapping == "parity":
            x = list(range(j + 1, n))
            xz = ("XZ", [j, j - 1]) if j > 0 else ("X", [j])
            terms = [(xz[0] + "X" * len(x), [*xz[1], *x], 0.5), ("Y" + "X" * len(x), [j, *x], -0.5j)]
        else:
            raise ModelError(f"unknown mapping {mapping!r}; known: {', '.join(MAPPINGS)}", field="mapping")
        ops.append(spo.from_sparse_list(terms, num_qubits=n))
    return ops


@dataclass(frozen=True)
class QubitMapping:
    """A fermion → qubit map for ``m`` spatial orbitals and fixed electron numbers."""

    mapping: Mapping
    num_orbitals: int
    num_alpha: int
    num_beta: int
    two_qubit_reduction: bool = True

    @property
    def reduces(self) -> bool:
        return self.mapping == "parity" and self.two_qubit_reduction

    @property
    def num_spin_orbitals(self) -> int:
        return 2 * self.num_orbitals

    @property
    def num_qubits(self) -> int:
        return self.num_spin_orbitals - (2 if self.reduces else 0)

    def pair_operators(self) -> list[list[SparsePauliOp]]:
        """``E[p][q] = a†_p a_q`` (spin orbitals), unreduced."""
        cre = creation_operators(self.num_spin_orbitals, self.mapping)
        ann = [c.adjoint() for c in cre]
        return [[(cre[p] @ ann[q]).simplify() for q in range(len(cre))] for p in range(len(cre))]

    def taper(self, op: SparsePauliOp) -> SparsePauliOp:
        """Apply the two-qubit reduction (parity only; identity otherwise)."""
        if not self.reduces:
            return op
        m = self.num_orbitals
        qa, qt = m - 1, 2 * m - 1
        paulis = op.paulis
        if np.any(paulis.x[:, [qa, qt]]):
            raise ModelError("operator does not conserve the α and total electron parity; cannot taper")
        sign_a = (-1) ** self.num_alpha
        sign_t = (-1) ** (self.num_alpha + self.num_beta)
        coeffs = op.coeffs * np.where(paulis.z[:, qa], sign_a, 1) * np.where(paulis.z[:, qt], sign_t, 1)
        # Pauli phases from Y never sit on these qubits (checked above), so deleting them is exact.
        reduced = paulis.delete([qa, qt], qubit=True)
        return _sparse_pauli_op()(reduced, coeffs).simplify()

    def hamiltonian(self, ints: ActiveSpaceIntegrals) -> SparsePauliOp:
        """The electronic Hamiltonian (Hartree) including ``core_energy`` as an identity term."""
        m = self.num_orbitals
        if ints.num_orbitals != m:
            raise ModelError(f"integrals have {ints.num_orbitals} orbitals, mapping expects {m}")
        n = 2 * m
        E = self.pair_operators()
        spo = _sparse_pauli_op()
        total = spo.from_sparse_list([("", [], ints.core_energy)], num_qubits=n)
        parts = [total]
        spin = [k // m for k in range(n)]
        sp = [k % m for k in range(n)]
        for p in range(n):
            for q in range(n):
                if spin[p] != spin[q]:
                    continue
                h = ints.h1[sp[p], sp[q]]
                # F_pq = ½ Σ_rs (pq|rs) E_rs over same-spin r, s
                coeffs: list[complex] = []
                ops: list[SparsePauliOp] = []
                for r in range(n):
                    for s in range(n):
                        if spin[r] != spin[s]:
                            continue
                        g = ints.h2[sp[p], sp[q], sp[r], sp[s]]
                        if abs(g) > 1e-12:
                            ops.append(E[r][s])
                            coeffs.append(0.5 * g)
                            if q == r:
                                parts.append(-0.5 * g * E[p][s])
                if ops:
                    F = spo.sum([c * o for c, o in zip(coeffs, ops, strict=True)]).simplify()
                    parts.append((E[p][q] @ F).simplify())
                if abs(h) > 1e-12:
                    parts.append(h * E[p][q])
        op = spo.sum(parts).simplify(atol=1e-10)
        op = spo(op.paulis, np.real_if_close(op.coeffs, tol=1e6).astype(np.complex128))
        return self.taper(op).chop(1e-10).simplify()

    def occupation_bits(self) -> list[int]:
        """The Hartree–Fock state on the (reduced) qubits: 0/1 per qubit, qubit 0 first."""
        m = self.num_orbitals
        occ = [1 if j < self.num_alpha else 0 for j in range(m)] + [1 if j < self.num_beta else 0 for j in range(m)]
        if self.mapping == "jordan_wigner":
            return occ
        bits = list(np.cumsum(occ) % 2)
        if self.reduces:
            del bits[2 * m - 1]
            del bits[m - 1]
        return [int(b) for b in bits]

    def excitation_generator(self, creators: Sequence[int], annihilators: Sequence[int]) -> SparsePauliOp:
        """``i (T − T†)`` for ``T = a†_{c1} a†_{c2}… a_{a2} a_{a1}`` (Hermitian; exp(-iθ·) is the UCC factor)."""
        cre = creation_operators(self.num_spin_orbitals, self.mapping)
        spo = _sparse_pauli_op()
        T = spo.from_sparse_list([("", [], 1.0)], num_qubits=self.num_spin_orbitals)
        for c in creators:
            T = T @ cre[c]
        for a in reversed(annihilators):
            T = T @ cre[a].adjoint()
        gen = (1j * (T - T.adjoint())).simplify(atol=1e-12)
        return self.taper(gen)
