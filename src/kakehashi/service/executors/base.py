"""The executor seam: where a claimed job runs (a local solver child, a Ray task, a Slurm batch job).

The worker (:mod:`kakehashi.service.worker`) owns the database side of a job: the claim, the
lease heartbeats, progress, cancellation and the guarded write of the outcome. An executor owns
only the running of it, through two small Protocols::

    run = executor.start(claim)        # begin running one claimed job
    msg = run.poll(timeout)            # the next message, or None after ``timeout`` seconds
    run.cancel()                       # stop it now (cancelled, lost lease, deadline, shutdown)
    executor.shutdown()                # release processes / cluster connections

Messages are the solver protocol of :mod:`kakehashi.service.runner` (JSON-able dicts):
``{"type": "progress", "data": {...}}``, then one answer, ``{"type": "result", "result":
{Result.to_dict()}, "seconds": s}`` or ``{"type": "error", "kind": ..., "error": ..., "seconds":
s}``. An executor that queues work before running it (Ray, Slurm) first sends ``{"type": "started",
...placement}`` when the job begins to run (with ``"at"``: when it did, UNIX seconds, if the
executor knows better than now); the worker then starts its clock (the time limit and
machine-seconds count from there) and moves the job's ``started_at``. While it waits, such an
executor may send ``{"type": "waiting", "reason": "Slurm PENDING (Resources)"}``: the job shows
as QUEUED with that reason. A run that can measure its own machine-seconds (Slurm's record)
has ``machine_seconds() -> float | None``, which the worker bills for a run it stopped. Two
failures are not answers:

- :class:`ExecutionDied`: the process running the solve died (a solver crash). The job fails.
- :class:`ExecutionLost`: the machine running the job was lost (a Ray node died, its worker
  crashed, the task was lost). Nothing about the job is wrong: it goes back to the queue exactly
  as when a worker loses its lease (attempt raised at the next claim; FAILED after
  ``max_attempts``).
"""

from __future__ import annotations

from typing import Any, Protocol

from kakehashi.service.lease import Claim


class ExecutionDied(Exception):
    """The process running the job died before answering; the job fails with this message."""


class ExecutionLost(Exception):
    """The machine running the job was lost; the job is re-queued like a lost lease."""


class Run(Protocol):
    """One job running on an executor.

    ``started`` is False while the job waits for a machine (a Ray task not yet placed) and
    turns True with the ``started`` message; the worker's kill deadline only runs from then.
    """

    started: bool

    def poll(self, timeout: float) -> dict[str, Any] | None:
        """The next message of the job, or None when none came within ``timeout`` seconds.

        Raises :class:`ExecutionDied` or :class:`ExecutionLost`. After the answer
        (``result``/``error``) the run is over and must not be polled again.
        """
        ...

    def cancel(self) -> None:
        """Stop the job now (kill its process or task); safe to call more than once."""
        ...


class Executor(Protocol):
    """Starts claimed jobs somewhere; one :class:`Run` at a time per worker."""

    #: "local", "ray" or "slurm": logged and recorded in placement events.
    name: str

    def ready(self) -> bool:
        """Whether jobs can be started now (e.g. the Ray cluster is reachable); the worker claims
        nothing while it is not, so an outage does not use up the jobs' attempts."""
        ...

    def start(self, claim: Claim) -> Run:
        """Begin running ``claim``'s solve. Raises :class:`ExecutionDied` if it cannot start."""
        ...

    def shutdown(self) -> None:
        """Stop any running job and release processes and connections."""
        ...
