"""Molecular ground states: geometry → PySCF integrals → qubit Hamiltonian → VQE, checked against FCI.

::

    from kakehashi.apps.chemistry import ground_state, named
    r = ground_state(named("LiH"), basis="sto-3g", mapping="parity", ansatz="uccsd")
    print(r.energy, r.fci, r.error_mha)   # Hartree, Hartree, mHa

PySCF, Qiskit and matplotlib are imported lazily (extras ``[chemistry]`` and ``[apps]``).
"""

from kakehashi.apps.chemistry.curve import dissociation_curve
from kakehashi.apps.chemistry.mapping import QubitMapping
from kakehashi.apps.chemistry.molecules import NAMED, Molecule, load, named, read_xyz
from kakehashi.apps.chemistry.vqe import VqeResult, ground_state

__all__ = [
    "NAMED",
    "Molecule",
    "QubitMapping",
    "VqeResult",
    "dissociation_curve",
    "ground_state",
    "load",
    "named",
    "read_xyz",
]
