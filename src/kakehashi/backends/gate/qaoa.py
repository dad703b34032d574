"""`qaoa`: the Quantum Approximate Optimisation Algorithm on Qiskit primitives (Aer by default).

Flow: Ising target → :func:`~kakehashi.compile.circuits.qaoa_program` → angles optimised on an
``EstimatorV2`` (exact statevector expectation on Aer; coarse grid at p=1, INTERP to depth p,
scipy L-BFGS-B or COBYLA) → the optimised circuit sampled on a ``SamplerV2`` (``shots``) →
samples as spins in the target's variable order.

A user hands in their own primitives (e.g. IBM Runtime's, or Aer's with a noise model)::

    from qiskit_aer.primitives import SamplerV2
    backend = QaoaBackend(sampler=SamplerV2(seed=7))
    kakehashi.registry.register("my-qaoa", lambda: backend)

Aer runs on a GPU when ``qiskit-aer-gpu`` is installed and a device is visible (checked at run
time, ``device="auto"``). ``info`` reports the expected energy of the optimised state and, when
the model is small enough to tabulate (≤ 26 qubits), the expected approximation ratio
``(E_max - ⟨E⟩) / (E_max - E_min)``: for MaxCut this is ⟨cut⟩ / max cut.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    HardwareKind,
    Param,
    Termination,
    check_params,
    check_target,
)
from kakehashi.backends.gate.angles import optimise
from kakehashi.compile.circuits import QaoaProgram, bits_to_spins, ising_diagonal, qaoa_program
from kakehashi.compile.targets import Compiled, IsingModel, TargetKind
from kakehashi.exceptions import BackendError, BackendRejected, BackendUnavailable

#: Largest model the registered ``qaoa`` declares: one exact Aer evaluation of a 16-qubit circuit
#: takes ~0.1 s on a busy 2-core machine (20 qubits: ~2 s), and the loop needs hundreds.
#: ``QaoaBackend(max_qubits=20)`` lifts it for a 20-node MaxCut without a tight time limit.
MAX_QUBITS = 16
#: Largest model for which the exact expected ratio is tabulated.
MAX_RATIO_QUBITS = 26

PARAMS: dict[str, Param] = {
    "p": Param(int, 2, "QAOA depth (number of cost+mixer layers)"),
    "shots": Param(int, 1024, "measurements of the optimised circuit"),
    "optimizer": Param(str, "L-BFGS-B", "angle optimiser: 'L-BFGS-B' (batched finite differences) or 'COBYLA'"),
    "maxiter": Param(int, 100, "optimiser iterations per depth"),
    "initial_angles": Param((list, tuple), None, "start angles [γ_1..γ_p, β_1..β_p] in radians (skips INTERP)"),
    "device": Param(str, "auto", "Aer device: 'auto' (GPU when present), 'CPU' or 'GPU'"),
    "threads": Param(int, 1, "Aer CPU threads (0: all cores); one is fastest for <= 20 qubits on a shared machine"),
}


def aer_device(requested: str = "auto") -> str:
    """The Aer device to use: ``GPU`` when requested or auto-detected, else ``CPU``."""
    if requested.upper() == "CPU":
        return "CPU"
    try:
        from qiskit_aer import AerSimulator
    except ImportError as exc:
        raise BackendUnavailable("qaoa: install the extra: pip install 'kakehashi[qiskit]'") from exc
    devices = AerSimulator().available_devices()
    if "GPU" in devices:
        return "GPU"
    if requested.upper() == "GPU":
        raise BackendUnavailable("qaoa: device='GPU' requested but Aer sees no GPU (install qiskit-aer-gpu)")
    return "CPU"


def spins_from_counts(counts: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Qiskit counts → (distinct spin rows, occurrences), most frequent first."""
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    spins = bits_to_spins([k for k, _ in items])
    return spins, np.array([v for _, v in items], dtype=np.int64)


def expected_ratio(ising: IsingModel, expected_energy: float) -> dict[str, float]:
    """Exact min/max energies and the expected ratio, when ``ising`` is small enough."""
    if ising.num_variables > MAX_RATIO_QUBITS:
        return {}
    diag = ising_diagonal(ising)
    lo, hi = float(diag.min()), float(diag.max())
    ratio = (hi - expected_energy) / (hi - lo) if hi > lo else 1.0
    return {"min_energy": lo, "max_energy": hi, "expected_ratio": ratio}


class QaoaBackend:
    """QAOA on Qiskit primitives. ``sampler``/``estimator``: any ``SamplerV2``/``EstimatorV2``.

    Args:
        sampler: samples the optimised circuit (default: Aer ``SamplerV2`` seeded per call).
        estimator: evaluates ⟨H_C⟩ during angle optimisation (default: Aer ``EstimatorV2``,
            exact statevector expectation).
        pass_manager: transpiles circuits for the primitives' device (e.g. from
            ``generate_preset_pass_manager(backend=...)``); observables follow the layout.
        max_qubits: the size limit declared in :meth:`capabilities`.
    """

    name = "qaoa"

    def __init__(
        self,
        *,
        sampler: Any = None,
        estimator: Any = None,
        pass_manager: Any = None,
        max_qubits: int = MAX_QUBITS,
    ) -> None:
        self.sampler = sampler
        self.estimator = estimator
        self.pass_manager = pass_manager
        self.max_qubits = max_qubits

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.ISING,),
            hardware=HardwareKind.CPU,
            max_variables=self.max_qubits,
            proves_optimality=False,
            honours_time_limit=True,
            honours_seed=True,
            params=PARAMS,
        )

    def available(self) -> Availability:
        if self.sampler is not None and self.estimator is not None:
            return Availability.yes()
        return Availability.of_modules("qiskit", "qiskit_aer", hint="pip install 'kakehashi[qiskit]'")

    # ------------------------------------------------------------------ primitives
    def _primitives(self, seed: int | None, device: str, threads: int) -> tuple[Any, Any]:
        sampler, estimator = self.sampler, self.estimator
        if sampler is None or estimator is None:
            try:
                from qiskit_aer.primitives import EstimatorV2, SamplerV2
            except ImportError as exc:
                raise BackendUnavailable("qaoa: install the extra: pip install 'kakehashi[qiskit]'") from exc
            opts = {"backend_options": {"method": "statevector", "device": device,
                                        "max_parallel_threads": threads}}
            if sampler is None:
                sampler = SamplerV2(seed=seed, options=opts)
            if estimator is None:
                estimator = EstimatorV2(options={**opts, "default_precision": 0.0})
        return sampler, estimator

    def _isa(self, program: QaoaProgram) -> tuple[Any, Any]:
        if self.pass_manager is None:
            return program.circuit, program.cost
        circuit = self.pass_manager.run(program.circuit)
        return circuit, program.cost.apply_layout(circuit.layout)

    # ----------------------------------------------------------------------- solve
    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput:
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        p, shots = int(opts["p"]), int(opts["shots"])
        if p < 1 or shots < 1:
            raise BackendRejected(f"{self.name}: p and shots must be >= 1 (got p={p}, shots={shots})")
        if opts["optimizer"] not in ("L-BFGS-B", "COBYLA"):
            raise BackendRejected(f"{self.name}: optimizer must be 'L-BFGS-B' or 'COBYLA', got {opts['optimizer']!r}")
        ising: IsingModel = compiled.target
        start = time.monotonic()
        device = aer_device(str(opts["device"])) if self.sampler is None or self.estimator is None else "user"
        sampler, estimator = self._primitives(seed, device, int(opts["threads"]))
        program = qaoa_program(ising, p)
        circuit, observable = self._isa(program)
        order = program.parameter_order()
        # Keep a little of the budget for the sampling step.
        deadline = None if time_limit is None else start + 0.85 * time_limit

        def energies(thetas: np.ndarray) -> np.ndarray:
            values = self._bind(order, circuit, thetas)
            try:
                result = estimator.run([(circuit, observable, values)]).result()
            except Exception as exc:
                raise BackendError(f"{self.name}: estimator failed: {exc}") from exc
            return np.asarray(result[0].data.evs, dtype=np.float64).reshape(-1)

        initial = opts["initial_angles"]
        if initial is not None and len(initial) != 2 * p:
            raise BackendRejected(f"{self.name}: initial_angles needs 2*p = {2 * p} values, got {len(initial)}")
        angles = optimise(
            energies,
            p,
            method=str(opts["optimizer"]),
            maxiter=int(opts["maxiter"]),
            deadline=deadline,
            initial=None if initial is None else np.asarray(initial, dtype=np.float64),
            grid_chunk=8 if ising.num_variables <= 12 else 1,
        )
        measured = circuit.measure_all(inplace=False)
        values = self._bind(order, measured, angles.theta[None, :])[0]
        try:
            pub = sampler.run([(measured, values)], shots=shots).result()[0]
        except Exception as exc:
            raise BackendError(f"{self.name}: sampler failed: {exc}") from exc
        counts = pub.data.meas.get_counts()
        spins, occurrences = spins_from_counts(counts)
        if self.pass_manager is not None:
            layout = circuit.layout.final_index_layout()
            spins = spins[:, layout]
        info: dict[str, Any] = {
            "p": p,
            "shots": shots,
            "angles": {"gamma": angles.theta[:p].tolist(), "beta": angles.theta[p:].tolist()},
            "angle_units": "radians, for the Hamiltonian divided by 'scale'",
            "scale": program.scale,
            "expected_energy": angles.energy,
            "expected_energy_per_depth": angles.per_depth,
            "evaluations": angles.evaluations,
            "optimizer": opts["optimizer"],
            "init": "given" if initial is not None else "grid+INTERP",
            "device": device,
            "num_qubits": program.num_qubits,
            "circuit_depth": int(circuit.depth()),
        }
        info.update(expected_ratio(ising, angles.energy))
        return BackendOutput(
            samples=spins,
            termination=Termination.TIME_LIMIT if angles.timed_out else Termination.COMPLETED,
            solve_seconds=time.monotonic() - start,
            energies=ising.energies(spins),
            num_occurrences=occurrences,
            info=info,
        )

    @staticmethod
    def _bind(order: list[Any], circuit: Any, thetas: np.ndarray) -> np.ndarray:
        """Reorder angle rows ``[γ..., β...]`` to the circuit's own parameter order."""
        pos = {prm: k for k, prm in enumerate(order)}
        cols = [pos[prm] for prm in circuit.parameters]
        return np.atleast_2d(thetas)[:, cols]
