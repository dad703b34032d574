"""`braket`: QAOA on Amazon Braket gate-model devices (amazon-braket-sdk).

Angles are chosen locally on the exact statevector, the circuit is written in Braket's gate set
(``h``, ``rz``, ``zz``, ``rx``) and run for ``shots``. Device: the ``device`` argument (an ARN,
``"local"`` for the SDK's ``LocalSimulator``, or a Braket ``Device``), else ``BRAKET_DEVICE_ARN``;
an AWS device also needs AWS credentials (environment, profile or role). A task still running
at the time limit is cancelled.
"""

from __future__ import annotations

import os
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
from kakehashi.backends.cloud.jobs import wait_or_cancel
from kakehashi.backends.gate.angles import local_angles
from kakehashi.compile.circuits import ising_scale
from kakehashi.compile.targets import Compiled, IsingModel, TargetKind
from kakehashi.exceptions import BackendError, BackendRejected, BackendUnavailable

INSTALL = "not available: install the extra: pip install 'kakehashi[braket]'"
NO_DEVICE = ("not available: set BRAKET_DEVICE_ARN (a gate-model device ARN) and AWS credentials "
             "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE), or use device='local'")
NO_CREDENTIALS = "not available: set AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"
MAX_LOCAL_QUBITS = 20

PARAMS: dict[str, Param] = {
    "p": Param(int, 2, "QAOA depth"),
    "shots": Param(int, 1000, "measurements"),
    "maxiter": Param(int, 100, "local angle-optimiser iterations per depth"),
}


def braket_circuit(ising: IsingModel, theta: np.ndarray) -> Any:
    """The bound QAOA circuit in Braket gates (same angles and conventions as the Qiskit one)."""
    from braket.circuits import Circuit

    p = theta.size // 2
    scale = ising_scale(ising)
    n = ising.num_variables
    coo = ising.J.tocoo()
    c = Circuit()
    for q in range(n):
        c.h(q)
    for k in range(p):
        for i in np.flatnonzero(ising.h):
            c.rz(int(i), 2.0 * float(ising.h[i]) / scale * float(theta[k]))
        for i, j, v in zip(coo.row, coo.col, coo.data, strict=True):
            if v != 0.0:
                c.zz(int(i), int(j), 2.0 * float(v) / scale * float(theta[k]))
        for q in range(n):
            c.rx(q, 2.0 * float(theta[p + k]))
    return c


class BraketBackend:
    """QAOA on an Amazon Braket gate-model device or the SDK's local simulator."""

    name = "braket"

    def __init__(self, device: Any = None, *, max_qubits: int = MAX_LOCAL_QUBITS) -> None:
        self.device = device if device is not None else os.environ.get("BRAKET_DEVICE_ARN")
        self.max_qubits = max_qubits  #: cap on the declared size (angles are chosen on a local statevector)

    @property
    def _local(self) -> bool:
        return self.device == "local" or type(self.device).__name__ == "LocalSimulator"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.ISING,),
            hardware=HardwareKind.QPU_GATE,
            max_variables=self.max_qubits,
            honours_time_limit=True,
            honours_seed=False,  # Braket devices and the local simulator take no sampling seed
            params=PARAMS,
        )

    def available(self) -> Availability:
        try:
            import braket.circuits  # noqa: F401
        except ImportError:
            return Availability.no(INSTALL)
        if self.device is None:
            return Availability.no(NO_DEVICE)
        if self._local or not isinstance(self.device, str):
            return Availability.yes()
        try:
            import boto3

            if boto3.Session().get_credentials() is None:
                return Availability.no(NO_CREDENTIALS)
        except Exception:
            return Availability.no(NO_CREDENTIALS)
        return Availability.yes()

    def _device(self) -> Any:
        avail = self.available()
        if not avail:
            raise BackendUnavailable(f"{self.name}: {avail.reason}")
        if not isinstance(self.device, str):
            return self.device
        if self._local:
            from braket.devices import LocalSimulator

            return LocalSimulator()
        from braket.aws import AwsDevice

        try:
            return AwsDevice(self.device)
        except Exception as exc:
            raise BackendUnavailable(f"{self.name}: cannot open device {self.device}: {exc}") from exc

    def solve(
        self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None, params: Mapping[str, Any]
    ) -> BackendOutput:
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        p, shots = int(opts["p"]), int(opts["shots"])
        if p < 1 or shots < 1:
            raise BackendRejected(f"{self.name}: p and shots must be >= 1")
        device = self._device()
        ising: IsingModel = compiled.target
        width = _qubit_count(device)
        if width is not None and ising.num_variables > width:
            raise BackendRejected(f"{self.name}: the circuit needs {ising.num_variables} qubits but the device has "
                                  f"{width}")
        start = time.monotonic()
        deadline = None if time_limit is None else start + time_limit
        angles = local_angles(ising, p, deadline=None if time_limit is None else start + 0.5 * time_limit,
                              maxiter=int(opts["maxiter"]))
        circuit = braket_circuit(ising, angles.theta)
        try:
            task = device.run(circuit, shots=shots)
            terminal = ("COMPLETED", "FAILED", "CANCELLED")
            wait_or_cancel(lambda: task.state() in terminal, task.cancel, deadline=deadline, what=self.name)
            result = task.result()
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if result is None:
            raise BackendError(f"{self.name}: task ended as {task.state()} without a result")
        measured = list(result.measured_qubits)
        bits = np.asarray(result.measurements)[:, [measured.index(q) for q in range(ising.num_variables)]]
        rows, counts = np.unique(bits, axis=0, return_counts=True)
        spins = 1.0 - 2.0 * rows.astype(np.float64)
        info: dict[str, Any] = {
            "device": getattr(device, "name", str(self.device)),
            "simulated": self._local,
            "task_id": str(getattr(task, "id", "")),
            "p": p,
            "shots": shots,
            "angles": {"gamma": angles.theta[:p].tolist(), "beta": angles.theta[p:].tolist()},
            "expected_energy_noiseless": angles.energy,
        }
        return BackendOutput(
            samples=spins,
            termination=Termination.COMPLETED,
            solve_seconds=time.monotonic() - start,
            energies=ising.energies(spins),
            num_occurrences=counts.astype(np.int64),
            info=info,
        )


def _qubit_count(device: Any) -> int | None:
    try:
        props = device.properties.paradigm
        return int(props.qubitCount)
    except Exception:  # the local simulator's limit is its memory, not a property
        return None
