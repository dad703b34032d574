"""Slurm through the service: 50 jobs from two projects, ``kakehashi serve``-style processes.

Starts a one-node Slurm 22.05 (``tests/hpc/cluster.py``; as root, Debian's packages) unless
``SLURM_CONF`` names a running one, then the real service (uvicorn + ``--workers`` worker
processes, embedded SQLite) with ``executor = "slurm"``. Two projects submit 25 jobs each
through the SDK (half a small LP on ``highs``, half a 12-variable QUBO on ``tabu``); while they
run, ``squeue`` is sampled. Checked at the end, and written to ``benchmarks/results/slurm.md``:

- every job SUCCEEDED exactly once (one result row each), the LP's objective equal to HiGHS's;
- every job passed through Slurm (its batch job seen in ``squeue`` PENDING or RUNNING);
- the ledger agrees with Slurm: each row's machine-seconds equal the batch job's
  ``end_time - start_time`` × allocated CPUs from ``squeue --json`` (Slurm's own record;
  this cluster has no accounting database, so not ``sacct``).

Run: ``PYTHONPATH=src python benchmarks/slurm_service.py [--jobs 50] [--workers 2] [--rest]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

import kakehashi  # noqa: E402
from kakehashi.client import Client  # noqa: E402
from kakehashi.model.readers.lp import reads  # noqa: E402
from kakehashi.service.config import ServiceConfig  # noqa: E402
from kakehashi.service.store.models import JobResult, LedgerEntry  # noqa: E402
from kakehashi.service.testing import LiveService  # noqa: E402

LP = "Maximize\n obj: 3 x + 2 y\nSubject To\n c1: x + y <= 4\n c2: x + 3 y <= 6\nBounds\n 0 <= x <= 3\nEnd\n"


def squeue_jobs() -> list[dict[str, object]]:
    out = subprocess.run(["squeue", "--json"], capture_output=True, text=True, timeout=30, check=True).stdout
    return list(json.loads(out)["jobs"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rest", action="store_true", help="submit through slurmrestd (JWT), not sbatch")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "slurm.md"))
    args = ap.parse_args()
    from sqlalchemy import func, select
    from tests.hpc.cluster import start

    tmp = Path(tempfile.mkdtemp(prefix="kh-slurm-bench-"))
    tmp.chmod(0o755)  # slurmrestd runs as nobody and reads the cluster directory
    cluster = None
    if not os.environ.get("SLURM_CONF"):
        cluster = start(tmp / "cluster")
        os.environ["SLURM_CONF"] = str(cluster.conf)
    slurm: dict[str, object] = {"workdir": str(tmp / "work"), "poll_seconds": 0.3}
    if args.rest:
        slurm["rest_url"] = cluster.rest_url if cluster else "http://127.0.0.1:6820"
    config = ServiceConfig(
        database_url=f"sqlite:///{tmp / 'kh.db'}",
        lease_seconds=6.0,
        poll_seconds=0.05,
        executor="slurm",
        slurm=slurm,
    )
    lp = reads(LP, name="small-lp")
    qubo = kakehashi.Problem.from_dict(json.loads(json.dumps(_qubo().to_dict())))
    seen: dict[str, set[str]] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                for j in squeue_jobs():
                    seen.setdefault(str(j["name"]), set()).add(str(j["job_state"]))
            except (subprocess.SubprocessError, ValueError, KeyError):
                pass
            stop.wait(0.3)

    try:
        with LiveService(
            config.database_url, workers=args.workers, config=config, log_path=str(tmp / "svc.log")
        ) as svc:
            clients = [Client(svc.url, svc.token(p)) for p in ("alpha", "beta")]
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            t0 = time.monotonic()
            submitted: list[tuple[Client, str, str, float]] = []
            for i in range(args.jobs):
                client = clients[i % 2]
                if i % 4 < 2:
                    job = client.submit(lp, backend="highs", time_limit=5.0, seed=i)
                    submitted.append((client, job.id, "lp", time.monotonic()))
                else:
                    job = client.submit(qubo, backend="tabu", time_limit=0.5, seed=i)
                    submitted.append((client, job.id, "qubo", time.monotonic()))
            latencies = []
            objectives: dict[str, set[float]] = {"lp": set(), "qubo": set()}
            for client, job_id, kind, at in submitted:
                result = client.result(job_id, wait=True, timeout=600)
                latencies.append(time.monotonic() - at)
                objectives[kind].add(float(result.objective or 0.0))
            wall = time.monotonic() - t0
            stop.set()
            sampler.join(timeout=5)
            statuses = {str(client.status(j).status) for client, j, _, _ in submitted}
            with svc.db.read() as s:
                results = dict(
                    s.execute(select(JobResult.job_id, func.count()).group_by(JobResult.job_id)).all()
                )
                rows = list(s.scalars(select(LedgerEntry)))
            records = {str(j["name"]): j for j in squeue_jobs()}
            for c in clients:
                c.close()
    finally:
        stop.set()
        if cluster is not None:
            cluster.stop()
    ids = [j for _, j, _, _ in submitted]
    passed = sum(1 for j in ids if seen.get(f"kakehashi-{j}", set()) & {"PENDING", "RUNNING"})
    mismatches = []
    for row in rows:
        rec = records[f"kakehashi-{row.job_id}"]
        slurm_seconds = (int(rec["end_time"]) - int(rec["start_time"])) * int(rec["cpus"])  # type: ignore[call-overload]
        if row.machine_seconds != slurm_seconds:
            mismatches.append((row.job_id, row.machine_seconds, slurm_seconds))
    ok = (
        statuses == {"SUCCEEDED"}
        and results == {j: 1 for j in ids}
        and len(rows) == len(ids)
        and not mismatches
        and objectives["lp"] == {11.0}
    )
    lines = [
        "# Slurm executor through the service",
        "",
        f"`PYTHONPATH=src python benchmarks/slurm_service.py --jobs {args.jobs} --workers {args.workers}"
        + (" --rest" if args.rest else "")
        + "`",
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, Slurm 22.05 one node, "
        f"controller {'slurmrestd' if args.rest else 'sbatch/squeue'})",
        "",
        "| measure | value |",
        "|---|---|",
        f"| jobs (two projects) | {len(ids)} |",
        f"| all SUCCEEDED once | {statuses == {'SUCCEEDED'} and results == {j: 1 for j in ids}} |",
        f"| seen in squeue PENDING/RUNNING | {passed} / {len(ids)} |",
        f"| LP objective (HiGHS's: 11.0) | {sorted(objectives['lp'])} |",
        f"| ledger rows equal to Slurm's elapsed × CPUs | {len(rows) - len(mismatches)} / {len(rows)} |",
        f"| ledger machine-seconds total | {sum(r.machine_seconds for r in rows):.0f} |",
        f"| wall time, submit of the first to the last result | {wall:.1f} s |",
        f"| jobs per minute | {60 * len(ids) / wall:.1f} |",
        f"| submit → result p50 / max | {statistics.median(latencies):.1f} s / {max(latencies):.1f} s |",
        "",
        "Slurm's elapsed times are whole seconds; each batch job starts a Python runner (about 1 s",
        "on this machine) before its solve, which is the price of running on the centre's nodes.",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)  # kept on failure: the service log and job directories
    print("\n".join(lines))
    if mismatches:
        print("mismatches:", mismatches[:10])
    raise SystemExit(0 if ok else 1)


def _qubo() -> kakehashi.Problem:
    import dimod
    import numpy as np

    rng = np.random.default_rng(3)
    n = 12
    bqm = dimod.BinaryQuadraticModel(
        {i: float(rng.integers(-5, 6)) for i in range(n)},
        {(i, j): float(rng.integers(-5, 6)) for i in range(n) for j in range(i + 1, n)},
        0.0,
        "BINARY",
    )
    return kakehashi.Problem(bqm, name="qubo12")


if __name__ == "__main__":
    main()
