"""The peer executor: a claimed job runs at a peer kakehashi site, over its public API.

The worker uses it for a claim the scheduler placed on a peer's machine (``Claim.peer``; see
:mod:`kakehashi.service.peers`). The job is submitted to the peer's ``POST /v1/jobs`` with the
peer token and the idempotency key :func:`idempotency_key` (``fwd-<local job id>-a<attempt>``):
a retried submission of one attempt is one job at the peer, and a new attempt (after a failover)
is a new job there. The run then follows it by long-polling ``GET /v1/jobs/{id}/result?wait=``
(the peer answers 409 with the job's state while it is not finished) and answers the runner
protocol of :mod:`kakehashi.service.runner`:

- ``progress`` ``{"event": "forwarded", "peer", "machine", "remote_job_id", "idempotency_key"}``
  at once (the worker records the forward: cancel and settlement need the peer's job id);
- ``started`` when the peer runs it (the worker's kill deadline counts from then);
- ``result`` (the peer's Result JSON, ``seconds`` = the peer's ``run_seconds``, so both ledgers
  bill the same machine-seconds) or ``error`` (failed or cancelled at the peer).

Faults: a peer that cannot be reached (refused, timeout, 5xx, an answer that is not kakehashi's)
at submission or for longer than ``grace_seconds`` while the job runs is :class:`ExecutionLost`:
the attempt is an infrastructure loss, the job goes back to the queue and the peer is down for
the scheduler until a probe reaches it, so the job waits or runs on another machine its backends
allow. A late answer of the old attempt can never be written: the worker's ``finish`` is fenced
by the attempt. A peer that refuses the job (quota 402/429, 422, 413) is :class:`ExecutionDied`:
the job fails with the peer's reason. Cancel is ``POST /v1/jobs/{id}/cancel`` at the peer.

httpx is called directly (not :class:`kakehashi.client.Client`): the worker, not a 120 s retry
loop, decides how long a peer may be away.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import httpx

from kakehashi.service.executors.base import ExecutionDied, ExecutionLost
from kakehashi.service.lease import Claim
from kakehashi.service.peers import PeerRecord

#: Longest single long-poll at the peer (seconds).
MAX_WAIT_SECONDS = 5.0
#: Seconds for a request's connection and answer beyond its long-poll.
REQUEST_TIMEOUT_SECONDS = 5.0
#: Pause between polls while the peer cannot be reached (seconds).
RETRY_SECONDS = 0.25


def idempotency_key(c: Claim) -> str:
    """The peer-side idempotency key of attempt ``c``: one peer job per local job and attempt."""
    return f"fwd-{c.job_id}-a{c.attempt}"


class PeerRefused(ExecutionDied):
    """The peer answered, and refused the job (quota, limits, bad request): the job fails."""


def _detail(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return f"HTTP {r.status_code}"
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or f"HTTP {r.status_code}")
    return f"HTTP {r.status_code}"


class PeerRun:
    """One attempt running at the peer (see the module docstring)."""

    def __init__(self, executor: PeerExecutor, claim: Claim, remote_id: str, key: str) -> None:
        self.started = False
        self.remote_id = remote_id
        self._executor = executor
        self._claim = claim
        self._key = key
        self._announced = False
        self._unreachable_since: float | None = None
        self._done = False

    def _failed(self, why: str) -> None:
        now = time.monotonic()
        if self._unreachable_since is None:
            self._unreachable_since = now
        away = now - self._unreachable_since
        if away >= self._executor.grace_seconds:
            raise ExecutionLost(f"peer {self._executor.peer.name} unreachable for {away:.1f} s: {why}")

    def poll(self, timeout: float) -> dict[str, Any] | None:
        peer = self._executor.peer
        if not self._announced:
            self._announced = True
            return {
                "type": "progress",
                "data": {
                    "event": "forwarded",
                    "peer": peer.name,
                    "machine": self._executor.machine,
                    "remote_job_id": self.remote_id,
                    "idempotency_key": self._key,
                },
            }
        t0 = time.monotonic()
        wait = max(0.0, min(timeout, MAX_WAIT_SECONDS))
        try:
            r = self._executor.http.get(
                f"/v1/jobs/{self.remote_id}/result",
                params={"wait": round(wait, 3)},
                timeout=wait + REQUEST_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as exc:
            self._failed(f"{type(exc).__name__}: {exc}")
            time.sleep(max(0.0, min(RETRY_SECONDS, timeout - (time.monotonic() - t0))))
            return None
        if r.status_code == 200:
            try:
                result = r.json()
            except ValueError:
                self._failed("the result is not JSON")
                return None
            self._unreachable_since = None
            self._done = True
            return {"type": "result", "result": result, "seconds": self._remote_seconds(), "peer": peer.name}
        body: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            parsed = r.json()
            body = parsed if isinstance(parsed, dict) else {}
        if r.status_code == 409 and body.get("job_status"):
            self._unreachable_since = None
            status = str(body["job_status"])
            if status in ("FAILED", "CANCELLED"):
                self._done = True
                return {
                    "type": "error",
                    "kind": "PeerJob" + status.title(),
                    "error": f"at peer {peer.name} ({self.remote_id}): {body.get('job_error') or status.lower()}",
                    "seconds": self._remote_seconds(),
                }
            if status == "RUNNING" and not self.started:
                self.started = True
                return {"type": "started", "peer": peer.name, "remote_job_id": self.remote_id}
            return None
        self._failed(f"GET result answered {r.status_code}: {_detail(r)}")
        time.sleep(max(0.0, min(RETRY_SECONDS, timeout - (time.monotonic() - t0))))
        return None

    def _remote_seconds(self) -> float:
        """The peer's ``run_seconds`` of the job (what its ledger billed; 0 when unknown)."""
        with contextlib.suppress(httpx.HTTPError, ValueError, TypeError):
            r = self._executor.http.get(f"/v1/jobs/{self.remote_id}", timeout=REQUEST_TIMEOUT_SECONDS)
            if r.status_code == 200:
                return float(r.json().get("run_seconds") or 0.0)
        return 0.0

    def cancel(self) -> None:
        """Ask the peer to cancel the job (best effort: two tries, short timeouts)."""
        if self._done:
            return
        for _ in range(2):
            try:
                r = self._executor.http.post(f"/v1/jobs/{self.remote_id}/cancel", timeout=REQUEST_TIMEOUT_SECONDS)
            except httpx.HTTPError:
                continue
            if r.status_code < 500:
                return


class PeerExecutor:
    """Runs claims at one peer site, on the local machine ``machine`` that stands for its offer."""

    name = "peer"

    def __init__(self, peer: PeerRecord, token: str, machine: str, *, grace_seconds: float = 30.0) -> None:
        self.peer = peer
        self.machine = machine
        self.grace_seconds = grace_seconds
        self.http = httpx.Client(
            base_url=peer.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )

    def ready(self) -> bool:
        return True

    def start(self, claim: Claim) -> PeerRun:
        """Submit ``claim`` to the peer (retried while it is away, up to the grace period)."""
        key = idempotency_key(claim)
        body = {
            "problem": json.loads(claim.problem_json),
            "backend": claim.backend,
            "time_limit": claim.time_limit,
            "params": claim.params,
        }
        if claim.seed is not None:
            body["seed"] = claim.seed
        deadline = time.monotonic() + min(self.grace_seconds, 10.0)
        why = ""
        while True:
            try:
                r = self.http.post("/v1/jobs", json=body, headers={"Idempotency-Key": key})
            except httpx.HTTPError as exc:
                why = f"{type(exc).__name__}: {exc}"
            else:
                if r.status_code in (200, 201):
                    try:
                        remote_id = str(r.json()["id"])
                    except (ValueError, KeyError, TypeError):
                        why = "POST /v1/jobs did not answer a job"
                    else:
                        return PeerRun(self, claim, remote_id, key)
                elif r.status_code in (400, 402, 409, 413, 422, 429):
                    raise PeerRefused(f"peer {self.peer.name} refused the job: {_detail(r)}")
                else:  # 401/403 (token), 404 (not kakehashi), 5xx: the peer is not usable now
                    why = f"POST /v1/jobs answered {r.status_code}: {_detail(r)}"
            if time.monotonic() >= deadline:
                raise ExecutionLost(f"peer {self.peer.name} unreachable: {why}")
            time.sleep(RETRY_SECONDS)

    def shutdown(self) -> None:
        self.http.close()
