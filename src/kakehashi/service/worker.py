"""The worker: a loop that claims jobs, keeps their leases alive and writes their outcomes.

The loop (this module) is separate from job execution (:mod:`kakehashi.service.runner`, a child
process that calls :func:`kakehashi.solve`). The worker keeps one solver child warm and sends
it one job at a time as JSON; while the child works, the worker heartbeats the lease every
``heartbeat_seconds``. Cancelling a running job, a lost lease, or a solve running past
``time_limit + kill_grace_seconds`` kills the child (SIGKILL) at the next heartbeat, and a fresh
child is started for the next job. ``python -m kakehashi.service.worker`` runs one worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from types import FrameType
from typing import IO, Any

from sqlalchemy.exc import OperationalError

from kakehashi.result import Result, Status
from kakehashi.service import lease
from kakehashi.service.config import ServiceConfig, load_config
from kakehashi.service.jobs import JobStatus
from kakehashi.service.lease import Beat, Claim, Outcome
from kakehashi.service.metering import hardware_of
from kakehashi.service.store.db import Database
from kakehashi.service.store.ids import new_id
from kakehashi.service.store.models import WorkerRecord

log = logging.getLogger("kakehashi.worker")

#: Progress events are written to the database at most this often (seconds), or with the outcome.
PROGRESS_FLUSH_SECONDS = 1.0


class SolverDiedError(Exception):
    """The solver child process exited while a job was running."""


class SolverProcess:
    """A warm solver child speaking JSON lines over its stdin/stdout."""

    def __init__(self, command: list[str]) -> None:
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        ready = self.recv(60.0)
        if ready is None or ready.get("type") != "ready":
            self.kill()
            raise SolverDiedError(f"solver process did not start (got {ready!r})")

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise SolverDiedError(f"solver process gone: {exc}") from exc

    def recv(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None after ``timeout`` seconds. Raises :class:`SolverDiedError`."""
        try:
            line = self._lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if line is None:
            code = self.proc.wait()
            raise SolverDiedError(f"solver process exited with code {code}")
        return dict(json.loads(line))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        # the child leads its own process group: race legs and the forkserver go with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()


class Worker:
    """Claims and runs jobs one at a time until :meth:`stop` is called.

    Args:
        config: the operator configuration (leases, grace times, prices, runner command).
        db: the database (default: ``config.database_url``).
        worker_id: a unique name (default: ``wrk_<random>``).
        backends: only claim jobs for these backends (None: any).
    """

    def __init__(
        self,
        config: ServiceConfig,
        db: Database | None = None,
        *,
        worker_id: str | None = None,
        backends: Collection[str] | None = None,
    ) -> None:
        self.config = config
        self.db = db or Database(config.database_url)
        self.id = worker_id or f"{socket.gethostname()[:40]}-{os.getpid()}-{new_id('w')[-8:]}"
        self.backends = backends
        self._stop = threading.Event()
        self._stop_deadline: float | None = None
        self._solver: SolverProcess | None = None
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
        if self._solver is not None:
            self._solver.kill()
            self._solver = None
        with contextlib.suppress(Exception), self.db.write() as s:
            rec = s.get(WorkerRecord, self.id)
            if rec is not None:
                rec.stopped_at = time.time()

    # ---------------------------------------------------------------- execution
    def _command(self) -> list[str]:
        if self.config.runner_command:
            return list(self.config.runner_command)
        return [sys.executable, "-m", "kakehashi.service.runner"]

    def _ensure_solver(self) -> SolverProcess:
        if self._solver is None or not self._solver.alive():
            self._solver = SolverProcess(self._command())
        return self._solver

    def _kill_solver(self) -> None:
        if self._solver is not None:
            self._solver.kill()
            self._solver = None

    def execute(self, c: Claim) -> Outcome | None:
        """Run claim ``c`` in the solver child; None when the attempt must not write anything."""
        try:
            solver = self._ensure_solver()
            solver.send(
                {
                    "job_id": c.job_id,
                    "problem": json.loads(c.problem_json),
                    "backend": c.backend,
                    "time_limit": c.time_limit,
                    "seed": c.seed,
                    "params": c.params,
                }
            )
        except SolverDiedError as exc:
            self._kill_solver()
            return Outcome(JobStatus.FAILED, error=f"could not start the solver: {exc}", bill=False)
        t0 = time.monotonic()
        deadline = t0 + c.time_limit + self.config.kill_grace_seconds
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
                msg = solver.recv(
                    max(0.0, min(next_beat, deadline, next_flush if pending else deadline) - now)
                )
            except SolverDiedError as exc:
                self._kill_solver()
                return ended(JobStatus.FAILED, str(exc))
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
                self._kill_solver()
                return ended(
                    JobStatus.FAILED,
                    f"solve ran past time_limit + {self.config.kill_grace_seconds} s and was killed",
                )
            if self._stop.is_set() and self._stop_deadline is not None and now >= self._stop_deadline:
                self._kill_solver()
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
                    self._kill_solver()
                    return None
                if beat is Beat.CANCEL:
                    self._kill_solver()
                    return ended(JobStatus.CANCELLED, "cancelled while running")

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
    log.info("worker started", extra={"worker_id": worker.id, "pid": os.getpid()})
    worker.run()


if __name__ == "__main__":
    main()
