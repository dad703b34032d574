"""Scheduler benchmark: a day of synthetic load over a pool with scarce QPU slots.

Run ``python benchmarks/scheduler.py`` (about half a minute). Writes ``benchmarks/results/scheduler.md``
(tables, the command, machine and versions), ``scheduler.csv`` (per policy and project) and
``scheduler_fairshare.csv`` (usage shares over time).

Method:
- Pool: ``examples/pool.toml`` (two 16-slot CPU nodes, one with a weekly maintenance window,
  a 4-slot GPU node, ONE quantum-annealer slot, ONE gate-model QPU slot, a 4-slot cloud service).
  Projects are given one-day quotas here so that they bind within the simulated day.
- Trace (seeded): Poisson arrivals per project over 24 h, a mix of CPU races, GPU jobs, QPU-anneal
  and QPU-gate jobs (some allow a CPU alternative), cloud jobs and portfolios racing a QPU leg with
  classical legs; user priorities, a few deadlines and cost caps. Each job's true run time is a
  uniform 30-100 % of its time limit (the scheduler only knows the limit).
- Admission (the service's quota check, :func:`kakehashi.pool.quota.check_quota`): at arrival
  the job's worst-case charge (cheapest placement × time limit × (1 − discount)) is held against
  the project's quota next to the ledger sum; at finish the hold is replaced by the actual charge.
- Policies, both on the SAME trace and admission: ``fairshare+EASY`` (multifactor priority with
  fair share, EASY backfilling — :func:`kakehashi.pool.scheduler.schedule`) and ``FCFS`` (submit
  order, no backfilling), simulated by :func:`kakehashi.pool.simulate.simulate`.
- Reported: utilisation per machine kind within the day (busy slot-seconds / slot-seconds),
  queue-wait percentiles per project (started jobs), rejections, makespan, fair-share
  convergence (decayed-usage shares vs normalised target shares, every 2 h), and a check that no
  project's charges exceeded its quota.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata as md
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kakehashi.backends.base import HardwareKind  # noqa: E402
from kakehashi.pool.config import PoolConfig, QuotaUnit, load_pool, parse_pool  # noqa: E402
from kakehashi.pool.fairshare import normalised_shares  # noqa: E402
from kakehashi.pool.quota import charge, check_quota  # noqa: E402
from kakehashi.pool.scheduler import JobRequest, LegRequest, Policy  # noqa: E402
from kakehashi.pool.simulate import JobRecord, SimOutcome, simulate  # noqa: E402

DAY = 86400.0
RESULTS = REPO / "benchmarks" / "results"

#: Day quotas for the benchmark (the example pool's are monthly).
PROJECTS: list[dict[str, Any]] = [
    {"name": "lab-quantum", "tier": "research", "shares": 3.0,
     "quota": {"limit": 1_500_000.0, "unit": "yen", "period": "day"}},
    {"name": "univ-course", "tier": "academic", "shares": 1.0,
     "quota": {"limit": 200_000.0, "unit": "machine-seconds", "period": "day"}},
    {"name": "recipe-contrib", "tier": "contributor", "shares": 2.0},
    {"name": "acme-corp", "tier": "commercial", "shares": 2.0,
     "quota": {"limit": 2_000_000.0, "unit": "yen", "period": "day"}},
]

#: Per project: arrivals per hour and the job mix (kind → weight) and user priority.
LOAD: dict[str, dict[str, Any]] = {
    "lab-quantum": {"rate": 40, "mix": {"cpu": 3, "gpu": 2, "anneal": 3, "gate": 2, "portfolio": 2}, "prio": 0},
    "univ-course": {"rate": 60, "mix": {"cpu": 6, "gpu": 1, "anneal": 1, "gate": 2}, "prio": -200},
    "recipe-contrib": {"rate": 35, "mix": {"cpu": 4, "gpu": 3, "anneal": 5, "cloud": 2}, "prio": 0},
    "acme-corp": {"rate": 35, "mix": {"cpu": 2, "anneal": 4, "gate": 2, "cloud": 2, "portfolio": 2}, "prio": 300},
}


def make_pool() -> PoolConfig:
    base = load_pool(REPO / "examples" / "pool.toml")
    data = base.model_dump(mode="json")
    data["projects"] = PROJECTS
    return parse_pool(data, source="benchmark pool")


def make_trace(seed: int) -> tuple[list[JobRequest], dict[str, float]]:
    """Seeded jobs over one day and their true run times (seconds)."""
    rng = np.random.default_rng(seed)
    jobs: list[JobRequest] = []
    actual: dict[str, float] = {}
    for project, spec in LOAD.items():
        kinds = list(spec["mix"])
        weights = np.array([spec["mix"][k] for k in kinds], dtype=float)
        t = 0.0
        k = 0
        peak = 1.6  # office hours (08-18 UTC) carry 1.6x the base rate, nights 0.5x (thinning)
        while True:
            t += rng.exponential(3600.0 / (spec["rate"] * peak))
            if t >= DAY:
                break
            hour = (t % 86400.0) / 3600.0
            if rng.random() > (1.0 if 8 <= hour < 18 else 0.5 / peak):
                continue
            kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
            deadline = cost_cap = None
            if kind == "cpu":
                legs = tuple(LegRequest((b,)) for b in rng.choice(["sa", "tabu", "highs", "scip"], rng.integers(1, 3), replace=False))
                limit = float(rng.choice([10, 30, 60, 300, 600]))
            elif kind == "gpu":
                gpu = HardwareKind.GPU
                legs = ((LegRequest(("sb",), gpu),) if rng.random() < 0.5
                        else (LegRequest(("sb",), gpu), LegRequest(("anneal",), gpu)))
                limit = float(rng.choice([60, 300, 900]))
            elif kind == "anneal":
                alt = ("sa",) if rng.random() < 0.3 else ()
                legs = (LegRequest(("dwave-qpu", *alt)),)
                limit = float(rng.choice([30, 60, 120, 240]))
            elif kind == "gate":
                legs = (LegRequest(("ibm",)),)
                limit = float(rng.choice([30, 120, 300]))
            elif kind == "cloud":
                legs = (LegRequest(("dwave-hybrid",)),)
                limit = float(rng.choice([5, 20, 60]))
            else:  # portfolio: a QPU leg raced against classical legs, all placed at once
                legs = (LegRequest(("dwave-qpu",)), LegRequest(("sb",), HardwareKind.GPU), LegRequest(("tabu",)))
                limit = float(rng.choice([30, 120]))
            if rng.random() < 0.05:
                deadline = t + limit * float(rng.uniform(1.5, 20.0))
            if kind in ("anneal", "gate") and rng.random() < 0.1:
                cost_cap = float(rng.choice([200.0, 2000.0]))
            jid = f"{project}-{k:04d}"
            k += 1
            jobs.append(JobRequest(jid, project, legs, t, limit, priority=int(spec["prio"]),
                                   deadline=deadline, cost_cap_yen=cost_cap))
            actual[jid] = limit * float(rng.uniform(0.3, 1.0))
    return jobs, actual


class Ledger:
    """Quota admission with holds, as the service does it (held worst case, then actual charge)."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.used: dict[str, float] = defaultdict(float)
        self.pending: dict[str, float] = defaultdict(float)
        self.holds: dict[str, float] = {}
        self.rejected: dict[str, int] = defaultdict(int)

    def _amount(self, job: JobRequest, machine_seconds: float, yen: float) -> float:
        quota = self.config.project(job.project).quota
        return machine_seconds if quota is not None and quota.unit is QuotaUnit.MACHINE_SECONDS else yen

    def worst_case(self, job: JobRequest) -> float:
        rate = self.config.discount_for(job.project)
        price = sum(min(m.price_yen_per_second for b in leg.backends for m in self.config.machines_for(b)) for leg in job.legs)
        return self._amount(job, job.run_time * len(job.legs), charge(job.run_time, price, rate).charged_yen)

    def admit(self, job: JobRequest, now: float) -> str | None:
        quota = self.config.project(job.project).quota
        amount = self.worst_case(job)
        decision = check_quota(quota, used=self.used[job.project], pending=self.pending[job.project], requested=amount)
        if not decision.accepted:
            self.rejected[job.project] += 1
            return f"quota: {decision.reason}"
        self.holds[job.id] = amount
        self.pending[job.project] += amount
        return None

    def finish(self, rec: JobRecord, now: float) -> None:
        job = rec.job
        run = (rec.end or now) - (rec.start or now)
        actual = self._amount(job, run * len(job.legs), rec.cost_yen)
        self.pending[job.project] -= self.holds.pop(job.id)
        self.used[job.project] += actual


def run_policy(config: PoolConfig, jobs: list[JobRequest], actual: dict[str, float], policy: Policy) -> tuple[SimOutcome, Ledger, float]:
    ledger = Ledger(config)
    t0 = time.perf_counter()
    out = simulate(config, jobs, policy=policy, actual_run_time=actual, admit=ledger.admit,
                   on_finish=ledger.finish, sample_every=2 * 3600.0)
    # jobs that were admitted but never ran (rejected by the scheduler) release their hold
    for rec in out.records.values():
        if rec.job.id in ledger.holds and rec.start is None:
            ledger.pending[rec.job.project] -= ledger.holds.pop(rec.job.id)
    return out, ledger, time.perf_counter() - t0


def utilisation(config: PoolConfig, out: SimOutcome) -> dict[str, float]:
    busy: dict[str, float] = defaultdict(float)
    for rec in out.records.values():
        if rec.start is None or rec.end is None:
            continue
        overlap = max(0.0, min(rec.end, DAY) - min(rec.start, DAY))
        for p in rec.placements:
            busy[config.machine(p.machine).kind.value] += overlap
    cap: dict[str, float] = defaultdict(float)
    for m in config.machines:
        cap[m.kind.value] += m.slots * DAY
    return {k: busy[k] / cap[k] for k in sorted(cap)}


def waits(out: SimOutcome) -> dict[str, dict[str, float]]:
    by: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rec in out.records.values():
        p = rec.job.project
        counts[p]["submitted"] += 1
        if rec.rejected is not None:
            counts[p]["quota" if rec.rejected.startswith("quota") else "rejected"] += 1
        elif rec.start is None:
            counts[p]["unfinished"] += 1
        else:
            by[p].append(rec.start - rec.job.submit_time)
    out_rows: dict[str, dict[str, float]] = {}
    for p in sorted(counts):
        w = np.array(by[p]) if by[p] else np.zeros(1)
        out_rows[p] = {
            "submitted": counts[p]["submitted"],
            "started": len(by[p]),
            "quota_rejected": counts[p]["quota"],
            "sched_rejected": counts[p]["rejected"],
            "p50_wait_s": float(np.percentile(w, 50)),
            "p90_wait_s": float(np.percentile(w, 90)),
            "p99_wait_s": float(np.percentile(w, 99)),
            "max_wait_s": float(w.max()),
        }
    return out_rows


def shares_over_time(config: PoolConfig, out: SimOutcome) -> list[dict[str, float]]:
    rows = []
    for t, use in out.usage_samples:
        total = sum(use.values())
        rows.append({"t_h": t / 3600.0, **{p.name: (use.get(p.name, 0.0) / total if total else 0.0) for p in config.projects}})
    return rows


def kind_shares(config: PoolConfig, out: SimOutcome, kind: str, window: float) -> list[dict[str, float]]:
    """Share of ``kind`` slot-seconds each project received per time window (within the day)."""
    rows = []
    for k in range(int(DAY // window)):
        a, b = k * window, (k + 1) * window
        got: dict[str, float] = defaultdict(float)
        for rec in out.records.values():
            if rec.start is None or rec.end is None:
                continue
            overlap = max(0.0, min(rec.end, b) - max(rec.start, a))
            for p in rec.placements:
                if config.machine(p.machine).kind.value == kind:
                    got[rec.job.project] += overlap
        total = sum(got.values())
        rows.append({"t_h": b / 3600.0, **{p.name: (got[p.name] / total if total else 0.0) for p in config.projects}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    config = make_pool()
    jobs, actual = make_trace(args.seed)
    targets = normalised_shares({p.name: p.shares for p in config.projects})
    policies = {"fairshare+EASY": Policy.from_config(config), "FCFS": Policy.first_come_first_served()}
    results: dict[str, Any] = {}
    for name, policy in policies.items():
        out, ledger, seconds = run_policy(config, jobs, actual, policy)
        over = {}
        for p in config.projects:
            if p.quota is not None:
                over[p.name] = (ledger.used[p.name], p.quota.limit, ledger.used[p.name] <= p.quota.limit + 1e-6)
        results[name] = {"out": out, "ledger": ledger, "seconds": seconds, "util": utilisation(config, out),
                         "waits": waits(out), "shares": shares_over_time(config, out), "quota": over,
                         "qpu": kind_shares(config, out, "qpu-anneal", 4 * 3600.0)}
        print(f"{name}: simulated {len(jobs)} jobs in {seconds:.1f} s", file=sys.stderr)
    write(config, jobs, targets, results, args.seed)


def fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def write(config: PoolConfig, jobs: list[JobRequest], targets: dict[str, float], results: dict[str, Any], seed: int) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    kinds = sorted({m.kind.value for m in config.machines})
    lines = [
        "# Scheduler benchmark: one simulated day over a pool with scarce QPU slots",
        "",
        f"Command: `python benchmarks/scheduler.py --seed {seed}`  ",
        f"Machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pydantic {md.version('pydantic')}, kakehashi {md.version('kakehashi')}  ",
        f"Trace: {len(jobs)} jobs from {len(config.projects)} projects over 24 h (seed {seed}); "
        "pool `examples/pool.toml` with one-day quotas (see the script's docstring for the method).",
        "",
        "## Utilisation per machine kind (busy slot-seconds / slot-seconds within the day)",
        "",
        "| policy | " + " | ".join(kinds) + " | makespan h | sim wall s |",
        "|---|" + "---|" * (len(kinds) + 2),
    ]
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{r['util'][k]:.1%}" for k in kinds)
                     + f" | {r['out'].end_time / 3600:.2f} | {r['seconds']:.1f} |")
    lines += ["", "## Queue wait per project (seconds, started jobs)", "",
              "| policy | project | tier | submitted | started | quota-rejected | sched-rejected | p50 | p90 | p99 | max |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    csv_rows = []
    for name, r in results.items():
        for p, w in r["waits"].items():
            tier = config.project(p).tier.value
            lines.append(f"| {name} | {p} | {tier} | {w['submitted']} | {w['started']} | {w['quota_rejected']} | "
                         f"{w['sched_rejected']} | {fmt(w['p50_wait_s'])} | {fmt(w['p90_wait_s'])} | "
                         f"{fmt(w['p99_wait_s'])} | {fmt(w['max_wait_s'])} |")
            csv_rows.append({"policy": name, "project": p, "tier": tier, **w})
    lines += ["", "## Fair-share convergence: decayed-usage share per project vs target share", "",
              "| policy | time h | " + " | ".join(f"{p} (target {targets[p]:.2f})" for p in targets) + " | L1 distance |",
              "|---|---|" + "---|" * (len(targets) + 1)]
    fs_rows = []
    for name, r in results.items():
        for row in r["shares"]:
            l1 = sum(abs(row[p] - targets[p]) for p in targets)
            lines.append(f"| {name} | {row['t_h']:.0f} | " + " | ".join(f"{row[p]:.3f}" for p in targets) + f" | {l1:.3f} |")
            fs_rows.append({"policy": name, **row, "l1": l1})
    lines += ["", "## The scarce resource: QPU-anneal time share per project per 4 h window vs target share", "",
              "| policy | window ends h | " + " | ".join(f"{p} (target {targets[p]:.2f})" for p in targets)
              + " | L1 distance |", "|---|---|" + "---|" * (len(targets) + 1)]
    for name, r in results.items():
        for row in r["qpu"]:
            l1 = sum(abs(row[p] - targets[p]) for p in targets)
            lines.append(f"| {name} | {row['t_h']:.0f} | " + " | ".join(f"{row[p]:.3f}" for p in targets) + f" | {l1:.3f} |")
    lines += ["", "## Quotas (charges within the day vs limit)", "", "| policy | project | charged | limit | within |",
              "|---|---|---|---|---|"]
    for name, r in results.items():
        for p, (used, limit, ok) in r["quota"].items():
            unit = config.project(p).quota.unit.value  # type: ignore[union-attr]
            lines.append(f"| {name} | {p} | {fmt(used)} {unit} | {fmt(limit)} {unit} | {'yes' if ok else 'NO'} |")
    lines += ["", "Notes: decayed-usage shares are of list-price yen over ALL machines; fair share only reorders",
              "jobs competing for the same busy machines (the scheduler is work-conserving), so a project can stay",
              "above its share on machines nobody else wants. The QPU-anneal table shows the contended resource.",
              "A project's share can also stay below target when it lacks demand or hits its quota.",
              "FCFS here is strict (no backfilling): a queued QPU job at the head blocks every later job.", ""]
    (RESULTS / "scheduler.md").write_text("\n".join(lines))
    with (RESULTS / "scheduler.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(csv_rows[0]))
        writer.writeheader()
        writer.writerows(csv_rows)
    with (RESULTS / "scheduler_fairshare.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fs_rows[0]))
        writer.writeheader()
        writer.writerows(fs_rows)
    print("\n".join(lines))
    bad = [(n, p) for n, r in results.items() for p, (_, _, ok) in r["quota"].items() if not ok]
    if bad:
        raise SystemExit(f"quota exceeded: {bad}")


if __name__ == "__main__":
    main()
