"""Service benchmark: submit-to-result latency, sustained submissions/s, overhead for a 1 s solve.

Starts the real service (uvicorn + worker processes, embedded SQLite or ``--database-url``) on
this machine and measures through the SDK:

1. latency: submit a trivial job (6-variable BQM, backend ``exact``) and wait for its Result,
   one at a time; p50 and p99 in milliseconds;
2. throughput: submissions per second accepted (201, committed) by the API from 8 client threads
   for ``--seconds`` seconds, no workers running;
3. overhead: wall time from submit to Result for a 1 s solve (backend ``sa``, time_limit 1 s,
   30 variables) against calling ``kakehashi.solve()`` directly; median of ``--repeats`` each.

Writes ``benchmarks/results/service.md`` and ``service.json``. Run: ``python benchmarks/service.py``.
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
from importlib.metadata import version
from pathlib import Path

import dimod
import httpx
import numpy as np

import kakehashi
from kakehashi.client import Client
from kakehashi.model.problem import Problem
from kakehashi.service.config import ServiceConfig
from kakehashi.service.testing import LiveService

RESULTS = Path(__file__).resolve().parent / "results"


def bqm_problem(n: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    linear = {i: float(rng.normal()) for i in range(n)}
    quadratic = {(i, j): float(rng.normal()) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.5}
    return Problem(dimod.BinaryQuadraticModel(linear, quadratic, 0.0, "BINARY"), name=f"bqm{n}_{seed}")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure_latency(svc: LiveService, token: str, n: int) -> dict[str, float]:
    problem = bqm_problem(6, 0)
    times: list[float] = []
    with Client(svc.url, token) as client:
        for i in range(n + 5):
            t0 = time.perf_counter()
            job = client.submit(problem, backend="exact", time_limit=1.0, seed=i)
            client.result(job.id, timeout=60)
            if i >= 5:  # warm-up: first child start, connection set-up
                times.append(1000 * (time.perf_counter() - t0))
    return {
        "n": n,
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
        "mean_ms": statistics.mean(times),
    }


def measure_throughput(svc: LiveService, token: str, seconds: float, threads: int = 8) -> dict[str, float]:
    body = {"problem": bqm_problem(6, 1).to_dict(), "backend": "exact", "time_limit": 1.0}
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def run(k: int) -> None:
        with httpx.Client(base_url=svc.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            while time.monotonic() < stop:
                r = http.post("/v1/jobs", json=body)
                if r.status_code == 201:
                    counts[k] += 1

    t0 = time.monotonic()
    pool = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - t0
    return {
        "threads": threads,
        "seconds": elapsed,
        "accepted": sum(counts),
        "per_second": sum(counts) / elapsed,
    }


def measure_overhead(svc: LiveService, token: str, repeats: int) -> dict[str, float]:
    problem = bqm_problem(30, 2)
    direct: list[float] = []
    service: list[float] = []
    kakehashi.solve(problem, backend="sa", time_limit=0.2, seed=0)  # warm imports
    with Client(svc.url, token) as client:
        client.result(
            client.submit(problem, backend="sa", time_limit=0.2, seed=0).id, timeout=60
        )  # warm child
        for i in range(repeats):  # interleave so both see the same machine load
            t0 = time.perf_counter()
            kakehashi.solve(problem, backend="sa", time_limit=1.0, seed=i)
            direct.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            client.result(client.submit(problem, backend="sa", time_limit=1.0, seed=i).id, timeout=60)
            service.append(time.perf_counter() - t0)
    d, s = statistics.median(direct), statistics.median(service)
    return {"repeats": repeats, "direct_s": d, "service_s": s, "overhead": (s - d) / d}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="kh-bench-")
    url = args.database_url or f"sqlite:///{tmp}/kh.db"
    config = ServiceConfig(database_url=url, lease_seconds=10.0, poll_seconds=0.01)
    out: dict[str, object] = {}
    with LiveService(url, workers=1, config=config) as svc:
        token = svc.token("bench")
        out["latency"] = measure_latency(svc, token, args.latency_jobs)
        out["overhead"] = measure_overhead(svc, token, args.repeats)
    with LiveService(
        f"sqlite:///{tmp}/kh2.db" if not args.database_url else url, workers=0, config=config
    ) as svc:
        out["throughput"] = measure_throughput(svc, svc.token("bench2"), args.seconds)
    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
        f"load avg {os.getloadavg()[0]:.1f}",
        "database": url.split(":", 1)[0],
        "versions": {p: version(p) for p in ("kakehashi", "fastapi", "uvicorn", "sqlalchemy", "httpx")},
        "python": platform.python_version(),
    }
    out["meta"] = meta
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "service.json").write_text(json.dumps(out, indent=2))
    lat, thr, ovh = out["latency"], out["throughput"], out["overhead"]
    assert isinstance(lat, dict) and isinstance(thr, dict) and isinstance(ovh, dict)
    md = f"""# Service benchmark

`{meta["command"]}` — {meta["date"]}, {meta["machine"]}, Python {meta["python"]}, database {meta["database"]},
versions {meta["versions"]}.

| measure | value |
|---|---|
| submit→result latency, trivial job, p50 | {lat["p50_ms"]:.1f} ms |
| submit→result latency, trivial job, p99 | {lat["p99_ms"]:.1f} ms |
| sustained submissions/s (API only, {thr["threads"]} client threads) | {thr["per_second"]:.1f} /s |
| 1 s solve: direct `solve()` (median of {ovh["repeats"]}) | {ovh["direct_s"]:.3f} s |
| 1 s solve: through the service, submit→result | {ovh["service_s"]:.3f} s |
| service overhead for a 1 s solve (target < 5%) | {100 * ovh["overhead"]:.1f} % |

Latency: {lat["n"]} jobs one after another (6-variable BQM, backend `exact`), after 5 warm-up jobs.
Throughput: each submission is committed (SQLite WAL, synchronous=FULL) before its 201.
Overhead: 30-variable BQM, backend `sa`, time_limit 1 s, direct and service runs interleaved.
Service config: 1 worker, worker idle poll 0.01 s (default 0.05 s), lease 10 s. Timings on a shared
machine are noisy: compare the two 1 s columns with each other, not across runs.
"""
    (RESULTS / "service.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
