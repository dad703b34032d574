"""The worker: a loop that claims jobs, keeps their leases alive and writes their outcomes.

The loop (this module) is separate from job execution, which an executor does
(:mod:`kakehashi.service.executors`): by default one warm solver child process
(:mod:`kakehashi.service.runner`, which calls :func:`kakehashi.solve`) that gets one job at a
time as JSON; with ``executor = "ray"`` a task on a Ray cluster. While the job runs, the worker
heartbeats the lease every ``heartbeat_seconds``. Cancelling a running job, a lost lease, or a
solve running past ``time_limit + kill_grace_seconds`` stops it (SIGKILL of the child, or
``ray.cancel(force=True)``) at the next heartbeat. When the executor loses the machine running
the job (a Ray node died), the worker expires the lease at once and the job takes the lost-lease
path (re-queued, or FAILED after ``max_attempts``). ``python -m kakehashi.service.worker`` runs
one worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import socket
import threading
import time
from collections.abc import Collection
from types import FrameType
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from kakehashi.result import Result, Status
from kakehashi.service import lease
from kakehashi.service.config import ServiceConfig, load_config
from kakehashi.service.executors import ExecutionDied, ExecutionLost, Executor, make_executor
from kakehashi.service.executors.local import SolverDiedError as SolverDiedError
from kakehashi.service.executors.local import SolverProcess as SolverProcess
from kakehashi.service.jobs import JobStatus, add_event
from kakehashi.service.lease import Beat, Claim, Outcome
from kakehashi.service.metering import hardware_of
from kakehashi.service.store.db import Database
from kakehashi.service.store.ids import new_id
from kakehashi.service.store.models import Job, WorkerRecord

log = logging.getLogger("kakehashi.worker")

#: Progress events are written to the database at most this often (seconds), or with the outcome.
PROGRESS_FLUSH_SECONDS = 1.0


class Worker:
    """Claims and runs jobs one at a time until :meth:`stop` is called.

    Args:
        config: the operator configuration (leases, grace times, prices, runner command).
        db: the database (default: ``config.database_url``).
        worker_id: a unique name (default: ``wrk_<random>``).
        backends: only claim jobs for these backends (None: any).
        executor: where jobs run (default: :func:`~kakehashi.service.executors.make_executor`
            of ``config``: a local solver child, or Ray tasks).
    """

    def __init__(
        self,
        config: ServiceConfig,
        db: Database | None = None,
        *,
        worker_id: str | None = None,
        backends: Collection[str] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.config = config
        self.db = db or Database(config.database_url)
        self.id = worker_id or f"{socket.gethostname()[:40]}-{os.getpid()}-{new_id('w')[-8:]}"
        self.backends = backends
        self._stop = threading.Event()
        self._stop_deadline: float | None = None
        self.executor = executor or make_executor(config)
        self._last_reap = 0.0
        self._last_seen = 0.0

    # ------------------------------------------------------------------ control
    def stop(self, grace: float | None = None) -> None:
        """Stop claiming; the current job gets ``grace`` seconds (default from config) to end."""
        grace = self.config.shutdown_grace_seconds if grace is None else grace
        self._stop_deadline = time.monotonic() + grace
        self._stop.set()

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("stopping on signal %s", signum, extra={"worker_id": self.id})
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self, *, max_jobs: int | None = None, exit_when_idle: bool = False) -> int:
        """The worker loop. Returns the number of jobs it ran."""
        self._register()
        done = 0
        try:
            while not self._stop.is_set():
                try:
                    ran = self.run_once()
                except OperationalError as exc:  # database briefly unavailable: back off, retry
                    log.warning("database error: %s", exc, extra={"worker_id": self.id})
                    ran = False
                if ran:
                    done += 1
                    if max_jobs is not None and done >= max_jobs:
                        break
                    continue
                if exit_when_idle:
                    break
                self._stop.wait(self.config.poll_seconds)
        finally:
            self.close()
        return done

    def run_once(self) -> bool:
        """Reap expired leases now and then, claim one job and run it. False when idle."""
        now = time.time()
        if now - self._last_reap > min(self.config.lease_seconds / 2.0, 5.0):
            self._last_reap = now
            counts = lease.reap_expired(self.db, now=now)
            if any(counts.values()):
                log.info("reaped expired leases %s", counts, extra={"worker_id": self.id})
        self._touch()
        if not self.executor.ready():  # e.g. the Ray cluster is unreachable: claim nothing
            return False
        c = lease.claim(self.db, self.id, self.config.lease_seconds, backends=self.backends)
        if c is None:
            return False
        extra = {"job_id": c.job_id, "project_id": c.project_id, "attempt": c.attempt, "worker_id": self.id}
        log.info("claimed job", extra=extra)
        outcome = self.execute(c)
        if outcome is None:
            log.info("attempt abandoned (lease lost or worker stopping)", extra=extra)
            return True
        written = lease.finish(self.db, c, outcome)
        log.info(
            "job %s",
            outcome.status.value.lower() if written else "result discarded (stale attempt)",
            extra={**extra, "status": outcome.status.value},
        )
        return True

    def close(self) -> None:
        self.executor.shutdown()
        with contextlib.suppress(Exception), self.db.write() as s:
            rec = s.get(WorkerRecord, self.id)
            if rec is not None:
                rec.stopped_at = time.time()

    # ---------------------------------------------------------------- execution
    @property
    def _solver(self) -> SolverProcess | None:
        """The local executor's warm solver child (None otherwise, or when none is running)."""
        solver = getattr(self.executor, "solver", None)
        return solver if isinstance(solver, SolverProcess) else None

    def execute(self, c: Claim) -> Outcome | None:
        """Run claim ``c`` on the executor; None when the attempt must not write anything."""
        try:
            run = self.executor.start(c)
        except ExecutionDied as exc:
            return Outcome(JobStatus.FAILED, error=f"could not start the solver: {exc}", bill=False)
        except ExecutionLost as exc:
            self._lose(c, str(exc))
            return None
        t0 = time.monotonic()
        limit = c.time_limit + self.config.kill_grace_seconds
        deadline = t0 + limit if run.started else math.inf  # a queued Ray task is not late yet
        beat_every = self.config.heartbeat_seconds
        next_beat = t0 + beat_every
        pending: list[dict[str, Any]] = []  # progress events not yet written
        next_flush = t0 + PROGRESS_FLUSH_SECONDS
        hw = hardware_of(c.backend)

        def ended(status: JobStatus, error: str) -> Outcome:
            return Outcome(
                status,
                error=error,
                backend=c.backend,
                hardware=hw,
                progress=pending,
                machine_seconds=time.monotonic() - t0,
                unit_price_yen=self.config.price(hw),
            )

        while True:
            now = time.monotonic()
            try:
                msg = run.poll(max(0.0, min(next_beat, deadline, next_flush if pending else deadline) - now))
            except ExecutionDied as exc:
                return ended(JobStatus.FAILED, str(exc))
            except ExecutionLost as exc:
                self._lose(c, str(exc))
                return None
            if msg is not None and msg.get("type") == "started":  # placed: the clock starts now
                t0 = time.monotonic()
                deadline = t0 + limit
                placed = {k: v for k, v in msg.items() if k not in ("type", "job_id")}
                pending.append({"event": "placed", "executor": self.executor.name, **placed})
                msg = None
            if msg is not None and msg.get("type") != "progress":
                outcome = self._outcome(c, msg)
                outcome.progress.extend(pending)
                return outcome
            if msg is not None:
                pending.append(dict(msg.get("data", {})))
            now = time.monotonic()
            if pending and now >= next_flush:
                lease.progress(self.db, c, pending)
                pending = []
                next_flush = now + PROGRESS_FLUSH_SECONDS
            if now >= deadline:
                run.cancel()
                return ended(
                    JobStatus.FAILED,
                    f"solve ran past time_limit + {self.config.kill_grace_seconds} s and was killed",
                )
            if self._stop.is_set() and self._stop_deadline is not None and now >= self._stop_deadline:
                run.cancel()
                lease.release(self.db, c, "worker shut down")
                return None
            if now >= next_beat:
                next_beat = now + beat_every
                try:
                    beat = lease.heartbeat(self.db, c, self.config.lease_seconds)
                except OperationalError as exc:
                    log.warning("heartbeat failed: %s", exc, extra={"job_id": c.job_id, "worker_id": self.id})
                    continue
                if beat is Beat.LOST:
                    run.cancel()
                    return None
                if beat is Beat.CANCEL:
                    run.cancel()
                    return ended(JobStatus.CANCELLED, "cancelled while running")

    def _lose(self, c: Claim, reason: str) -> None:
        """The executor lost the machine running ``c``: expire the lease now and reap it, so the
        job takes exactly the lost-lease path (re-queued with its attempt raised at the next
        claim, CANCELLED if cancel was asked, FAILED after ``max_attempts``)."""
        log.warning("execution lost: %s", reason, extra={"job_id": c.job_id, "worker_id": self.id})
        now = time.time()
        try:
            with self.db.write() as s:  # the event first, while the lease still holds
                held = select(Job.seq).where(
                    Job.id == c.job_id,
                    Job.attempt == c.attempt,
                    Job.lease_owner == c.worker_id,
                    Job.status == JobStatus.RUNNING.value,
                )
                if s.scalars(held).first() is None:
                    return  # not ours any more: someone else already dealt with it
                data = {"attempt": c.attempt, "executor": self.executor.name, "reason": reason}
                add_event(s, c.job_id, "lost", data)
            if lease.heartbeat(self.db, c, 0.0, now=now - 1.0) is not Beat.LOST:  # expires it 1 s ago
                lease.reap_expired(self.db, now=now)
        except OperationalError as exc:  # the lease still expires on its own and any worker reaps it
            log.warning(
                "could not expire the lease: %s", exc, extra={"job_id": c.job_id, "worker_id": self.id}
            )

    def _outcome(self, c: Claim, msg: dict[str, Any]) -> Outcome:
        seconds = float(msg.get("seconds", 0.0))
        if msg.get("type") != "result":
            hw = hardware_of(c.backend)
            return Outcome(
                JobStatus.FAILED,
                error=f"{msg.get('kind', 'Error')}: {msg.get('error', '')}",
                backend=c.backend,
                hardware=hw,
                machine_seconds=seconds,
                unit_price_yen=self.config.price(hw),
            )
        result = Result.from_dict(msg["result"])
        backend = result.provenance.backend or c.backend
        hw = hardware_of(backend)
        ok = result.status is not Status.ERROR
        return Outcome(
            JobStatus.SUCCEEDED if ok else JobStatus.FAILED,
            result_json=json.dumps(msg["result"]),
            error=None if ok else (result.error or "every backend failed"),
            result_status=result.status.value,
            objective=result.objective,
            backend=backend,
            hardware=hw,
            machine_seconds=seconds,
            unit_price_yen=self.config.price(hw),
        )

    # ---------------------------------------------------------------- registry
    def _register(self) -> None:
        now = time.time()
        with self.db.write() as s:
            s.merge(
                WorkerRecord(
                    id=self.id,
                    host=socket.gethostname()[:200],
                    pid=os.getpid(),
                    started_at=now,
                    last_seen=now,
                    stopped_at=None,
                )
            )
        self._last_seen = now

    def _touch(self) -> None:
        now = time.time()
        if now - self._last_seen < 5.0:
            return
        self._last_seen = now
        with contextlib.suppress(OperationalError), self.db.write() as s:
            rec = s.get(WorkerRecord, self.id)
            if rec is not None:
                rec.last_seen = now


def main(argv: list[str] | None = None) -> None:
    """``python -m kakehashi.service.worker``: run one worker with the operator configuration."""
    from kakehashi.service.logs import configure_logging
    from kakehashi.service.store.migrate import upgrade

    config = load_config()
    configure_logging(config.log_level)
    db = Database(config.database_url)
    upgrade(db)
    worker = Worker(config, db)
    worker.install_signal_handlers()
    log.info(
        "worker started (executor: %s)",
        worker.executor.name,
        extra={"worker_id": worker.id, "pid": os.getpid()},
    )
    worker.run()


if __name__ == "__main__":
    main()
