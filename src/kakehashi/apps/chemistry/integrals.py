"""PySCF: restricted Hartree–Fock, active-space integrals and the classical baselines (HF, CCSD, FCI).

Energies are in Hartree. The active space is a list of spatial MO indices (energy order);
doubly occupied orbitals below it are frozen into ``core_energy`` and the one-body term, as in
CASCI. PySCF is imported lazily (extra ``[chemistry]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kakehashi.apps.chemistry.molecules import Molecule
from kakehashi.exceptions import BackendUnavailable, ModelError


def _pyscf() -> Any:
    try:
        import pyscf
        import pyscf.ao2mo
        import pyscf.cc
        import pyscf.fci
        import pyscf.gto
        import pyscf.mcscf
        import pyscf.scf
    except ImportError as exc:
        raise BackendUnavailable("install the extra: pip install 'kakehashi[chemistry]'") from exc
    return pyscf


@dataclass(frozen=True)
class ActiveSpaceIntegrals:
    """The electronic Hamiltonian restricted to an active space, in the RHF MO basis.

    ``H = core_energy + Σ h1[p,q] E_pq + ½ Σ h2[p,q,r,s] (E_pq E_rs - δ_qr E_ps)`` with spatial
    indices, ``h2`` in chemists' notation ``(pq|rs)``. Hartree.
    """

    h1: np.ndarray
    h2: np.ndarray
    core_energy: float
    num_alpha: int
    num_beta: int
    active_orbitals: tuple[int, ...]

    @property
    def num_orbitals(self) -> int:
        return int(self.h1.shape[0])


@dataclass(frozen=True)
class Baselines:
    """Classical reference energies (Hartree); ``fci`` is over ALL orbitals, ``casci`` over the active space."""

    hf: float
    ccsd: float | None
    fci: float | None
    casci: float | None
    nuclear_repulsion: float


@dataclass
class ScfState:
    """A converged RHF calculation (PySCF objects kept for the baselines)."""

    mol: Any
    mf: Any

    @property
    def num_orbitals(self) -> int:
        return int(self.mf.mo_coeff.shape[1])


def run_scf(molecule: Molecule, basis: str = "sto-3g") -> ScfState:
    """Build the PySCF molecule and converge RHF (ROHF for open shells)."""
    pyscf = _pyscf()
    try:
        mol = pyscf.gto.M(atom=molecule.pyscf_atom(), basis=basis, charge=molecule.charge, spin=molecule.spin,
                          unit="Angstrom", verbose=0)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise ModelError(f"PySCF cannot build {molecule.name or molecule.formula} in basis {basis!r}: {exc}",
                         field="basis") from exc
    mf = pyscf.scf.RHF(mol) if molecule.spin == 0 else pyscf.scf.ROHF(mol)
    mf.kernel()
    return ScfState(mol=mol, mf=mf)


def active_space(state: ScfState, molecule: Molecule, active: Sequence[int] | None) -> ActiveSpaceIntegrals:
    """Integrals over ``active`` MOs (all when None); other occupied MOs are frozen (core), the rest dropped."""
    pyscf = _pyscf()
    norb = state.num_orbitals
    act = tuple(range(norb)) if active is None else tuple(int(i) for i in active)
    if not act or len(set(act)) != len(act) or min(act) < 0 or max(act) >= norb:
        raise ModelError(f"active orbitals {list(act)} must be distinct indices in 0..{norb - 1}",
                         field="active_orbitals")
    n_alpha, n_beta = state.mol.nelec
    frozen = [i for i in range(norb) if i not in act and i < n_beta]
    singly = [i for i in range(n_beta, n_alpha) if i not in act]
    if singly:
        raise ModelError(f"singly occupied orbitals {singly} must be active", field="active_orbitals")
    na, nb = n_alpha - len(frozen), n_beta - len(frozen)
    if na > len(act) or nb > len(act):
        raise ModelError(f"{na}+{nb} active electrons do not fit in {len(act)} orbitals", field="active_orbitals")
    cas = pyscf.mcscf.CASCI(state.mf, len(act), (na, nb))
    mo = cas.sort_mo([i + 1 for i in act], base=1)
    h1, e_core = cas.get_h1eff(mo)
    h2 = pyscf.ao2mo.restore(1, cas.get_h2eff(mo), len(act))
    return ActiveSpaceIntegrals(h1=np.asarray(h1), h2=np.asarray(h2), core_energy=float(e_core),
                                num_alpha=na, num_beta=nb, active_orbitals=act)


def baselines(state: ScfState, integrals: ActiveSpaceIntegrals, *, fci_max_orbitals: int = 14) -> Baselines:
    """HF, CCSD, full FCI (when ≤ ``fci_max_orbitals`` orbitals) and active-space CASCI energies."""
    pyscf = _pyscf()
    mf = state.mf
    try:
        ccsd: float | None = float(pyscf.cc.CCSD(mf).run().e_tot) if state.mol.nelectron > 1 else float(mf.e_tot)
    except Exception:  # CCSD may fail to converge; it is a baseline, not the answer
        ccsd = None
    fci = float(pyscf.fci.FCI(mf).kernel()[0]) if state.num_orbitals <= fci_max_orbitals else None
    cas = pyscf.fci.direct_spin1.FCI()
    e_cas, _ = cas.kernel(integrals.h1, integrals.h2, integrals.num_orbitals,
                          (integrals.num_alpha, integrals.num_beta), ecore=integrals.core_energy)
    return Baselines(hf=float(mf.e_tot), ccsd=ccsd, fci=fci, casci=float(e_cas),
                     nuclear_repulsion=float(state.mol.energy_nuc()))
