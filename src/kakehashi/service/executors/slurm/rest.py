"""The Slurm controller through slurmrestd (OpenAPI ``v0.0.38``, JWT authentication).

Every request carries ``X-SLURM-USER-NAME`` and ``X-SLURM-USER-TOKEN``. The token is the
configured one, else ``SLURM_JWT`` from the environment, else one this process asks for with
``scontrol token lifespan=3600`` (renewed after half its life, and once more when slurmrestd
refuses it). HTTP goes through httpx (the project's HTTP client) with a timeout on every call.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import time
from typing import Any

import httpx

from kakehashi.service.executors.slurm.batch import BatchRequest
from kakehashi.service.executors.slurm.control import ControllerError, SubmitRejected
from kakehashi.service.executors.slurm.states import ClusterState, SlurmJob, cluster_state

#: Lifespan of a token this process asks ``scontrol token`` for (seconds).
TOKEN_LIFESPAN = 3600
#: Slurm's error number for "Invalid job id specified" (``ESLURM_INVALID_JOB_ID``).
INVALID_JOB_ID = 2017


class RestController:
    """slurmrestd at ``url`` (e.g. ``http://127.0.0.1:6820``), as ``user`` with a JWT."""

    kind = "rest"

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        token: str | None = None,
        api: str = "v0.0.38",
        timeout: float = 15.0,
        bin_dir: str | None = None,
    ) -> None:
        self.base = f"{url.rstrip('/')}/slurm/{api}"
        self.user = user or getpass.getuser()
        self._fixed_token = token or os.environ.get("SLURM_JWT") or None
        self._token: tuple[str, float] | None = None  # (token, when to renew: monotonic)
        self.timeout = timeout
        self.bin_dir = bin_dir
        self._http = httpx.Client(timeout=timeout)

    # ------------------------------------------------------------------ tokens
    def _new_token(self) -> str:
        scontrol = os.path.join(self.bin_dir, "scontrol") if self.bin_dir else "scontrol"
        try:
            done = subprocess.run(
                [scontrol, "token", f"lifespan={TOKEN_LIFESPAN}"],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ControllerError(f"cannot get a Slurm JWT with scontrol token: {exc}") from exc
        text = done.stdout.strip()
        if done.returncode != 0 or not text.startswith("SLURM_JWT="):
            raise ControllerError(f"scontrol token failed: {(done.stderr or text).strip()}")
        return text.removeprefix("SLURM_JWT=")

    def _headers(self, renew: bool = False) -> dict[str, str]:
        if self._fixed_token:
            token = self._fixed_token
        else:
            if renew or self._token is None or time.monotonic() > self._token[1]:
                self._token = (self._new_token(), time.monotonic() + TOKEN_LIFESPAN / 2)
            token = self._token[0]
        return {"X-SLURM-USER-NAME": self.user, "X-SLURM-USER-TOKEN": token}

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One request; the decoded body (``errors`` included). A refused token is renewed once."""
        for renew in (False, True):
            try:
                reply = self._http.request(method, self.base + path, json=body, headers=self._headers(renew))
            except httpx.HTTPError as exc:
                raise ControllerError(f"slurmrestd at {self.base}: {exc}") from exc
            try:
                data = dict(reply.json())
            except ValueError:
                data = {"errors": [{"error": reply.text.strip()[:300], "error_number": -1}]}
            refused = reply.status_code in (401, 403) or (
                reply.status_code >= 500 and _numbers(data) == [-1] and not self._fixed_token
            )
            if refused and not renew and not self._fixed_token:
                continue
            if reply.status_code in (401, 403):
                raise ControllerError(f"slurmrestd refused the JWT of {self.user!r} ({reply.status_code})")
            if reply.status_code >= 500 and not data.get("errors"):
                raise ControllerError(f"slurmrestd answered {reply.status_code}")
            return data
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ calls
    def submit(self, request: BatchRequest) -> int:
        data = self._call("POST", "/job/submit", {"script": request.rest_script(), "job": request.rest_job()})
        if data.get("errors") or not data.get("job_id"):
            raise SubmitRejected(_describe(data) or "slurmrestd returned no job id")
        return int(data["job_id"])

    def job(self, job_id: int) -> SlurmJob | None:
        data = self._call("GET", f"/job/{job_id}")
        jobs = data.get("jobs") or []
        if jobs:
            return SlurmJob.from_api(jobs[0])
        if INVALID_JOB_ID in _numbers(data) or not data.get("errors"):
            return None
        raise ControllerError(_describe(data))

    def find(self, name: str) -> list[SlurmJob]:
        data = self._call("GET", "/jobs")
        if data.get("errors"):
            raise ControllerError(_describe(data))
        found = [SlurmJob.from_api(raw) for raw in data.get("jobs") or [] if raw.get("name") == name]
        return sorted(found, key=lambda j: j.job_id)

    def cancel(self, job_id: int) -> None:
        data = self._call("DELETE", f"/job/{job_id}")
        numbers = _numbers(data)
        if numbers and not set(numbers) <= {0, INVALID_JOB_ID, 2021}:  # 2021: already completed
            raise ControllerError(_describe(data))

    def ping(self) -> bool:
        try:
            data = self._call("GET", "/ping")
        except ControllerError:
            return False
        pings = data.get("pings") or []
        return bool(pings) and all(str(p.get("ping", "")).upper() == "UP" for p in pings)

    def cluster(self, partition: str | None) -> ClusterState:
        nodes = self._call("GET", "/nodes")
        jobs = self._call("GET", "/jobs")
        for data in (nodes, jobs):
            if data.get("errors"):
                raise ControllerError(_describe(data))
        states = [
            str(n.get("state", "")) + ("+DRAIN" if "DRAIN" in str(n.get("state_flags", "")).upper() else "")
            for n in nodes.get("nodes") or []
            if not partition or partition in (n.get("partitions") or [])
        ]
        return cluster_state(partition or "", states, [SlurmJob.from_api(j) for j in jobs.get("jobs") or []])

    def close(self) -> None:
        self._http.close()


def _numbers(data: dict[str, Any]) -> list[int]:
    return [int(e.get("error_number") or 0) for e in data.get("errors") or []]


def _describe(data: dict[str, Any]) -> str:
    return "; ".join(
        f"{e.get('error', '')}: {e.get('description', '')}".strip(": ") for e in data.get("errors") or []
    )
