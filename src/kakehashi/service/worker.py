"""The worker: a loop that claims jobs, keeps their leases alive and writes their outcomes.

The loop (this module) is separate from job execution, which an executor does
(:mod:`kakehashi.service.executors`): by default one warm solver child process
(:mod:`kakehashi.service.runner`, which calls :func:`kakehashi.solve`) that gets one job at a
time as JSON; with ``executor = "ray"`` a task on a Ray cluster; with ``executor = "slurm"`` a
batch job in an HPC centre's Slurm (:mod:`kakehashi.service.executors.slurm`). While the job
runs, the worker heartbeats the lease every ``heartbeat_seconds``. Cancelling a running job, a
lost lease, or a solve running past ``time_limit + kill_grace_seconds`` stops it (SIGKILL of the
child, ``ray.cancel(force=True)`` or ``scancel``) at the next heartbeat. When the executor loses the machine running
the job (a Ray node died), the worker records an infrastructure loss at once (re-queued with
back-off, see :mod:`kakehashi.service.lease`); a solver child that crashed or ran out of memory
is a job fault (re-queued while ``max_attempts`` allows, else FAILED).

Outages of the database: every database call that fails with an outage error is retried with
exponential back-off and jitter (0.1 s doubling to ``db_backoff_cap_seconds``), logged once when
the outage starts and once when it ends (:class:`~kakehashi.service.store.outage.Outage`). A
running solve goes on through the outage; its lease is renewed when the database returns, and for
one lease period after an outage the worker does not reap expired leases, so that live workers
can renew theirs first. A finished outcome is put in the spool (:mod:`kakehashi.service.spool`)
before it is written and kept (in memory and there) until the database has answered for it; the
lease is released by that write. At start a worker releases the leases of this host's dead
workers (same boot, pid gone) and writes their spooled outcomes.

``python -m kakehashi.service.worker`` runs one worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
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

from sqlalchemy import update as sa_update

from kakehashi.result import Result, Status
from kakehashi.service import lease
from kakehashi.service.config import ServiceConfig, load_config
from kakehashi.service.executors import ExecutionDied, ExecutionLost, Executor, make_executor
from kakehashi.service.executors.local import SolverDiedError as SolverDiedError
from kakehashi.service.executors.local import SolverProcess as SolverProcess
from kakehashi.service.identity import boot_id, host_name
from kakehashi.service.jobs import JobStatus
from kakehashi.service.lease import Beat, Claim, Outcome
from kakehashi.service.metering import hardware_of
from kakehashi.service.spool import Spool
from kakehashi.service.store.db import Database, is_outage
from kakehashi.service.store.ids import new_id
from kakehashi.service.store.models import WorkerRecord
from kakehashi.service.store.outage import Outage

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
        self.host = host_name()
        self.boot_id = boot_id()
        self.backends = backends
        self._stop = threading.Event()
        self._stop_deadline: float | None = None
        self.executor = executor or make_executor(config)
        self._last_reap = 0.0
        self._last_seen = 0.0
        self._last_probe = 0.0
        self._started = False
        self.policy = config.loss_policy()
        self.outage = Outage(log, cap_seconds=config.db_backoff_cap_seconds, extra={"worker_id": self.id})
        self.spool = Spool(config.spool_path(), self.boot_id)

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
        done = 0
        try:
            while not self._stop.is_set():
                try:
                    if not self._started:
                        self.start()
                    ran = self.run_once()
                    self.outage.ok()
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    self._stop.wait(self.outage.failed(exc))  # back off, one log line per outage
                    continue
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

    def start(self) -> None:
        """Register this worker, release the leases of this host's dead workers and write the
        outcomes they spooled. Run by :meth:`run` (again after an outage, until it succeeds)."""
        self._register()
        self._release_dead()
        self._started = True

    def _release_dead(self) -> None:
        """Write the outcomes this host's dead workers spooled, then release their leases."""
        for orphan in self.spool.orphans():  # first: a finished result beats a re-run
            extra = {"job_id": orphan.claim.job_id, "attempt": orphan.claim.attempt, "worker_id": self.id}
            written = lease.finish(self.db, orphan.claim, orphan.outcome)
            self.spool.remove(orphan.path)
            log.info(
                "spooled outcome of %s %s",
                orphan.claim.worker_id,
                "written" if written else "discarded (stale attempt)",
                extra=extra,
            )
        counts = lease.release_dead(self.db, self.host, self.boot_id, own_pid=os.getpid(), policy=self.policy)
        if counts:
            log.info(
                "released the leases of dead workers on this host %s", counts, extra={"worker_id": self.id}
            )

    def run_once(self) -> bool:
        """Reap expired leases now and then, claim one job and run it. False when idle."""
        now = time.time()
        # after an outage, every lease looks expired: give live workers a lease period to renew
        if now - self._last_reap > self.config.reap_seconds and not self.outage.recovered_within(
            self.config.lease_seconds
        ):
            self._last_reap = now
            counts = lease.reap_expired(self.db, now=now, policy=self.policy)
            if any(counts.values()):
                log.info("reaped expired leases %s", counts, extra={"worker_id": self.id})
            self._release_dead()
        self._touch()
        self._probe_peers()
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
        if outcome.fault and c.job_faults + 1 < c.max_attempts:  # the solve crashed: try again
            requeued = self._persist(lambda: lease.requeue_fault(self.db, c, outcome.error or "solver died"))
            if requeued:
                log.info("job fault, re-queued: %s", outcome.error, extra=extra)
            return True
        written = self._write(c, outcome)
        if written is None:
            said = "result kept in the spool (database unreachable)"
        else:
            said = outcome.status.value.lower() if written else "result discarded (stale attempt)"
        log.info("job %s", said, extra={**extra, "status": outcome.status.value})
        return True

    def _persist(self, write: Any) -> Any:
        """Call ``write()`` until the database answers; None when the worker must stop first."""
        while True:
            try:
                answer = write()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                wait = self.outage.failed(exc)
                if self._stop.is_set() and (
                    self._stop_deadline is None or time.monotonic() >= self._stop_deadline
                ):
                    return None
                time.sleep(wait)
                continue
            self.outage.ok()
            return answer

    def _write(self, c: Claim, outcome: Outcome) -> bool | None:
        """Spool ``outcome``, write it (attempt-guarded), then drop the spool file. True when
        written, False when the attempt was stale, None when still only in the spool."""
        try:
            path = self.spool.put(c, outcome)
        except OSError as exc:  # a full or read-only disk: the outcome is still kept in memory
            log.warning("cannot spool the outcome: %s", exc, extra={"job_id": c.job_id, "worker_id": self.id})
            path = None
        written: bool | None = self._persist(lambda: lease.finish(self.db, c, outcome))
        if written is not None and path is not None:
            self.spool.remove(path)
        return written

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

    def _try(self, what: str, call: Any, c: Claim) -> Any:
        """One database call while a job runs; None (the outage recorded) when it cannot be made."""
        try:
            answer = call()
        except Exception as exc:
            if not is_outage(exc):
                raise
            self.outage.failed(exc)
            log.debug("%s failed: %s", what, exc, extra={"job_id": c.job_id, "worker_id": self.id})
            return None
        self.outage.ok()
        return answer

    def _peer_executor(self, c: Claim) -> Executor | Outcome:
        """The peer executor for a claim placed on a peer site (or the failed Outcome when the
        peer is no longer known or its token cannot be had)."""
        from kakehashi.exceptions import AuthError
        from kakehashi.service import peers
        from kakehashi.service.executors.peer import PeerExecutor
        from kakehashi.service.pool_state import PoolSource

        try:
            with self.db.read() as s:
                known = peers.records(s, PoolSource.from_config(self.config).own(s, time.time()))
            peer = peers.find(known, c.peer or "")
            token = peer.token(self.config.peer_key)
        except (AuthError, peers.PeerNotFoundError) as exc:
            return Outcome(JobStatus.FAILED, error=f"cannot forward to peer {c.peer}: {exc}", bill=False)
        return PeerExecutor(peer, token, c.machine or "", grace_seconds=self.config.peer_grace_seconds)

    def _probe_peers(self) -> None:
        """Re-read the peers' pools now and then (a peer found down is not placed on)."""
        now = time.monotonic()
        if now - self._last_probe < self.config.peer_probe_seconds:
            return
        self._last_probe = now
        from kakehashi.service import peers
        from kakehashi.service.pool_state import PoolSource

        with self.db.read() as s:
            known = peers.records(s, PoolSource.from_config(self.config).own(s, time.time()))
        peers.refresh(self.db, known, self.config.peer_key, max_age=self.config.peer_probe_seconds)

    def execute(self, c: Claim) -> Outcome | None:
        """Run claim ``c`` on the executor (the peer executor for a claim placed on a peer
        site); None when the attempt must not write anything."""
        if c.peer is None:
            return self._execute(c, self.executor)
        executor = self._peer_executor(c)
        if isinstance(executor, Outcome):
            return executor
        try:
            return self._execute(c, executor)
        finally:
            executor.shutdown()

    def _execute(self, c: Claim, executor: Executor) -> Outcome | None:
        try:
            run = executor.start(c)
        except ExecutionDied as exc:
            said = str(exc) if c.peer is not None else f"could not start the solver: {exc}"
            return Outcome(JobStatus.FAILED, error=said, bill=False)
        except ExecutionLost as exc:
            self._lose(c, str(exc), executor)
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
            seconds = time.monotonic() - t0
            measured = getattr(run, "machine_seconds", None)  # the executor's own record (Slurm's)
            if callable(measured):
                recorded = measured()
                seconds = seconds if recorded is None else float(recorded)
            return Outcome(
                status,
                error=error,
                backend=c.backend,
                hardware=hw,
                progress=pending,
                machine_seconds=seconds,
                unit_price_yen=self.config.price(hw),
            )

        while True:
            now = time.monotonic()
            try:
                msg = run.poll(max(0.0, min(next_beat, deadline, next_flush if pending else deadline) - now))
            except ExecutionDied as exc:  # the solve crashed its solver (or ran out of memory)
                return dataclasses.replace(ended(JobStatus.FAILED, str(exc)), fault=True)
            except ExecutionLost as exc:
                run.cancel()  # best effort: a peer that comes back must not keep running it
                self._lose(c, str(exc), executor)
                return None
            if msg is not None and msg.get("type") == "started":  # placed: the clock starts now
                t0 = time.monotonic()
                deadline = t0 + limit
                placed = {k: v for k, v in msg.items() if k not in ("type", "job_id")}
                pending.append({"event": "placed", "executor": executor.name, **placed})
                at = float(msg.get("at") or time.time())
                self._try("started", lambda when=at: lease.mark_started(self.db, c, when), c)
                msg = None
            if msg is not None and msg.get("type") == "waiting":  # queued on the executor (Slurm PENDING)
                reason = str(msg.get("reason") or "waiting")
                waited = {k: v for k, v in msg.items() if k not in ("type", "job_id")}
                pending.append({"event": "waiting", "executor": executor.name, **waited})
                self._try("waiting", lambda why=reason: lease.mark_waiting(self.db, c, why), c)
                msg = None
            if msg is not None and msg.get("type") == "progress" and msg.get("data", {}).get("event") == "forwarded":
                data = dict(msg["data"])  # the peer's job id: cancel and settlement need it now
                if not self._persist(lambda data=data: lease.record_forward(self.db, c, data)):
                    run.cancel()  # the attempt is no longer current: nothing may run for it
                    return None
            if msg is not None and msg.get("type") != "progress":
                outcome = self._outcome(c, msg)
                outcome.progress.extend(pending)
                return outcome
            if msg is not None:
                pending.append(dict(msg.get("data", {})))
            now = time.monotonic()
            if pending and now >= next_flush:
                next_flush = now + PROGRESS_FLUSH_SECONDS
                flush = list(pending)
                if self._try("progress", lambda events=flush: lease.progress(self.db, c, events), c):
                    pending = []
            if now >= deadline:
                run.cancel()
                return ended(
                    JobStatus.FAILED,
                    f"solve ran past time_limit + {self.config.kill_grace_seconds} s and was killed",
                )
            if self._stop.is_set() and self._stop_deadline is not None and now >= self._stop_deadline:
                run.cancel()
                self._try("release", lambda: lease.release(self.db, c, "worker shut down"), c)
                return None
            if now >= next_beat:
                next_beat = now + beat_every
                beat = self._try(
                    "heartbeat", lambda: lease.heartbeat(self.db, c, self.config.lease_seconds), c
                )
                if beat is None:  # the database is out: the solve goes on, the lease is renewed later
                    continue
                if beat is Beat.LOST:
                    run.cancel()
                    return None
                if beat is Beat.CANCEL:
                    run.cancel()
                    return ended(JobStatus.CANCELLED, "cancelled while running")

    def _lose(self, c: Claim, reason: str, executor: Executor | None = None) -> None:
        """The executor lost the machine running ``c``: an infrastructure loss of this attempt,
        recorded at once (re-queued with back-off, CANCELLED if cancel was asked, FAILED past the
        loss limits). If the database is out the lease expires on its own and a reaper does it."""
        executor = executor or self.executor
        log.warning("execution lost: %s", reason, extra={"job_id": c.job_id, "worker_id": self.id})
        data = {"executor": executor.name}
        if c.peer is not None:  # down for the scheduler until a probe reaches it again
            from kakehashi.service import peers

            data["peer"] = c.peer
            self._try("peer state", lambda: peers.set_state(self.db, c.peer or "", False, reason), c)
        self._try("lose", lambda: lease.lose(self.db, c, reason, policy=self.policy, data=data), c)

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
                    host=self.host,
                    pid=os.getpid(),
                    started_at=now,
                    last_seen=now,
                    stopped_at=None,
                    boot_id=self.boot_id,
                )
            )
        self._last_seen = now

    def _touch(self) -> None:
        now = time.time()
        if now - self._last_seen < self.config.heartbeat_seconds:
            return
        self._last_seen = now
        with self.db.write() as s:  # an outage error goes to the loop's back-off
            s.execute(sa_update(WorkerRecord).where(WorkerRecord.id == self.id).values(last_seen=now))


def main(argv: list[str] | None = None) -> None:
    """``python -m kakehashi.service.worker``: run one worker with the operator configuration."""
    from kakehashi.service.logs import configure_logging
    from kakehashi.service.store.migrate import upgrade

    config = load_config()
    configure_logging(config.log_level)
    db = Database(config.database_url)
    outage = Outage(log, cap_seconds=config.db_backoff_cap_seconds)
    while True:  # the database may be down when the worker starts: wait for it with back-off
        try:
            upgrade(db)
            outage.ok()
            break
        except Exception as exc:
            if not is_outage(exc):
                raise
            time.sleep(outage.failed(exc))
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
