"""Prometheus metrics computed from the database at scrape time.

Nothing is counted in process memory, so the numbers are right however many API and worker
processes run (and survive their restarts): gauges are ``COUNT(*)`` queries over jobs and
workers, counters are sums over the ledger and the job table.

Exposed:
    kakehashi_jobs{status}                          gauge: jobs in each state
    kakehashi_queue_length                          gauge: QUEUED jobs
    kakehashi_queue_oldest_age_seconds              gauge: age of the oldest QUEUED job (s)
    kakehashi_workers_alive                         gauge: workers seen in the last 30 s
    kakehashi_run_seconds_total{backend,hardware}   counter: metered machine-seconds
    kakehashi_runs_total{backend,hardware}          counter: metered runs
    kakehashi_cost_yen_total{backend,hardware}      counter: metered cost (yen)
    kakehashi_jobs_finished_total{status}           counter: jobs that reached a terminal state
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from kakehashi.service.jobs import TERMINAL, JobStatus
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Job, LedgerEntry, WorkerRecord

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseCollector(Collector):
    """Reads every metric from the database when Prometheus scrapes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        with self.db.read() as s:
            by_status = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
            oldest = s.execute(
                select(func.min(Job.created_at)).where(Job.status == JobStatus.QUEUED.value)
            ).scalar()
            ledger = s.execute(
                select(
                    LedgerEntry.backend,
                    LedgerEntry.hardware,
                    func.sum(LedgerEntry.machine_seconds),
                    func.count(),
                    func.sum(LedgerEntry.cost_yen),
                ).group_by(LedgerEntry.backend, LedgerEntry.hardware)
            ).all()
            alive = s.execute(
                select(func.count())
                .select_from(WorkerRecord)
                .where(WorkerRecord.stopped_at.is_(None), WorkerRecord.last_seen > now - 30.0)
            ).scalar()
        jobs = GaugeMetricFamily("kakehashi_jobs", "Jobs in each state.", labels=["status"])
        for status in JobStatus:
            jobs.add_metric([status.value], float(by_status.get(status.value, 0)))
        yield jobs
        yield GaugeMetricFamily(
            "kakehashi_queue_length",
            "Jobs waiting to run.",
            value=float(by_status.get(JobStatus.QUEUED.value, 0)),
        )
        yield GaugeMetricFamily(
            "kakehashi_queue_oldest_age_seconds",
            "Age of the oldest queued job (s).",
            value=0.0 if oldest is None else max(0.0, now - float(oldest)),
        )
        yield GaugeMetricFamily(
            "kakehashi_workers_alive", "Workers seen in the last 30 s.", value=float(alive or 0)
        )
        seconds = CounterMetricFamily(
            "kakehashi_run_seconds", "Metered machine-seconds.", labels=["backend", "hardware"]
        )
        runs = CounterMetricFamily("kakehashi_runs", "Metered runs.", labels=["backend", "hardware"])
        cost = CounterMetricFamily(
            "kakehashi_cost_yen", "Metered cost in yen.", labels=["backend", "hardware"]
        )
        for backend, hardware, secs, count, yen in ledger:
            seconds.add_metric([backend, hardware], float(secs or 0.0))
            runs.add_metric([backend, hardware], float(count))
            cost.add_metric([backend, hardware], float(yen or 0.0))
        yield seconds
        yield runs
        yield cost
        finished = CounterMetricFamily(
            "kakehashi_jobs_finished", "Jobs that reached a terminal state.", labels=["status"]
        )
        for status in sorted(TERMINAL):
            finished.add_metric([status.value], float(by_status.get(status.value, 0)))
        yield finished


def render(db: Database) -> bytes:
    """The Prometheus text exposition of every metric, read from ``db`` now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(db))
    return generate_latest(registry)
