"""The Slurm executor: each claimed job runs as one batch job in an HPC centre's Slurm.

Selected with ``executor = "slurm"`` and a ``[slurm]`` table (:mod:`.settings`). The worker
stays the dispatcher and the database the system of record; Slurm owns the nodes, the queue,
its fair share and its accounting. For each claim the executor

1. looks for a batch job of the same kakehashi job that Slurm still knows (``--job-name`` is
   ``kakehashi-<job id>``): a worker that restarted (or lost its lease) while its batch job was
   pending, running or just finished **re-attaches** to it instead of submitting twice;
2. otherwise writes the request (the problem's JSON document and the options) to
   ``<workdir>/<job id>/a<attempt>.request.json`` and submits a batch script that runs
   ``python -m kakehashi.service.runner --request … --messages …`` (:mod:`.batch`); Slurm's job
   id is written next to the request (``a<attempt>.slurm-job-id``) and sent with ``started``;
3. follows the batch job: a watcher thread reads Slurm's record every ``poll_seconds``
   (never blocking the worker's heartbeats), and :meth:`SlurmRun.poll` reads the runner's
   messages from the shared file and turns Slurm's states into the executor protocol:

   - PENDING → ``{"type": "waiting", "reason": "Slurm PENDING (Resources)"}`` once per reason:
     the job shows as QUEUED with that reason, and the wait is queue time, not machine time;
   - RUNNING → ``{"type": "started", "at": <Slurm start time>, ...}``: the worker's clock starts;
   - the runner's ``progress`` and answer; the answer's ``seconds`` become Slurm's record,
     elapsed × allocated units (:func:`machine_seconds`), and the result's queue timing the
     pending time;
   - FAILED / OUT_OF_MEMORY / DEADLINE / CANCELLED outside kakehashi → :class:`ExecutionDied`
     with Slurm's reason and the tail of the job's output (a job fault);
   - NODE_FAIL / PREEMPTED / BOOT_FAIL (and the other lost states of :mod:`.states`), a batch
     job the controller no longer knows, or a controller unreachable for
     ``controller_timeout_seconds`` → :class:`ExecutionLost` (re-queued, attempts fenced);
   - TIMEOUT → the answer if the runner wrote one, else a ``SlurmTimeout`` error (billed).

Cancelling is ``scancel``. Accounting: this reads ``squeue --json`` / slurmrestd job records,
not ``sacct``, so it works where ``AccountingStorageType=accounting_storage/none``; the elapsed
time is Slurm's own (``end_time - start_time``, whole seconds).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kakehashi.service.executors.base import ExecutionDied, ExecutionLost
from kakehashi.service.executors.slurm.batch import (
    BatchRequest,
    job_name,
    messages_path,
    output_path,
    runner_command,
)
from kakehashi.service.executors.slurm.cli import CliController
from kakehashi.service.executors.slurm.control import Controller, ControllerError, SubmitRejected
from kakehashi.service.executors.slurm.settings import LegResources, SlurmSettings
from kakehashi.service.executors.slurm.states import SlurmJob
from kakehashi.service.lease import Claim

log = logging.getLogger("kakehashi.executors.slurm")

#: How long a readiness answer (controller ping) holds (seconds).
READY_CACHE_SECONDS = 2.0
#: Lines of the batch job's output quoted in an error.
OUTPUT_TAIL_LINES = 5


def make_controller(settings: SlurmSettings) -> Controller:
    """slurmrestd when ``rest_url`` is set, else the command-line tools."""
    if settings.rest_url:
        from kakehashi.service.executors.slurm.rest import RestController

        return RestController(
            settings.rest_url,
            user=settings.rest_user,
            token=settings.rest_token,
            api=settings.rest_api,
            timeout=settings.command_timeout_seconds,
            bin_dir=settings.bin_dir,
        )
    return CliController(settings.bin_dir, settings.command_timeout_seconds)


def cluster_view(settings: SlurmSettings) -> dict[str, Any]:
    """The configured partition's live state for ``kakehashi pool`` (:class:`~.states.ClusterState`
    as a dict), or ``{"partition": ..., "error": ...}`` when the controller does not answer."""
    controller = make_controller(settings)
    try:
        return controller.cluster(settings.partition).to_dict()
    except ControllerError as exc:
        return {"partition": settings.partition or "", "error": str(exc)}
    finally:
        close = getattr(controller, "close", None)
        if callable(close):
            close()


def job_kind(backend: str) -> str:
    """The hardware kind of a job's backend (as the Ray executor places it; ``cpu`` for races)."""
    from kakehashi.service.executors.ray import job_kind as kind_of

    return kind_of(backend)


def machine_seconds(record: SlurmJob, kind: str, leg: LegResources, now: float) -> float:
    """Machine-seconds of a batch job from Slurm's record: elapsed × the allocated units of the
    kind's own resource (``cpu`` CPUs; ``gpu`` ``gres/gpu``; a ``qpu-*`` kind its GRES), seconds."""
    units = record.allocated()
    if kind == "gpu" and leg.gpus:
        count = units.get("gres/gpu", float(leg.gpus))
    elif kind.startswith("qpu") and leg.gres:
        names = [part.split(":")[0] for part in leg.gres.split(",")]
        count = sum(units.get(f"gres/{n}", 0.0) for n in names) or float(leg.billed_units(kind))
    else:
        count = units.get("cpu", float(leg.cpus))
    return record.elapsed(now) * count


@dataclass
class _Snapshot:
    """What the watcher last learned from the controller."""

    record: SlurmJob | None = None
    known: bool = True  # False once a successful read no longer found the job
    error: str | None = None
    error_since: float | None = None  # monotonic time the controller went unreachable
    reads: int = 0


class SlurmRun:
    """One kakehashi job followed as one Slurm batch job (see the module docstring)."""

    def __init__(
        self,
        executor: SlurmExecutor,
        claim: Claim,
        slurm_job_id: int,
        job_dir: str,
        kind: str,
        leg: LegResources,
        *,
        adopted: bool = False,
    ) -> None:
        self.started = False
        self.slurm_job_id = slurm_job_id
        self.adopted = adopted
        self.job_dir = job_dir
        self._executor = executor
        self._settings = executor.settings
        self._claim = claim
        self._kind = kind
        self._leg = leg
        self._messages_path = messages_path(job_dir, slurm_job_id)
        self._offset = 0
        self._partial = ""
        self._lines: deque[dict[str, Any]] = deque()
        self._reason: str | None = None
        self._held: dict[str, Any] | None = None  # the answer, waiting for Slurm's end record
        self._held_until = 0.0
        self._cancelled = False
        self._ended_seen: float | None = None  # when the end record was first seen without an answer
        self._snap = _Snapshot()
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name=f"slurm-{slurm_job_id}", daemon=True)
        self._watcher.start()

    # ------------------------------------------------------------------ watcher
    def _watch(self) -> None:
        """Read Slurm's record every ``poll_seconds`` until the run is closed, or there is
        nothing more to learn: the job ended (read twice), vanished, or the controller stayed
        out past ``controller_timeout_seconds`` (then :meth:`poll` gives the attempt up)."""
        controller = self._executor.controller
        ended_reads = 0
        while not self._stop.is_set():
            try:
                record = controller.job(self.slurm_job_id)
            except ControllerError as exc:
                with self._lock:
                    self._snap.error = str(exc)
                    if self._snap.error_since is None:
                        self._snap.error_since = time.monotonic()
                        log.warning(
                            "Slurm controller unreachable: %s", exc, extra={"job_id": self._claim.job_id}
                        )
                    down = time.monotonic() - self._snap.error_since
                self._changed.set()
                if down > self._settings.controller_timeout_seconds:
                    return
            else:
                with self._lock:
                    if self._snap.error_since is not None:
                        log.warning("Slurm controller answers again", extra={"job_id": self._claim.job_id})
                    self._snap = _Snapshot(record, record is not None, None, None, self._snap.reads + 1)
                self._changed.set()
                if record is None:
                    return
                if record.ended:
                    ended_reads += 1
                    if ended_reads >= 2:  # the end record is final (end_time, exit code)
                        return
            self._stop.wait(self._settings.poll_seconds)

    def _snapshot(self) -> _Snapshot:
        with self._lock:
            return _Snapshot(**vars(self._snap))

    # ------------------------------------------------------------------ messages
    def _read_lines(self) -> None:
        """Append the runner's complete new lines (the file is opened per read: NFS close-to-open)."""
        try:
            with open(self._messages_path, encoding="utf-8", errors="replace") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
                self._offset = fh.tell()
        except FileNotFoundError:
            return
        text = self._partial + chunk
        *complete, self._partial = text.split("\n")
        for line in complete:
            if line.strip():
                try:
                    self._lines.append(dict(json.loads(line)))
                except (json.JSONDecodeError, TypeError, ValueError):
                    log.warning(
                        "unreadable runner message %r", line[:200], extra={"job_id": self._claim.job_id}
                    )

    def _started(self, record: SlurmJob | None) -> dict[str, Any]:
        self.started = True
        message: dict[str, Any] = {
            "type": "started",
            "job_id": self._claim.job_id,
            "slurm_job_id": self.slurm_job_id,
            "controller": self._executor.controller.kind,
        }
        if self.adopted:
            message["adopted"] = True
        if record is not None and record.start_time > 0:
            message.update(
                at=float(record.start_time),
                host=record.nodes,
                partition=record.partition,
                pending_seconds=max(0, record.start_time - record.submit_time),
            )
        return message

    # ------------------------------------------------------------------ poll
    def poll(self, timeout: float) -> dict[str, Any] | None:
        end = time.monotonic() + max(0.0, timeout)
        while True:
            answer = self._step()
            if answer is not None:
                return answer
            now = time.monotonic()
            if now >= end:
                return None
            self._changed.wait(min(end - now, self._settings.poll_seconds / 2))
            self._changed.clear()

    def _step(self) -> dict[str, Any] | None:
        """One look at the messages and at Slurm's record; a message to hand on, or None."""
        snap = self._snapshot()
        record = snap.record
        if self._held is not None:
            if (record is not None and record.ended) or time.monotonic() >= self._held_until:
                return self._finish(self._held, record)
            return None
        if not self.started and record is not None and record.phase != "waiting" and record.start_time > 0:
            return self._started(record)
        self._read_lines()
        while self.started and self._lines:  # the runner's lines wait for Slurm's start record
            message = self._lines.popleft()
            kind = message.get("type")
            if kind == "running":
                continue
            if kind == "progress":
                return message
            if kind in ("result", "error"):
                self._held = message
                self._held_until = time.monotonic() + self._settings.settle_seconds
                return self._step()
        if snap.error_since is not None:
            down = time.monotonic() - snap.error_since
            if down > self._settings.controller_timeout_seconds:
                self._stop.set()
                raise ExecutionLost(
                    f"the Slurm controller was unreachable for {down:.0f} s while batch job "
                    f"{self.slurm_job_id} ran ({snap.error})"
                )
            return None
        if not snap.known:
            self._read_lines()
            if self._lines:  # the runner did run: hand its lines on (the answer, if written)
                return None if self.started else self._started(None)
            self._stop.set()
            raise ExecutionLost(
                f"Slurm batch job {self.slurm_job_id} vanished from the controller "
                "(restarted without its state?)"
            )
        if record is None:
            return None
        phase = record.phase
        if phase == "waiting":
            if self.started and record.state != "PENDING":  # REQUEUED, SUSPENDED: not ours anymore
                self._stop.set()
                raise ExecutionLost(f"Slurm batch job {self.slurm_job_id} went back to {record.state}")
            if record.reason != self._reason:
                self._reason = record.reason
                return {
                    "type": "waiting",
                    "job_id": self._claim.job_id,
                    "slurm_job_id": self.slurm_job_id,
                    "state": record.state,
                    "reason": f"Slurm {record.state}"
                    + ("" if record.reason in ("", "None") else f" ({record.reason})"),
                }
            return None
        if phase == "running":
            return None
        # the batch job ended: the runner's last lines may have landed just before
        if not self.started:  # it ended between two reads (or never ran: start_time 0)
            return self._started(record)
        self._read_lines()
        if self._lines:
            return None
        if self._ended_seen is None:  # a shared filesystem may show the last lines a moment late
            self._ended_seen = time.monotonic()
        if time.monotonic() - self._ended_seen < self._settings.answer_grace_seconds:
            return None
        return self._ended(record)

    def _ended(self, record: SlurmJob) -> dict[str, Any]:
        """A batch job that ended without an answer line."""
        self._stop.set()
        where = f"Slurm batch job {self.slurm_job_id} {record.state}"
        if record.nodes:
            where += f" on {record.nodes}"
        phase = record.phase
        if phase == "lost":
            raise ExecutionLost(f"{where} (reason {record.reason})")
        if phase == "timeout":
            return {
                "type": "error",
                "job_id": self._claim.job_id,
                "kind": "SlurmTimeout",
                "error": f"{where}: the job's --time ran out before the solver answered",
                "seconds": machine_seconds(record, self._kind, self._leg, time.time()),
                "slurm": self._accounting(record),
            }
        if phase == "died" and record.state.startswith("CANCELLED") and not self._cancelled:
            raise ExecutionDied(
                f"{where}: cancelled outside kakehashi (scancel by the centre or an operator)"
            )
        exit_code = "" if record.exit_code < 0 else f"exit code {record.exit_code}, "
        raise ExecutionDied(f"{where} ({exit_code}reason {record.reason}) without an answer{self._tail()}")

    def _tail(self) -> str:
        path = output_path(self.job_dir, self.slurm_job_id)
        try:
            lines = Path(path).read_text(errors="replace").strip().splitlines()[-OUTPUT_TAIL_LINES:]
        except OSError:
            return f"; no output file {path}"
        return f"; {path}: " + " | ".join(line.strip()[:300] for line in lines) if lines else ""

    def _accounting(self, record: SlurmJob | None) -> dict[str, Any]:
        if record is None:
            return {"slurm_job_id": self.slurm_job_id}
        return {
            "slurm_job_id": self.slurm_job_id,
            "state": record.state,
            "elapsed_seconds": record.elapsed(time.time()),
            "pending_seconds": max(0, record.start_time - record.submit_time) if record.start_time else None,
            "tres_alloc": record.tres_alloc,
            "nodes": record.nodes,
        }

    def _finish(self, answer: dict[str, Any], record: SlurmJob | None) -> dict[str, Any]:
        """The runner's answer, billed from Slurm's record, its queue time Slurm's pending time."""
        self._stop.set()
        self._held = None
        message = dict(answer)
        if record is not None:
            message["seconds"] = machine_seconds(record, self._kind, self._leg, time.time())
            message["slurm"] = self._accounting(record)
            result = message.get("result")
            if isinstance(result, dict) and isinstance(result.get("timings"), dict) and record.start_time:
                pending = float(max(0, record.start_time - record.submit_time))
                result["timings"]["queue"] = float(result["timings"].get("queue") or 0.0) + pending
        return message

    # ------------------------------------------------------------------ control
    def cancel(self) -> None:
        self._cancelled = True
        try:
            self._executor.controller.cancel(self.slurm_job_id)
        except ControllerError as exc:
            log.warning("scancel %s failed: %s", self.slurm_job_id, exc, extra={"job_id": self._claim.job_id})

    def machine_seconds(self, wait: float = 10.0) -> float | None:
        """Machine-seconds from Slurm's record once the batch job ended (waits up to ``wait``
        seconds for the end record; the last record seen otherwise); None when never read."""
        deadline = time.monotonic() + wait
        record: SlurmJob | None = None
        while True:
            with contextlib.suppress(ControllerError):
                record = self._executor.controller.job(self.slurm_job_id) or record
            if (record is not None and record.ended) or time.monotonic() >= deadline:
                break
            time.sleep(self._settings.poll_seconds)
        self._stop.set()
        record = record or self._snapshot().record
        return None if record is None else machine_seconds(record, self._kind, self._leg, time.time())

    def close(self) -> None:
        self._stop.set()


class SlurmExecutor:
    """Runs each claimed job as one Slurm batch job under the operator's ``settings``.

    Args:
        settings: partition, account, QoS, resources per kind, workdir... (:class:`SlurmSettings`).
        controller: how to reach Slurm (default: slurmrestd if configured, else the CLI tools).
    """

    name = "slurm"

    def __init__(self, settings: SlurmSettings, controller: Controller | None = None) -> None:
        self.settings = settings
        self.controller = controller or make_controller(settings)
        self._ready: tuple[float, bool] = (0.0, False)
        self._runs: list[SlurmRun] = []

    def ready(self) -> bool:
        """The controller answers a ping (cached :data:`READY_CACHE_SECONDS`): while it does not,
        the worker claims nothing and no attempt is spent on a dead controller."""
        now = time.monotonic()
        if now - self._ready[0] < READY_CACHE_SECONDS:
            return self._ready[1]
        up = self.controller.ping()
        if up != self._ready[1] and self._ready[0]:
            log.warning("the Slurm controller is %s", "up again" if up else "unreachable; claiming nothing")
        self._ready = (now, up)
        return up

    def _adoptable(self, record: SlurmJob, job_dir: str) -> bool:
        """A batch job of an earlier attempt worth re-attaching to: still waiting or running, or
        ended with the runner's answer in its messages file."""
        if record.phase in ("waiting", "running"):
            return True
        if record.phase not in ("done", "timeout"):
            return False
        with contextlib.suppress(OSError):
            text = Path(messages_path(job_dir, record.job_id)).read_text(errors="replace")
            return '"type": "result"' in text or '"type": "error"' in text
        return False

    def start(self, claim: Claim) -> SlurmRun:
        kind = job_kind(claim.backend)
        leg = self.settings.leg(kind)
        job_dir = os.path.join(self.settings.workdir, claim.job_id)
        name = job_name(claim.job_id)
        try:
            os.makedirs(job_dir, exist_ok=True)
            earlier = self.controller.find(name)
        except OSError as exc:
            raise ExecutionDied(f"cannot write the Slurm working directory {job_dir}: {exc}") from exc
        except ControllerError as exc:
            raise ExecutionLost(f"the Slurm controller is unreachable: {exc}") from exc
        for record in reversed(earlier):
            if self._adoptable(record, job_dir):
                log.info(
                    "re-attached to Slurm batch job %s (%s)",
                    record.job_id,
                    record.state,
                    extra={"job_id": claim.job_id, "attempt": claim.attempt},
                )
                return self._track(SlurmRun(self, claim, record.job_id, job_dir, kind, leg, adopted=True))
        request_path = os.path.join(job_dir, f"a{claim.attempt}.request.json")
        request = {
            "job_id": claim.job_id,
            "problem": json.loads(claim.problem_json),
            "backend": claim.backend,
            "time_limit": claim.time_limit,
            "seed": claim.seed,
            "params": claim.params,
        }
        environment = {k: os.environ[k] for k in self.settings.export if os.environ.get(k)}
        environment.update(self.settings.environment)
        batch = BatchRequest(
            name=name,
            job_dir=job_dir,
            command=runner_command(self.settings.python, request_path, job_dir),
            time_minutes=self.settings.time_minutes(claim.time_limit),
            cpus=leg.cpus,
            memory_mb=leg.memory_mb,
            gpus=leg.gpus,
            gres=leg.gres,
            partition=self.settings.partition,
            account=self.settings.account,
            qos=self.settings.qos,
            environment=environment,
            extra=self.settings.extra_sbatch,
            comment=f"kakehashi-attempt-{claim.attempt}",
        )
        try:
            tmp = request_path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(request, fh)
            os.replace(tmp, request_path)
        except OSError as exc:
            raise ExecutionDied(f"cannot write {request_path}: {exc}") from exc
        try:
            slurm_job_id = self.controller.submit(batch)
        except SubmitRejected as exc:
            raise ExecutionDied(f"Slurm refused the batch job: {exc}") from exc
        except ControllerError as exc:  # it may still have been queued: the next attempt finds it
            raise ExecutionLost(f"submitting to Slurm failed: {exc}") from exc
        with contextlib.suppress(OSError):
            Path(job_dir, f"a{claim.attempt}.slurm-job-id").write_text(f"{slurm_job_id}\n")
        log.info(
            "submitted Slurm batch job %s",
            slurm_job_id,
            extra={"job_id": claim.job_id, "attempt": claim.attempt},
        )
        return self._track(SlurmRun(self, claim, slurm_job_id, job_dir, kind, leg))

    def _track(self, run: SlurmRun) -> SlurmRun:
        self._runs = [r for r in self._runs if r._watcher.is_alive()] + [run]
        return run

    def shutdown(self) -> None:
        """Stop following batch jobs; they keep running in Slurm (a restarted worker re-attaches)."""
        for run in self._runs:
            run.close()
        self._runs = []
        close = getattr(self.controller, "close", None)
        if callable(close):
            close()
