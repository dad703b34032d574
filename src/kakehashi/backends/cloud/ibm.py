"""`ibm`: QAOA on IBM Quantum devices through qiskit-ibm-runtime's ``SamplerV2``.

Angles are chosen locally on the exact statevector (no device time spent on the optimisation
loop), then the bound circuit is transpiled for the device (ISA circuit, preset pass manager)
and sampled once. ``info["qpu_seconds"]`` is the runtime's reported quantum time (None on a
local fake backend). Credentials: ``IBM_QUANTUM_TOKEN`` (plus optional ``IBM_QUANTUM_INSTANCE``,
``IBM_QUANTUM_CHANNEL``, ``IBM_QUANTUM_BACKEND``) or an account saved with
``QiskitRuntimeService.save_account``. Tests inject a fake device::

    from qiskit_ibm_runtime.fake_provider import FakeManilaV2
    backend = IbmBackend(device=FakeManilaV2())
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
from kakehashi.backends.cloud.jobs import wait_or_cancel
from kakehashi.backends.gate.angles import local_angles
from kakehashi.backends.gate.qaoa import spins_from_counts
from kakehashi.compile.targets import Compiled, IsingModel, TargetKind
from kakehashi.exceptions import BackendError, BackendRejected, BackendUnavailable

INSTALL = "not available: install the extra: pip install 'kakehashi[ibm]'"
NO_CREDENTIALS = (
    "not available: set IBM_QUANTUM_TOKEN (and optionally IBM_QUANTUM_INSTANCE, IBM_QUANTUM_BACKEND), "
    "or save an account with QiskitRuntimeService.save_account()"
)
#: Angles are optimised on a local statevector, so this many qubits at most.
MAX_LOCAL_QUBITS = 20

PARAMS: dict[str, Param] = {
    "p": Param(int, 2, "QAOA depth"),
    "shots": Param(int, 1024, "measurements on the device"),
    "backend_name": Param(str, None, "IBM device name (default: IBM_QUANTUM_BACKEND or the least busy device)"),
    "optimization_level": Param(int, 1, "transpiler optimisation level 0-3"),
    "maxiter": Param(int, 100, "local angle-optimiser iterations per depth"),
}


def _saved_account() -> bool:
    return (Path.home() / ".qiskit" / "qiskit-ibm.json").is_file()


class IbmBackend:
    """QAOA sampled on an IBM Quantum device (or an injected fake/simulated ``BackendV2``)."""

    name = "ibm"

    def __init__(self, device: Any = None, *, service: Any = None, max_qubits: int = MAX_LOCAL_QUBITS) -> None:
        self.device = device
        self.service = service
        self.max_qubits = max_qubits  #: cap on the declared size (angles are chosen on a local statevector)

    def _is_local(self) -> bool:
        mod = type(self.device).__module__ if self.device is not None else ""
        return mod.startswith(("qiskit_ibm_runtime.fake_provider", "qiskit_aer", "qiskit.providers"))

    def capabilities(self) -> Capabilities:
        width = int(self.device.num_qubits) if self.device is not None else MAX_LOCAL_QUBITS
        return Capabilities(
            targets=(TargetKind.ISING,),
            hardware=HardwareKind.QPU_GATE,
            max_variables=min(width, self.max_qubits),
            honours_time_limit=True,
            honours_seed=self._is_local(),
            params=PARAMS,
        )

    def available(self) -> Availability:
        try:
            import qiskit_ibm_runtime  # noqa: F401
        except ImportError:
            return Availability.no(INSTALL)
        if self.device is not None or self.service is not None:
            return Availability.yes()
        if os.environ.get("IBM_QUANTUM_TOKEN") or _saved_account():
            return Availability.yes()
        return Availability.no(NO_CREDENTIALS)

    def _resolve_device(self, backend_name: str | None) -> Any:
        if self.device is not None:
            return self.device
        reason = self.available()
        if not reason:
            raise BackendUnavailable(f"{self.name}: {reason.reason}")
        from qiskit_ibm_runtime import QiskitRuntimeService

        try:
            service = self.service
            if service is None:
                token = os.environ.get("IBM_QUANTUM_TOKEN")
                kwargs = {"channel": os.environ.get("IBM_QUANTUM_CHANNEL", "ibm_quantum_platform")}
                if token:
                    kwargs["token"] = token
                if os.environ.get("IBM_QUANTUM_INSTANCE"):
                    kwargs["instance"] = os.environ["IBM_QUANTUM_INSTANCE"]
                service = QiskitRuntimeService(**kwargs)
            name = backend_name or os.environ.get("IBM_QUANTUM_BACKEND")
            return service.backend(name) if name else service.least_busy(operational=True, simulator=False)
        except Exception as exc:
            raise BackendUnavailable(f"{self.name}: IBM Quantum refused the connection: {exc}") from exc

    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput:
        caps = self.capabilities()
        opts = check_params(self.name, caps, params)
        if compiled.kind not in caps.targets:
            check_target(self.name, caps, compiled)
        start = time.monotonic()
        deadline = None if time_limit is None else start + time_limit
        try:
            from qiskit.transpiler import generate_preset_pass_manager
            from qiskit_ibm_runtime import SamplerV2
        except ImportError as exc:
            raise BackendUnavailable(f"{self.name}: {INSTALL}") from exc
        device = self._resolve_device(opts["backend_name"])
        ising: IsingModel = compiled.target
        n, width = ising.num_variables, int(device.num_qubits)
        if n > width:
            raise BackendRejected(f"{self.name}: the circuit needs {n} qubits but device {device.name} has {width}")
        check_target(self.name, caps, compiled)
        p, shots = int(opts["p"]), int(opts["shots"])
        if p < 1 or shots < 1:
            raise BackendRejected(f"{self.name}: p and shots must be >= 1")
        from kakehashi.compile.circuits import qaoa_program

        angle_deadline = None if deadline is None else start + 0.5 * time_limit  # type: ignore[operator]
        angles = local_angles(ising, p, deadline=angle_deadline, maxiter=int(opts["maxiter"]))
        program = qaoa_program(ising, p)
        bound = program.circuit.assign_parameters(dict(zip(program.parameter_order(), angles.theta, strict=True)))
        bound.measure_all()
        pm = generate_preset_pass_manager(optimization_level=int(opts["optimization_level"]), backend=device,
                                          seed_transpiler=seed)
        isa = pm.run(bound)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # SamplerV2 is deprecated from 0.50 on
            sampler = SamplerV2(mode=device)
        if seed is not None and self._is_local():
            sampler.options.simulator.seed_simulator = seed
        try:
            job = sampler.run([isa], shots=shots)
        except Exception as exc:
            raise BackendError(f"{self.name}: job submission failed: {exc}") from exc
        wait_or_cancel(job.done, job.cancel, deadline=deadline, what=f"{self.name} job on {device.name}")
        try:
            pub = job.result()[0]
        except Exception as exc:
            raise BackendError(f"{self.name}: job failed: {exc}") from exc
        spins, occurrences = spins_from_counts(pub.data.meas.get_counts())
        return BackendOutput(
            samples=spins,
            termination=Termination.COMPLETED,
            solve_seconds=time.monotonic() - start,
            energies=ising.energies(spins),
            num_occurrences=occurrences,
            info={
                "device": device.name,
                "simulated": self._is_local(),
                "qpu_seconds": _quantum_seconds(job),
                "job_id": _job_id(job),
                "p": p,
                "shots": shots,
                "angles": {"gamma": angles.theta[:p].tolist(), "beta": angles.theta[p:].tolist()},
                "expected_energy_noiseless": angles.energy,
                "transpiled_depth": int(isa.depth()),
                "two_qubit_gates": int(sum(v for k, v in isa.count_ops().items() if k in ("cx", "ecr", "cz"))),
            },
        )


def _quantum_seconds(job: Any) -> float | None:
    """The runtime's reported quantum time (seconds), when the job reports it."""
    try:
        usage = job.metrics().get("usage", {})
        value = usage.get("quantum_seconds", usage.get("seconds"))
        return None if value is None else float(value)
    except Exception:  # local primitive jobs have no metrics
        return None


def _job_id(job: Any) -> str | None:
    try:
        return str(job.job_id())
    except Exception:
        return None

