"""Submit benchmark: throughput and p50/p99 latency of 1,000 submits from 16 concurrent clients.

Starts the real API (uvicorn, no workers) on an embedded SQLite file and on a PostgreSQL cluster
of its own (``initdb`` in a temporary directory; skipped when the binaries are missing), then
16 threads POST ``/v1/jobs`` (each with its Idempotency-Key, a 6-variable BQM) until 1,000 jobs
are accepted. Latency is per request (seconds, client side, 201 only); throughput is accepted
submits per second of wall time. The machine's load average is recorded before and after.

Writes ``benchmarks/results/submit.md`` and ``submit.json``. Run (from the repository root):
``PYTHONPATH=src:. python benchmarks/submit.py [--jobs 1000] [--clients 16]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

import kakehashi
from kakehashi.service.config import ServiceConfig
from kakehashi.service.testing import LiveService

RESULTS = Path(__file__).resolve().parent / "results"


def _problem() -> dict[str, object]:
    import dimod

    from kakehashi.model.problem import Problem

    bqm = dimod.BinaryQuadraticModel(
        {i: float(i - 3) for i in range(6)}, {(0, 1): 2.0, (2, 3): -1.0}, 0.0, "BINARY"
    )
    return Problem(bqm, name="bench").to_dict()


def run(url: str, jobs: int, clients: int) -> dict[str, object]:
    config = ServiceConfig(database_url=url)
    body = {"problem": _problem(), "backend": "exact", "time_limit": 1.0}
    with LiveService(url, workers=0, config=config) as svc:
        token = svc.token("bench")
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        counter = iter(range(jobs))

        def client() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=svc.url, timeout=60.0) as http:
                while True:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    t0 = time.perf_counter()
                    r = http.post("/v1/jobs", json=body, headers={**headers, "Idempotency-Key": f"b{i}"})
                    dt = time.perf_counter() - t0
                    with lock:
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                        if r.status_code == 201:
                            latencies.append(dt)

        load_before = os.getloadavg()
        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        load_after = os.getloadavg()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {
        "database": url.split(":", 1)[0],
        "jobs": jobs,
        "clients": clients,
        "accepted": len(latencies),
        "statuses": statuses,
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(latencies) / wall, 1),
        "p50_s": round(q[49], 3),
        "p99_s": round(q[98], 3),
        "max_s": round(latencies[-1], 3),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(run(f"sqlite:///{tmp}/kh.db", args.jobs, args.clients))
    from tests.service.own_postgres import OwnPostgres, binaries

    bin_dir = binaries()
    if bin_dir is not None:
        pg = OwnPostgres(bin_dir)
        try:
            pg.start()
            rows.append(run(pg.url, args.jobs, args.clients))
        finally:
            pg.close()
    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, {platform.python_version()}",
        "kakehashi": kakehashi.__version__,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "submit.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [
        "# Submit latency and throughput (16 concurrent clients, 1,000 jobs, API only)",
        "",
        f"Command: `{meta['command']}` · {meta['when']} · {meta['machine']} · kakehashi {meta['kakehashi']}",
        "",
        "| database | accepted | wall s | submits/s | p50 s | p99 s | max s | load before → after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['database']} | {r['accepted']}/{r['jobs']} | {r['wall_s']} | {r['throughput_per_s']} | "
            f"{r['p50_s']} | {r['p99_s']} | {r['max_s']} | {r['loadavg_before']} → {r['loadavg_after']} |"
        )
    lines += ["", "Statuses: " + "; ".join(f"{r['database']}: {r['statuses']}" for r in rows), ""]
    (RESULTS / "submit.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
