"""VQE on an ``EstimatorV2`` (Aer's exact statevector expectation by default) and the one-call pipeline.

:func:`ground_state` runs molecule → PySCF RHF → active-space integrals → qubit Hamiltonian →
VQE, and returns the VQE energy next to the HF, CCSD, CASCI and FCI baselines, all in Hartree,
with the error against FCI in mHa. Input is validated before any integral is computed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize

from kakehashi.apps.chemistry import ansatz as ansatz_mod
from kakehashi.apps.chemistry.integrals import Baselines, active_space, baselines, run_scf
from kakehashi.apps.chemistry.mapping import MAPPINGS, QubitMapping
from kakehashi.apps.chemistry.molecules import Molecule
from kakehashi.exceptions import BackendError, BackendUnavailable, ModelError

#: Finite-difference step for the batched central-difference gradient (radians).
FD_STEP = 1e-5


@dataclass
class VqeResult:
    """Energies in Hartree; ``error_mha`` = 1000 × (VQE − FCI) (or − CASCI when FCI was skipped)."""

    molecule: str
    basis: str
    mapping: str
    ansatz: str
    num_qubits: int
    num_parameters: int
    active_orbitals: list[int]
    energy: float
    hf: float
    ccsd: float | None
    casci: float | None
    fci: float | None
    error_mha: float
    reference: str
    evaluations: int
    seconds: float
    parameters: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_estimator() -> Any:
    try:
        from qiskit_aer.primitives import EstimatorV2
    except ImportError as exc:
        raise BackendUnavailable("install the extra: pip install 'kakehashi[chemistry]'") from exc
    # one thread: OpenMP threads on a busy shared machine are an order of magnitude slower at this size
    return EstimatorV2(options={"default_precision": 0.0,
                                "backend_options": {"method": "statevector", "max_parallel_threads": 1}})


def minimise_energy(
    circuit: Any, hamiltonian: Any, estimator: Any, *, x0: np.ndarray, maxiter: int = 300
) -> tuple[np.ndarray, float, int]:
    """Minimise ⟨ψ(θ)|H|ψ(θ)⟩ with L-BFGS-B; each gradient is one batched estimator call."""
    calls = 0

    def fun_and_grad(t: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal calls
        d = t.size
        pts = np.vstack([t, t + FD_STEP * np.eye(d), t - FD_STEP * np.eye(d)])
        try:
            evs = np.asarray(estimator.run([(circuit, hamiltonian, pts)]).result()[0].data.evs).reshape(-1)
        except Exception as exc:
            raise BackendError(f"vqe: estimator failed: {exc}") from exc
        calls += len(pts)
        return float(evs[0]), (evs[1 : d + 1] - evs[d + 1 :]) / (2 * FD_STEP)

    res = minimize(fun_and_grad, x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "ftol": 1e-12, "gtol": 1e-7})
    return np.asarray(res.x), float(res.fun), calls


def ground_state(
    molecule: Molecule,
    *,
    basis: str = "sto-3g",
    mapping: str = "parity",
    ansatz: str = "uccsd",
    active_orbitals: Sequence[int] | None = None,
    reps: int = 2,
    estimator: Any = None,
    seed: int | None = 0,
    maxiter: int = 300,
) -> VqeResult:
    """VQE ground-state energy of ``molecule`` (Hartree) with classical baselines.

    Args:
        molecule: a validated :class:`Molecule`.
        basis: a PySCF basis name (e.g. ``sto-3g``, ``6-31g``).
        mapping: ``jordan_wigner`` or ``parity`` (parity uses the two-qubit reduction).
        ansatz: ``uccsd`` or ``hea`` (hardware-efficient, ``reps`` entangling layers).
        active_orbitals: spatial MO indices (default: the molecule's own, else all).
        estimator: any ``EstimatorV2`` (default: Aer, exact statevector expectation).
        seed: seeds the small random start of the hardware-efficient ansatz.
    """
    if mapping not in MAPPINGS:
        raise ModelError(f"unknown mapping {mapping!r}; known: {', '.join(MAPPINGS)}", field="mapping")
    if ansatz not in ansatz_mod.ANSATZE:
        raise ModelError(f"unknown ansatz {ansatz!r}; known: {', '.join(ansatz_mod.ANSATZE)}", field="ansatz")
    start = time.perf_counter()
    state = run_scf(molecule, basis)
    active = active_orbitals if active_orbitals is not None else molecule.active_orbitals
    ints = active_space(state, molecule, active)
    if 2 * ints.num_orbitals > 24:
        raise ModelError(f"{2 * ints.num_orbitals} spin orbitals are too many for statevector VQE here; "
                         "choose an active space (active_orbitals)", field="active_orbitals")
    base: Baselines = baselines(state, ints)
    qm = QubitMapping(mapping, ints.num_orbitals, ints.num_alpha, ints.num_beta)  # type: ignore[arg-type]
    hamiltonian = qm.hamiltonian(ints)
    circuit = ansatz_mod.build(qm, ansatz, reps)
    est = estimator if estimator is not None else default_estimator()
    rng = np.random.default_rng(seed)
    x0 = np.zeros(circuit.num_parameters)
    if ansatz == "hea":
        x0 = rng.normal(0.0, 0.05, circuit.num_parameters)
    theta, energy, calls = minimise_energy(circuit, hamiltonian, est, x0=x0, maxiter=maxiter)
    ref, ref_name = (base.fci, "fci") if base.fci is not None else (base.casci, "casci")
    assert ref is not None
    return VqeResult(
        molecule=molecule.name or molecule.formula,
        basis=basis,
        mapping=mapping,
        ansatz=ansatz,
        num_qubits=qm.num_qubits,
        num_parameters=int(circuit.num_parameters),
        active_orbitals=list(ints.active_orbitals),
        energy=energy,
        hf=base.hf,
        ccsd=base.ccsd,
        casci=base.casci,
        fci=base.fci,
        error_mha=1000.0 * (energy - ref),
        reference=ref_name,
        evaluations=calls,
        seconds=time.perf_counter() - start,
        parameters=theta.tolist(),
    )
