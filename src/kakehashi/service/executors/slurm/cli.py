"""The Slurm controller through its command-line tools: ``sbatch``, ``squeue``, ``scancel``, ``scontrol``.

Job records come from ``squeue --json`` (the OpenAPI ``v0.0.38`` job objects, epoch seconds,
exit codes): in Slurm 22.05 it ignores ``--jobs``/``--name`` filters and prints every job the
controller holds, so the filtering is done here. That is one ``squeue`` per poll per running
job: fine for a testbed's share of a centre, and the reason a large deployment should use
slurmrestd (:mod:`.rest`), whose ``GET /job/{id}`` reads one job.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from kakehashi.service.executors.slurm.batch import BatchRequest
from kakehashi.service.executors.slurm.control import ControllerError, SubmitRejected
from kakehashi.service.executors.slurm.states import ClusterState, SlurmJob, cluster_state

#: Phrases of the Slurm tools meaning "the controller is out", not "your request is wrong".
_OUTAGE = (
    "unable to contact slurm controller",
    "socket timed out",
    "connection refused",
    "communication connection failure",
    "slurm_receive_msg",
    "zero bytes were transmitted",
    "unable to establish",
)


def _outage(text: str) -> bool:
    low = text.lower()
    return any(p in low for p in _OUTAGE)


class CliController:
    """Slurm through its tools (in ``bin_dir``, else on PATH), each call bounded by ``timeout`` seconds."""

    kind = "cli"

    def __init__(self, bin_dir: str | None = None, timeout: float = 15.0) -> None:
        self.bin_dir = bin_dir
        self.timeout = timeout

    def _tool(self, name: str) -> str:
        return os.path.join(self.bin_dir, name) if self.bin_dir else name

    def _run(self, argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self._tool(argv[0]), *argv[1:]],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ControllerError(f"{argv[0]} did not answer within {self.timeout:g} s") from exc
        except OSError as exc:
            raise ControllerError(f"cannot run {argv[0]}: {exc}") from exc

    def submit(self, request: BatchRequest) -> int:
        done = self._run(["sbatch", "--parsable"], stdin=request.script())
        if done.returncode != 0:
            message = (done.stderr or done.stdout).strip() or f"sbatch exited with {done.returncode}"
            if _outage(message):
                raise ControllerError(message)
            raise SubmitRejected(message)
        try:
            return int(done.stdout.strip().split(";")[0])
        except ValueError as exc:
            raise ControllerError(f"sbatch printed no job id: {done.stdout!r}") from exc

    def _all(self) -> list[dict[str, Any]]:
        done = self._run(["squeue", "--json", "--states=all"])
        if done.returncode != 0:
            raise ControllerError((done.stderr or done.stdout).strip() or "squeue failed")
        try:
            return list(json.loads(done.stdout).get("jobs") or [])
        except json.JSONDecodeError as exc:
            raise ControllerError(f"squeue --json printed no JSON: {exc}") from exc

    def job(self, job_id: int) -> SlurmJob | None:
        for raw in self._all():
            if int(raw.get("job_id") or 0) == job_id:
                return SlurmJob.from_api(raw)
        return None

    def find(self, name: str) -> list[SlurmJob]:
        found = [SlurmJob.from_api(raw) for raw in self._all() if raw.get("name") == name]
        return sorted(found, key=lambda j: j.job_id)

    def cancel(self, job_id: int) -> None:
        done = self._run(["scancel", str(job_id)])
        message = (done.stderr or done.stdout).strip()
        if done.returncode != 0 and _outage(message):
            raise ControllerError(message)

    def ping(self) -> bool:
        try:
            done = self._run(["scontrol", "ping"])
        except ControllerError:
            return False
        return done.returncode == 0 and " is UP" in done.stdout

    def cluster(self, partition: str | None) -> ClusterState:
        argv = ["sinfo", "--noheader", "--Node", "--format=%N %T"]
        if partition:
            argv.append(f"--partition={partition}")
        done = self._run(argv)
        if done.returncode != 0:
            raise ControllerError((done.stderr or done.stdout).strip() or "sinfo failed")
        states = {}
        for line in done.stdout.splitlines():  # a node in two partitions is listed twice
            name, _, state = line.strip().partition(" ")
            if name:
                states[name] = state
        jobs = [SlurmJob.from_api(raw) for raw in self._all()]
        return cluster_state(partition or "", list(states.values()), jobs)
