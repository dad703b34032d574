"""The Slurm executor against a real one-node Slurm 22.05 (see :mod:`tests.hpc.cluster`).

Jobs go in through the real API and run through real workers (threads of this process) whose
executor submits batch jobs to the cluster, via sbatch/squeue or via slurmrestd with a JWT. The
answers are checked against HiGHS directly; Slurm's own records (``scontrol show job``, read
here independently of the executor's ``squeue --json``) are checked for the states, the GRES,
the times and the accounting. The node has as many CPUs as this machine and one ``qpu`` GRES.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import kakehashi
from kakehashi.model.problem import Problem
from kakehashi.model.readers.lp import reads
from kakehashi.result import Result
from kakehashi.service import jobs, lease
from kakehashi.service.config import ServiceConfig
from kakehashi.service.executors.slurm import SlurmExecutor, from_table
from kakehashi.service.jobs import JobSpec
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import JobEvent, JobResult, LedgerEntry
from kakehashi.service.worker import Worker
from tests.hpc.cluster import Cluster
from tests.service.support import Harness, brute_force_min, make_harness, tiny_problem

LP = """\\ a small LP: max 3x + 2y
Maximize
 obj: 3 x + 2 y
Subject To
 c1: x + y <= 4
 c2: x + 3 y <= 6
Bounds
 0 <= x <= 3
End
"""


# ------------------------------------------------------------------------------- helpers
def wait_for(check: Callable[[], Any], timeout: float, what: str, h: Harness | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = ""
            if h is not None:
                with h.db.read() as s:
                    seen = str([(e.job_id, e.kind, e.data_json[:300]) for e in s.scalars(select(JobEvent))])
            raise AssertionError(f"timed out after {timeout} s waiting for {what} {seen}")
        time.sleep(0.05)


def scontrol_job(cluster: Cluster, slurm_job_id: int) -> dict[str, str]:
    """``scontrol -o show job`` as a dict (Slurm's own record, read without the executor)."""
    line = cluster.run("scontrol", "-o", "show", "job", str(slurm_job_id)).strip()
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def epoch(stamp: str) -> float:
    """Slurm's local ISO time (``2026-12-03T19:00:18``) as UNIX seconds."""
    return time.mktime(datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").timetuple())


def run_seconds(record: dict[str, str]) -> float:
    h, m, s = (int(x) for x in record["RunTime"].split(":"))
    return float(h * 3600 + m * 60 + s)


def slurm_jobs_named(cluster: Cluster, name: str) -> list[int]:
    out = cluster.run("squeue", "--states=all", "-h", "-o", "%i %j")
    return sorted(int(i) for i, n in (line.split() for line in out.splitlines()) if n == name)


def events(h: Harness, job_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    rows = jobs.events_after(h.db, h.project_a, job_id)[1]
    return [{"kind": e.kind, **json.loads(e.data_json)} for e in rows if kind is None or e.kind == kind]


def progress(h: Harness, job_id: str, event: str) -> list[dict[str, Any]]:
    return [e for e in events(h, job_id, "progress") if e.get("event") == event]


def job_view(h: Harness, job_id: str) -> dict[str, Any]:
    return dict(h.client.get(f"/v1/jobs/{job_id}", headers=h.h()).json())


def results_per_job(db: Database) -> dict[str, int]:
    with db.read() as s:
        return dict(s.execute(select(JobResult.job_id, func.count()).group_by(JobResult.job_id)).all())


def ledger(db: Database) -> list[LedgerEntry]:
    with db.read() as s:
        return list(s.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))


@contextlib.contextmanager
def dispatchers(config: ServiceConfig, db: Database, n: int = 1) -> Iterator[list[Worker]]:
    """``n`` workers in threads of this process, each with a Slurm executor from ``config``."""
    workers = [Worker(config, db) for _ in range(n)]
    assert all(w.executor.name == "slurm" for w in workers)
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    try:
        yield workers
    finally:
        for w in workers:
            w.stop(grace=0.0)
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)


def table(tmp_path: Path, cluster: Cluster, *, rest: bool = False, **more: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "workdir": str(tmp_path / "slurm-work"),
        "poll_seconds": 0.2,
        "command_timeout_seconds": 5.0,
        "settle_seconds": 10.0,
        "environment": {"BRAKET_DEVICE_ARN": "local"},  # the qpu-gate legs: Braket's local simulator
        **more,
    }
    if rest:
        t["rest_url"] = cluster.rest_url
    return t


@pytest.fixture
def harness(slurm: Cluster, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Harness]:
    rest = bool(getattr(request, "param", False))
    h = make_harness(
        f"sqlite:///{tmp_path / 'kakehashi.db'}",
        executor="slurm",
        slurm=table(tmp_path, slurm, rest=rest),
        lease_seconds=4.0,
        poll_seconds=0.05,
        kill_grace_seconds=20.0,
    )
    yield h
    h.client.close()
    h.db.dispose()


def lp_problem() -> Problem:
    return reads(LP, name="small-lp")


def highs_direct(tmp_path: Path) -> float:
    """The LP's optimum from highspy itself, reading the same LP file (not through kakehashi)."""
    import highspy

    path = tmp_path / "small.lp"
    path.write_text(LP)
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.readModel(str(path))
    solver.run()
    assert solver.modelStatusToString(solver.getModelStatus()) == "Optimal"
    return float(solver.getInfo().objective_function_value)


def slurm_id(h: Harness, job_id: str, attempt: int = 1) -> int:
    (placed,) = [p for p in progress(h, job_id, "placed") if p["attempt"] == attempt]
    assert placed["executor"] == "slurm"
    return int(placed["slurm_job_id"])


# ---------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("harness", [False, True], ids=["sbatch", "slurmrestd"], indirect=True)
def test_lp_job_runs_as_a_slurm_batch_job(slurm: Cluster, harness: Harness, tmp_path: Path) -> None:
    h = harness
    problem = lp_problem()
    job_id = h.submit(problem, backend="highs", time_limit=5.0, seed=1).json()["id"]
    with dispatchers(h.config, h.db):
        wait_for(lambda: job_view(h, job_id)["status"] == "SUCCEEDED", 60, "the job to succeed", h)
    got = Result.from_dict(h.client.get(f"/v1/jobs/{job_id}/result", headers=h.h()).json())
    direct = kakehashi.solve(problem, backend="highs", time_limit=5.0, seed=1)
    assert got.objective == pytest.approx(highs_direct(tmp_path)) == pytest.approx(11.0)
    assert (got.status, got.sample) == (direct.status, direct.sample)  # the same Result as a local run
    assert problem.evaluate(got.sample).feasible
    sid = slurm_id(h, job_id)
    record = scontrol_job(slurm, sid)
    assert record["JobState"] == "COMPLETED" and record["JobName"] == f"kakehashi-{job_id}"
    assert record["ExitCode"] == "0:0"
    # accounting: one ledger row, machine-seconds = Slurm's run time x allocated CPUs
    (row,) = ledger(h.db)
    assert row.machine_seconds == run_seconds(record) * int(record["NumCPUs"])
    job = job_view(h, job_id)
    assert job["run_seconds"] == row.machine_seconds
    started = datetime.datetime.fromisoformat(job["started_at"]).timestamp()
    assert started == pytest.approx(epoch(record["StartTime"]), abs=0.01)  # Slurm's start, not the claim
    assert Path(h.config.slurm["workdir"], job_id, f"slurm-{sid}.messages.jsonl").exists()
    # kakehashi admin usage --reconcile-slurm: nothing to report; then a tampered row is listed
    from typer.testing import CliRunner

    from kakehashi.cli.app import app
    from kakehashi.service.serve import config_env

    env = config_env(h.config)
    runner = CliRunner()
    agreed = runner.invoke(app, ["admin", "usage", "--reconcile-slurm", "--json"], env=env)
    assert agreed.exit_code == 0, agreed.output
    assert json.loads(agreed.output) == {"checked": 1, "differences": []}
    with h.db.write() as s:
        s.get(LedgerEntry, row.id).machine_seconds += 5.0  # type: ignore[union-attr]
    differ = runner.invoke(app, ["admin", "usage", "--reconcile-slurm"], env=env)
    assert differ.exit_code == 1
    assert f"{job_id}  attempt 1  slurm job {sid}  ledger {row.machine_seconds + 5:g} s" in differ.output


def test_qpu_legs_share_the_one_gres_one_after_the_other(slurm: Cluster, harness: Harness) -> None:
    """Two qpu-gate jobs (Braket's local simulator) both ask for --gres=qpu:1: Slurm runs them one
    after the other; the one waiting is QUEUED in kakehashi with Slurm's reason meanwhile."""
    h = harness
    problems = [tiny_problem(s, n=4) for s in (1, 2)]
    ids = [h.submit(p, backend="braket", time_limit=5.0, seed=1).json()["id"] for p in problems]
    seen: set[tuple[str, str, str]] = set()

    def watch() -> bool:
        views = [job_view(h, j) for j in ids]
        for v in views:
            seen.add((v["id"], v["status"], v.get("wait_reason") or ""))
        return all(v["status"] in ("SUCCEEDED", "FAILED") for v in views)

    with dispatchers(h.config, h.db, n=2):
        wait_for(watch, 90, "both QPU jobs to finish")
    records = []
    for job_id, problem in zip(ids, problems, strict=True):
        view = job_view(h, job_id)
        assert view["status"] == "SUCCEEDED", view
        result = Result.from_dict(h.client.get(f"/v1/jobs/{job_id}/result", headers=h.h()).json())
        assert result.provenance.hardware == "qpu-gate"
        assert problem.evaluate(result.sample).objective == pytest.approx(result.objective)
        assert result.objective >= brute_force_min(problem) - 1e-9
        records.append(scontrol_job(slurm, slurm_id(h, job_id)))
    assert all(r["TresPerNode"] == "gres:qpu:1" for r in records), records
    first, second = sorted(records, key=lambda r: epoch(r["StartTime"]))
    assert epoch(second["StartTime"]) >= epoch(first["EndTime"])  # never together
    # the second one waited in Slurm's queue for the GRES: QUEUED in kakehashi with the reason
    waited = next(j for j in ids if scontrol_job(slurm, slurm_id(h, j))["JobId"] == second["JobId"])
    assert (waited, "QUEUED", "Slurm PENDING (Resources)") in seen
    kinds = [e.get("event") for e in events(h, waited, "progress")]
    assert kinds.index("placed") > kinds.index("waiting")  # PENDING → RUNNING → COMPLETED
    rows = {r.job_id: r for r in ledger(h.db)}
    for job_id in ids:  # machine-seconds: Slurm's run time x the one qpu, the wait not in it
        record = scontrol_job(slurm, slurm_id(h, job_id))
        assert rows[job_id].hardware == "qpu-gate"
        assert rows[job_id].machine_seconds == run_seconds(record)
    result = Result.from_dict(h.client.get(f"/v1/jobs/{waited}/result", headers=h.h()).json())
    pending = epoch(second["StartTime"]) - epoch(second["SubmitTime"])
    assert pending >= 1 and result.timings.queue >= pending  # the wait is queue time


@pytest.mark.parametrize("harness", [False, True], ids=["sbatch", "slurmrestd"], indirect=True)
def test_cancel_is_scancel(slurm: Cluster, harness: Harness) -> None:
    h = harness
    job_id = h.submit(tiny_problem(3, n=30), backend="tabu", time_limit=60.0, seed=3).json()["id"]
    with dispatchers(h.config, h.db):
        wait_for(lambda: progress(h, job_id, "placed"), 30, "the batch job to run")
        sid = slurm_id(h, job_id)
        assert scontrol_job(slurm, sid)["JobState"] == "RUNNING"
        assert h.client.post(f"/v1/jobs/{job_id}/cancel", headers=h.h()).status_code == 200
        wait_for(lambda: job_view(h, job_id)["status"] == "CANCELLED", 20, "the job to be cancelled", h)
    assert scontrol_job(slurm, sid)["JobState"] == "CANCELLED"
    (row,) = ledger(h.db)  # billed from Slurm's record up to the cancel
    assert row.machine_seconds == run_seconds(scontrol_job(slurm, sid))
    assert results_per_job(h.db) == {}


def test_scancel_outside_kakehashi_fails_the_job_with_slurms_word(slurm: Cluster, harness: Harness) -> None:
    h = harness
    problem = tiny_problem(4, n=30)
    spec = JobSpec(problem.to_json(), problem.name, 30, 0, backend="tabu", time_limit=60.0, seed=4)
    job_id = jobs.submit(h.db, h.project_a, spec, max_attempts=1)[0].id
    with dispatchers(h.config, h.db):
        wait_for(lambda: progress(h, job_id, "placed"), 30, "the batch job to run")
        slurm.run("scancel", str(slurm_id(h, job_id)))
        wait_for(lambda: job_view(h, job_id)["status"] == "FAILED", 20, "the job to fail", h)
    error = job_view(h, job_id)["error"]
    assert f"Slurm batch job {slurm_id(h, job_id)} CANCELLED" in error and "outside kakehashi" in error


def test_node_failure_requeues_once_and_bills_once(slurm: Cluster, harness: Harness) -> None:
    h = harness
    problem = tiny_problem(5, n=8)
    job_id = h.submit(problem, backend="tabu", time_limit=2.0, seed=5).json()["id"]
    try:
        with dispatchers(h.config, h.db):
            wait_for(lambda: progress(h, job_id, "placed"), 30, "the batch job to run")
            first = slurm_id(h, job_id)
            slurm.run("scontrol", "update", f"NodeName={slurm.node}", "State=DOWN", "Reason=kakehashi-test")
            wait_for(lambda: events(h, job_id, "lost"), 30, "the attempt to be lost")
            # (ReturnToService=2 may have brought it back already: then RESUME is refused)
            slurm.run("scontrol", "update", f"NodeName={slurm.node}", "State=RESUME", check=False)
            wait_for(lambda: job_view(h, job_id)["status"] == "SUCCEEDED", 60, "attempt 2 to succeed", h)
    finally:
        slurm.run("scontrol", "update", f"NodeName={slurm.node}", "State=RESUME", check=False)
    assert scontrol_job(slurm, first)["JobState"] == "NODE_FAIL"
    (lost,) = events(h, job_id, "lost")
    assert lost["fault"] == "infrastructure" and "NODE_FAIL" in lost["reason"] and lost["executor"] == "slurm"
    job = jobs.get(h.db, h.project_a, job_id)
    assert (job.attempt, job.infra_losses, job.job_faults) == (2, 1, 0)
    second = slurm_id(h, job_id, attempt=2)
    assert second != first and results_per_job(h.db) == {job_id: 1}
    (row,) = ledger(h.db)  # only the attempt that finished is billed, from its Slurm record
    assert row.attempt == 2 and row.machine_seconds == run_seconds(scontrol_job(slurm, second))
    result = Result.from_dict(h.client.get(f"/v1/jobs/{job_id}/result", headers=h.h()).json())
    assert result.objective == pytest.approx(brute_force_min(problem))


def test_a_restarted_worker_reattaches_instead_of_submitting_again(slurm: Cluster, harness: Harness) -> None:
    h = harness
    problem = tiny_problem(6, n=8)
    job_id = h.submit(problem, backend="tabu", time_limit=2.0, seed=6).json()["id"]
    first = lease.claim(h.db, "worker-that-dies", h.config.lease_seconds)
    assert first is not None and first.job_id == job_id
    executor = SlurmExecutor(from_table(h.config.slurm))
    run = executor.start(first)
    wait_for(lambda: run.poll(0.2) is not None and run.started, 30, "the batch job to run")
    executor.shutdown()  # the worker dies: nothing cancels its batch job
    assert lease.lose(h.db, first, "test: the worker died", policy=h.config.loss_policy())
    with dispatchers(h.config, h.db):
        wait_for(lambda: job_view(h, job_id)["status"] == "SUCCEEDED", 60, "attempt 2 to succeed", h)
    assert slurm_jobs_named(slurm, f"kakehashi-{job_id}") == [run.slurm_job_id]  # submitted once
    (placed,) = progress(h, job_id, "placed")
    assert placed["attempt"] == 2 and placed["adopted"] and placed["slurm_job_id"] == run.slurm_job_id
    assert results_per_job(h.db) == {job_id: 1}
    (row,) = ledger(h.db)
    assert row.attempt == 2 and row.machine_seconds == run_seconds(scontrol_job(slurm, run.slurm_job_id))
    result = Result.from_dict(h.client.get(f"/v1/jobs/{job_id}/result", headers=h.h()).json())
    assert result.objective == pytest.approx(brute_force_min(problem))


def test_a_dead_controller_loses_the_attempt_and_the_next_one_reattaches(
    slurm: Cluster, tmp_path: Path
) -> None:
    """slurmctld stops mid-job: no claim meanwhile, the attempt is given up after
    ``controller_timeout_seconds`` (never a hang); once it is back the next attempt re-attaches
    to the batch job, which ran on."""
    h = make_harness(
        f"sqlite:///{tmp_path / 'kakehashi.db'}",
        executor="slurm",
        slurm=table(tmp_path, slurm, controller_timeout_seconds=2.0, command_timeout_seconds=2.0),
        lease_seconds=4.0,
        poll_seconds=0.05,
    )
    problem = tiny_problem(7, n=8)
    job_id = h.submit(problem, backend="tabu", time_limit=8.0, seed=7).json()["id"]
    try:
        with dispatchers(h.config, h.db) as (worker,):
            wait_for(lambda: progress(h, job_id, "placed"), 30, "the batch job to run")
            slurm.stop("slurmctld")
            wait_for(lambda: events(h, job_id, "lost"), 20, "the attempt to be given up")
            assert not worker.executor.ready()  # nothing is claimed while the controller is out
            slurm.start_ctld()
            wait_for(lambda: job_view(h, job_id)["status"] == "SUCCEEDED", 60, "the job to succeed", h)
    finally:
        if "slurmctld" not in slurm.started:
            slurm.start_ctld()
        h.client.close()
        h.db.dispose()
    (lost,) = events(h, job_id, "lost")
    assert "unreachable" in lost["reason"]
    placed = progress(h, job_id, "placed")
    assert [p["attempt"] for p in placed] == [1, 2] and placed[1].get("adopted")
    assert len({p["slurm_job_id"] for p in placed}) == 1  # one batch job, followed twice
    assert results_per_job(h.db) == {job_id: 1} and len(ledger(h.db)) == 1


@pytest.mark.parametrize("harness", [False, True], ids=["sbatch", "slurmrestd"], indirect=True)
def test_pool_shows_the_partitions_live_state(slurm: Cluster, harness: Harness, tmp_path: Path) -> None:
    """``GET /v1/pool`` (``kakehashi pool``) with the slurm executor: the partition's nodes and queue."""
    h = harness
    idle = h.client.get("/v1/pool", headers=h.h()).json()["slurm"]
    assert idle["nodes"] == {"idle": 1, "allocated": 0, "mixed": 0, "down": 0}, idle
    assert (idle["pending"], idle["running"]) == (0, 0)
    ids = [  # the centre's other users: one job holds the qpu, one waits for it
        slurm.run(
            "sbatch",
            "--parsable",
            "--gres=qpu:1",
            f"--chdir={tmp_path}",
            "--output=/dev/null",
            "--wrap",
            "sleep 30",
        ).strip()
        for _ in range(2)
    ]
    try:
        wait_for(lambda: "R" in slurm.run("squeue", "-h", "-o", "%t", "-j", ids[0]), 20, "the first to run")
        busy = h.client.get("/v1/pool", headers=h.h()).json()["slurm"]
        assert busy["nodes"]["mixed"] + busy["nodes"]["allocated"] == 1, busy
        assert (busy["pending"], busy["running"], busy["kakehashi_pending"], busy["kakehashi_running"]) == (
            1,
            1,
            0,
            0,
        )
    finally:
        slurm.run("scancel", *ids)
