"""The Ray executor: each claimed job runs as one Ray task on a Ray cluster.

Selected with ``KAKEHASHI_EXECUTOR=ray`` (or ``executor = "ray"`` in the operator TOML) and a
cluster address (``KAKEHASHI_RAY_ADDRESS`` / ``ray_address``; unset: ``"auto"``, the cluster this
machine belongs to). Ray is imported here only, lazily: loading this module never needs it.

Placement: a job's *machine kind* (:func:`job_kind`) is the hardware kind of its backend
(``cpu``, ``gpu``, ``qpu-anneal``, ``qpu-gate``, ``cloud``); ``auto`` and races of several
backends are ``cpu``. The kind maps to Ray resources (:func:`task_options`), by default one unit
of the custom resource ``kakehashi-<kind>``, so a node started with
``ray start --resources='{"kakehashi-gpu": 2}'`` runs at most two GPU-kind jobs at once and no
other kind. The mapping is the operator's ``ray_resources`` table; the keys ``CPU`` and ``GPU``
in it reserve Ray's built-in resources as well.

The database stays the system of record. The worker (a dispatcher here) claims the job with its
lease, starts the task, heartbeats while it runs and writes the outcome through the same
attempt-guarded :func:`kakehashi.service.lease.finish`. Ray never retries a task itself
(``max_retries=0``): a lost node (:class:`ray.exceptions.NodeDiedError`, ``WorkerCrashedError``,
``ObjectLostError`` and kin) becomes :class:`ExecutionLost`, which re-queues the job as a lost
lease does. Cancelling a job is ``ray.cancel(task, force=True)`` (the task's process is killed).

Only strings cross into and out of Ray, never pickled user objects: the task takes the problem
as its JSON document and the options as plain values, and is a streaming generator of JSON text
messages: ``started`` (node, host, pid) when it begins to run, ``progress`` events of
:func:`kakehashi.solve`, then the answer (``result`` carrying ``Result.to_dict()``, or ``error``),
the protocol of :mod:`kakehashi.service.runner`. Every Ray node needs kakehashi (with the extras
of the backends it serves) installed: the task function is shipped by reference.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from kakehashi.service.executors.base import ExecutionDied, ExecutionLost
from kakehashi.service.lease import Claim

log = logging.getLogger("kakehashi.executors.ray")

#: The Ray namespace the dispatchers join.
NAMESPACE = "kakehashi"
#: After a failed connection attempt, wait this long before trying again (seconds).
RECONNECT_SECONDS = 5.0
#: Seconds a readiness probe of the cluster's GCS port may take, and how long its answer holds.
PROBE_TIMEOUT_SECONDS = 0.5
PROBE_CACHE_SECONDS = 1.0


def gcs_endpoint(address: str, current: str | None = None) -> tuple[str, int] | None:
    """``(host, port)`` to probe for the cluster at ``address`` (``host:port``, ``ray://host:port``,
    or ``auto``: the address Ray wrote in ``/tmp/ray/ray_current_cluster``, or ``current``);
    None when it cannot be told (then no probe is made)."""
    if address == "auto":
        if current is None:
            try:
                with open("/tmp/ray/ray_current_cluster", encoding="utf-8") as fh:
                    current = fh.read().strip()
            except OSError:
                return None
        address = current
    address = address.removeprefix("ray://")
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def reachable(endpoint: tuple[str, int] | None, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """True when a TCP connection to ``endpoint`` opens within ``timeout`` seconds (None: True)."""
    if endpoint is None:
        return True
    try:
        with socket.create_connection(endpoint, timeout=timeout):
            return True
    except OSError:
        return False


def job_kind(backend: str) -> str:
    """The machine kind a job needs: its backend's hardware kind; ``cpu`` for ``auto`` and races.

    ``backend`` is the job's stored backend field: ``auto``, a name, or names joined by commas.
    """
    from kakehashi.service.metering import hardware_of

    names = [n for n in backend.split(",") if n]
    if len(names) != 1 or names[0] == "auto":
        return "cpu"
    return hardware_of(names[0])


def default_resources(kind: str) -> dict[str, float]:
    """The default Ray resources of one job of machine ``kind``: ``{"kakehashi-<kind>": 1}``."""
    return {f"kakehashi-{kind}": 1.0}


def task_options(kind: str, resources: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """Ray task options for a job of machine ``kind`` under the operator's ``resources`` mapping.

    ``resources[kind]`` (default :func:`default_resources`) names the amounts per job; ``CPU``
    and ``GPU`` there become ``num_cpus``/``num_gpus`` (0 unless given: the custom resource is
    the slot), the rest custom resources.
    """
    wanted = {str(k): float(v) for k, v in dict(resources.get(kind) or default_resources(kind)).items()}
    return {
        "num_cpus": wanted.pop("CPU", 0.0),
        "num_gpus": wanted.pop("GPU", 0.0),
        "resources": wanted,
        "max_retries": 0,  # the database decides about another attempt, never Ray
        "retry_exceptions": False,
        "name": f"kakehashi-job-{kind}",
    }


def _json_default(obj: Any) -> Any:
    """JSON fallback for numpy scalars and arrays in results; anything else as its string."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def run_job(
    job_id: str,
    problem_json: str,
    backend: str,
    time_limit: float,
    seed: int | None,
    params_json: str,
) -> Iterator[str]:
    """The Ray task body (a streaming generator on a cluster node): JSON text messages out.

    Yields ``started`` with the placement, then ``progress`` events and finally the answer of
    :func:`kakehashi.service.runner.handle`, which calls :func:`kakehashi.solve` and never raises.
    """
    import ray

    from kakehashi.service.runner import handle

    yield json.dumps(
        {
            "type": "started",
            "job_id": job_id,
            "node_id": ray.get_runtime_context().get_node_id(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
    )
    request = {
        "job_id": job_id,
        "problem": json.loads(problem_json),
        "backend": backend,
        "time_limit": time_limit,
        "seed": seed,
        "params": json.loads(params_json),
    }
    messages: queue.Queue[dict[str, Any]] = queue.Queue()

    def work() -> None:
        answer = handle(request, lambda ev: messages.put({"type": "progress", "job_id": job_id, "data": ev}))
        messages.put(answer)

    threading.Thread(target=work, name=f"kakehashi-{job_id}", daemon=True).start()
    while True:
        message = messages.get()
        yield json.dumps(message, default=_json_default)
        if message.get("type") != "progress":
            return


def _lost_errors() -> tuple[type[BaseException], ...]:
    """Ray errors meaning the machine was lost, not that the job is bad."""
    import ray.exceptions as rex

    return (
        rex.NodeDiedError,
        rex.WorkerCrashedError,
        rex.LocalRayletDiedError,
        rex.ObjectLostError,  # OwnerDiedError, ObjectReconstructionFailed*Error
        rex.ObjectFetchTimedOutError,
    )


class RayRun:
    """One job running as a Ray streaming task."""

    def __init__(self, generator: Any, job_id: str) -> None:
        self.started = False
        self.job_id = job_id
        self._gen = generator

    def poll(self, timeout: float) -> dict[str, Any] | None:
        import ray

        ready, _ = ray.wait([self._gen], timeout=max(0.0, timeout))
        if not ready:
            return None
        try:
            text = ray.get(next(self._gen))
        except StopIteration as exc:
            raise ExecutionDied("the Ray task ended without an answer") from exc
        except _lost_errors() as exc:
            raise ExecutionLost(f"Ray {type(exc).__name__}: {_first_line(exc)}") from exc
        except ray.exceptions.TaskCancelledError as exc:
            raise ExecutionDied("the Ray task was cancelled outside kakehashi") from exc
        except ray.exceptions.RayError as exc:
            raise ExecutionDied(f"Ray {type(exc).__name__}: {_first_line(exc)}") from exc
        message = dict(json.loads(text))
        if message.get("type") == "started":
            self.started = True
        return message

    def cancel(self) -> None:
        import ray

        try:
            ray.cancel(self._gen, force=True)
        except Exception as exc:  # already finished or its node is gone: nothing left to stop
            log.debug("ray.cancel(%s): %s", self.job_id, exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else repr(exc)


class RayExecutor:
    """Runs each job as a Ray task on the cluster at ``address``.

    Args:
        address: the Ray cluster (``host:6379``, ``ray://host:10001`` or ``auto``); None is ``auto``.
        resources: machine kind → Ray resources per job (see :func:`task_options`).
    """

    name = "ray"

    def __init__(self, address: str | None, resources: Mapping[str, Mapping[str, float]]) -> None:
        self.address = address or "auto"
        self.resources = {k: dict(v) for k, v in resources.items()}
        self._owns_connection = False
        self._next_try = 0.0
        self._remote: Any = None
        self._lock = threading.Lock()
        self._probe: tuple[float, bool] = (0.0, False)  # (monotonic time, answer)
        self._unreachable_since: float | None = None

    def _gcs_up(self, connected: bool) -> bool:
        """A bounded TCP probe of the cluster's GCS (at most :data:`PROBE_TIMEOUT_SECONDS`, its
        answer cached :data:`PROBE_CACHE_SECONDS`): a worker never claims, and never blocks in
        ``ray.init``, while the cluster is down; one log line when it goes and when it returns."""
        import ray

        now = time.monotonic()
        if now - self._probe[0] < PROBE_CACHE_SECONDS:
            return self._probe[1]
        current = None
        if connected:
            with contextlib.suppress(Exception):
                current = str(ray.get_runtime_context().gcs_address)
        up = reachable(gcs_endpoint(current or self.address, current))
        self._probe = (now, up)
        if not up and self._unreachable_since is None:
            self._unreachable_since = now
            log.warning(
                "the Ray cluster at %s is unreachable; claiming nothing until it returns", self.address
            )
        elif up and self._unreachable_since is not None:
            log.warning(
                "the Ray cluster at %s is reachable again after %.1f s",
                self.address,
                now - self._unreachable_since,
            )
            self._unreachable_since = None
        return up

    def ready(self) -> bool:
        """Connect on first use (and again after losing the cluster), at most every few seconds;
        False at once (bounded probe, no blocking ``ray.init``) while the cluster is down."""
        import ray

        with self._lock:
            if ray.is_initialized():
                return self._gcs_up(connected=True)
            if time.monotonic() < self._next_try:
                return False
            if not self._gcs_up(connected=False):
                self._next_try = time.monotonic() + PROBE_CACHE_SECONDS
                return False
            try:
                ray.init(
                    address=self.address,
                    namespace=NAMESPACE,
                    log_to_driver=False,
                    configure_logging=False,
                    ignore_reinit_error=True,
                )
            except Exception as exc:  # unreachable cluster, bad address: wait and retry
                self._next_try = time.monotonic() + RECONNECT_SECONDS
                log.warning("cannot connect to the Ray cluster at %s: %s", self.address, exc)
                return False
            self._owns_connection = True
            log.info("connected to the Ray cluster at %s", self.address)
            return True

    def start(self, claim: Claim) -> RayRun:
        import ray

        if not self.ready():
            raise ExecutionLost(f"the Ray cluster at {self.address} is unreachable")
        if self._remote is None:
            self._remote = ray.remote(run_job)
        kind = job_kind(claim.backend)
        try:
            generator = self._remote.options(
                num_returns="streaming", **task_options(kind, self.resources)
            ).remote(
                claim.job_id,
                claim.problem_json,
                claim.backend,
                float(claim.time_limit),
                claim.seed,
                json.dumps(claim.params),
            )
        except ray.exceptions.RayError as exc:
            raise ExecutionLost(f"could not submit the Ray task: {exc}") from exc
        return RayRun(generator, claim.job_id)

    def shutdown(self) -> None:
        """Disconnect from the cluster if this executor connected (the cluster keeps running)."""
        import ray

        with self._lock:
            if self._owns_connection and ray.is_initialized():
                ray.shutdown()
            self._owns_connection = False
