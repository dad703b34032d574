"""The seam to a Slurm controller: submit, read, find, cancel, ping (CLI or slurmrestd).

Two implementations share it: :class:`~.cli.CliController` (``sbatch``/``squeue``/``scancel``/
``scontrol`` on PATH, as a login node has them) and :class:`~.rest.RestController` (slurmrestd
with a JWT, as a service account on a gateway host has it). Both return
:class:`~.states.SlurmJob` records parsed from the same OpenAPI ``v0.0.38`` job objects.
"""

from __future__ import annotations

from typing import Protocol

from kakehashi.service.executors.slurm.batch import BatchRequest
from kakehashi.service.executors.slurm.states import ClusterState, SlurmJob


class ControllerError(Exception):
    """The controller could not be reached or did not answer in time (try again later)."""


class SubmitRejected(Exception):
    """The controller refused the batch job (bad partition, account, QoS, resources...)."""


class Controller(Protocol):
    """What the executor asks of Slurm. Every call is bounded by the settings' command timeout
    and raises :class:`ControllerError` when the controller is out."""

    #: ``"cli"`` or ``"rest"``: logged and recorded in placement events.
    kind: str

    def submit(self, request: BatchRequest) -> int:
        """Submit one batch job; Slurm's job id. Raises :class:`SubmitRejected` when refused."""
        ...

    def job(self, job_id: int) -> SlurmJob | None:
        """The controller's record of ``job_id``; None when it has none (gone or never known)."""
        ...

    def find(self, name: str) -> list[SlurmJob]:
        """Every job the controller still knows by ``--job-name`` ``name``, oldest first."""
        ...

    def cancel(self, job_id: int) -> None:
        """``scancel`` ``job_id`` (no error when it already ended)."""
        ...

    def ping(self) -> bool:
        """True when the controller answers now."""
        ...

    def cluster(self, partition: str | None) -> ClusterState:
        """The partition's nodes by state and its queue (``sinfo``/``squeue``, or REST)."""
        ...
