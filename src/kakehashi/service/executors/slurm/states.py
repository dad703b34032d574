"""Slurm's record of one batch job, and what each Slurm job state means to kakehashi.

The record is read from the job objects of Slurm's OpenAPI ``v0.0.38`` data parser, which both
``squeue --json`` and slurmrestd's ``GET /slurm/v0.0.38/job/{id}`` return (Slurm 22.05), so the
CLI and REST paths share one parser. Times are UNIX seconds (Slurm's whole seconds).

The states (``JOB_STATE_*`` of Slurm's ``slurm.h``) fall into five groups (:func:`phase`):

============  =========================================================  =====================
phase         Slurm states                                               kakehashi
============  =========================================================  =====================
``waiting``   PENDING, REQUEUED (pending again), SUSPENDED, RESV_DEL_HOLD  QUEUED (with reason)
``running``   CONFIGURING, RUNNING, COMPLETING, STAGE_OUT, SIGNALING       RUNNING
``done``      COMPLETED                                                   the runner's answer
``died``      FAILED, OUT_OF_MEMORY, CANCELLED (outside kakehashi),       ``ExecutionDied``
              DEADLINE                                                     (a job fault)
``lost``      NODE_FAIL, PREEMPTED, BOOT_FAIL, REVOKED, REQUEUE_FED,      ``ExecutionLost``
              REQUEUE_HOLD, SPECIAL_EXIT                                   (re-queued)
``timeout``   TIMEOUT                                                     the answer, else TIMEOUT
============  =========================================================  =====================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Phase = Literal["waiting", "running", "done", "died", "lost", "timeout"]

_PHASES: dict[str, Phase] = {
    "PENDING": "waiting",
    "REQUEUED": "waiting",
    "SUSPENDED": "waiting",
    "RESV_DEL_HOLD": "waiting",
    "CONFIGURING": "running",
    "RUNNING": "running",
    "COMPLETING": "running",
    "STAGE_OUT": "running",
    "SIGNALING": "running",
    "RESIZING": "running",
    "COMPLETED": "done",
    "FAILED": "died",
    "OUT_OF_MEMORY": "died",
    "CANCELLED": "died",
    "DEADLINE": "died",
    "TIMEOUT": "timeout",
    "NODE_FAIL": "lost",
    "PREEMPTED": "lost",
    "BOOT_FAIL": "lost",
    "REVOKED": "lost",
    "REQUEUE_FED": "lost",
    "REQUEUE_HOLD": "lost",
    "SPECIAL_EXIT": "lost",
}


def phase(state: str) -> Phase:
    """The group of Slurm job ``state`` (an unknown state counts as ``lost``: never a hang)."""
    return _PHASES.get(state.split()[0].upper() if state else "", "lost")


def _int(value: Any) -> int:
    """Slurm's numbers come as ints, or in later plugins as ``{"set": .., "number": ..}``."""
    if isinstance(value, dict):
        return int(value.get("number") or 0) if value.get("set", True) else 0
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _tres(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class SlurmJob:
    """One batch job as Slurm's controller records it.

    Attributes:
        job_id: Slurm's job id.
        name: ``--job-name`` (``kakehashi-<job id>``).
        state: the job state (``PENDING``, ``RUNNING``, ``COMPLETED``...).
        reason: the state reason (``Resources``, ``Priority``, ``NonZeroExitCode``...; ``None``).
        submit_time, start_time, end_time: UNIX seconds (0 when not yet).
        exit_code: the batch script's exit status (``-1``: unknown).
        nodes: the node list (empty while pending).
        partition: the partition the job runs in.
        tres_alloc: the allocated trackable resources (``cpu=1,mem=1000M,node=1,gres/qpu=1``).
        cpus: allocated CPUs.
        tres_per_node: the GRES asked per node (``gres:qpu:1``): where a GRES that is not an
            accounted TRES (no slurmdbd) shows.
    """

    job_id: int
    name: str
    state: str
    reason: str
    submit_time: int
    start_time: int
    end_time: int
    exit_code: int
    nodes: str
    partition: str
    tres_alloc: str
    cpus: int
    tres_per_node: str = ""

    @classmethod
    def from_api(cls, job: dict[str, Any]) -> SlurmJob:
        """Read one element of the ``jobs`` list of ``squeue --json`` or slurmrestd."""
        exit_code = job.get("exit_code", -1)
        if isinstance(exit_code, dict):  # later plugins: {"status": .., "return_code": ..}
            exit_code = exit_code.get("return_code", -1)
        state = job.get("job_state", "")
        if isinstance(state, list):
            state = state[0] if state else ""
        return cls(
            job_id=_int(job.get("job_id")),
            name=str(job.get("name") or ""),
            state=str(state),
            reason=str(job.get("state_reason") or "None"),
            submit_time=_int(job.get("submit_time")),
            start_time=_int(job.get("start_time")),
            end_time=_int(job.get("end_time")),
            exit_code=_int(exit_code) if exit_code not in (None, "") else -1,
            nodes=str(job.get("nodes") or ""),
            partition=str(job.get("partition") or ""),
            tres_alloc=str(job.get("tres_alloc_str") or ""),
            cpus=_int(job.get("cpus")),
            tres_per_node=str(job.get("tres_per_node") or ""),
        )

    @property
    def phase(self) -> Phase:
        return phase(self.state)

    @property
    def ended(self) -> bool:
        """True once the job left the controller's waiting and running states."""
        return self.phase not in ("waiting", "running")

    def elapsed(self, now: float) -> float:
        """Slurm's elapsed time of the job (seconds): ``end - start``, or ``now - start`` while it
        runs; 0 before it starts. Pending time is never in it."""
        if self.start_time <= 0 or self.phase == "waiting":
            return 0.0
        end = self.end_time if self.ended and self.end_time >= self.start_time else now
        return max(0.0, float(end) - float(self.start_time))

    def allocated(self) -> dict[str, float]:
        """Allocated units from the TRES string: ``cpu``, ``gres/gpu``, ``gres/<name>``... (mem
        and node are left out); ``cpu`` falls back to :attr:`cpus`, a GRES to
        :attr:`tres_per_node` × nodes once the job has nodes."""
        units: dict[str, float] = {}
        for key, value in _tres(self.tres_alloc).items():
            if key in ("mem", "node", "billing", "energy"):
                continue
            try:
                units[key] = float(value)
            except ValueError:
                continue
        if "cpu" not in units and self.cpus:
            units["cpu"] = float(self.cpus)
        nodes = max(1, len(self.nodes.split(","))) if self.nodes else 1
        for part in self.tres_per_node.split(","):  # gres:qpu:1 / gres:gpu:a100:2 (per node)
            bits = part.split(":")
            if len(bits) >= 3 and bits[0] == "gres" and bits[-1].isdigit():
                units.setdefault(f"gres/{bits[1]}", float(bits[-1]) * nodes)
        return units


#: Node states as ``sinfo``/slurmrestd name them, grouped for the pool view.
_NODE_GROUPS = {
    "IDLE": "idle",
    "ALLOCATED": "allocated",
    "ALLOC": "allocated",
    "MIXED": "mixed",
    "COMPLETING": "allocated",
    "DOWN": "down",
    "DRAIN": "down",
    "DRAINED": "down",
    "DRAINING": "down",
    "FAIL": "down",
    "FAILING": "down",
    "FUTURE": "down",
    "UNKNOWN": "down",
    "MAINT": "down",
    "RESERVED": "allocated",
    "PLANNED": "allocated",
}


def node_group(state: str) -> str:
    """``idle``, ``allocated``, ``mixed`` or ``down`` for a node state (``IDLE+DRAIN``, ``down*``...)."""
    words = [w.strip("*~#!%$@^-").upper() for w in state.replace("+", " ").split()]
    groups = [_NODE_GROUPS.get(w, "down") for w in words if w]
    if "down" in groups or not groups:
        return "down"
    return groups[0]


@dataclass(frozen=True)
class ClusterState:
    """A partition's live state for ``kakehashi pool``.

    Attributes:
        partition: the partition (empty: every partition).
        nodes: node count per group (``idle``, ``allocated``, ``mixed``, ``down``).
        pending, running: the partition's batch jobs waiting and running (everyone's).
        kakehashi_pending, kakehashi_running: those of them kakehashi submitted.
    """

    partition: str
    nodes: dict[str, int]
    pending: int
    running: int
    kakehashi_pending: int
    kakehashi_running: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "nodes": dict(self.nodes),
            "pending": self.pending,
            "running": self.running,
            "kakehashi_pending": self.kakehashi_pending,
            "kakehashi_running": self.kakehashi_running,
        }


def cluster_state(partition: str, node_states: list[str], jobs: list[SlurmJob]) -> ClusterState:
    """Count nodes by group and the partition's waiting and running batch jobs."""
    nodes = {"idle": 0, "allocated": 0, "mixed": 0, "down": 0}
    for state in node_states:
        nodes[node_group(state)] += 1
    mine = [j for j in jobs if not partition or j.partition == partition]
    ours = [j for j in mine if j.name.startswith("kakehashi-")]
    return ClusterState(
        partition=partition,
        nodes=nodes,
        pending=sum(1 for j in mine if j.phase == "waiting"),
        running=sum(1 for j in mine if j.phase == "running"),
        kakehashi_pending=sum(1 for j in ours if j.phase == "waiting"),
        kakehashi_running=sum(1 for j in ours if j.phase == "running"),
    )
