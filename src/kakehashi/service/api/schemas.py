"""Request and response bodies of the HTTP API (pydantic models; they shape the OpenAPI spec)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kakehashi.service.jobs import JobStatus
from kakehashi.service.store.models import Job

MAX_SEED = 2**63 - 1


class SubmitRequest(BaseModel):
    """A job as JSON: a ``kakehashi.problem`` document (``Problem.to_dict()``) plus options."""

    model_config = ConfigDict(extra="forbid")

    problem: dict[str, Any] = Field(description="A kakehashi.problem document (Problem.to_dict()).")
    backend: str | list[str] = Field(
        "auto", description="'auto', a backend name, or a list of names to race.", min_length=1
    )
    time_limit: float = Field(10.0, gt=0, allow_inf_nan=False, description="Seconds per backend.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Random seed (None: nondeterministic).")
    priority: int = Field(0, ge=-1000, le=1000, description="Higher runs first.")
    params: dict[str, Any] = Field(default_factory=dict, description="Backend parameters.")


def _iso(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


class JobOut(BaseModel):
    """A job's state. Times are ISO 8601 (UTC); seconds are wall seconds."""

    id: str
    status: JobStatus
    backend: str
    time_limit: float
    seed: int | None
    priority: int
    problem_name: str
    num_variables: int
    num_constraints: int
    attempt: int
    max_attempts: int
    cancel_requested: bool
    idempotency_key: str | None
    error: str | None
    result_status: str | None
    objective: float | None
    run_seconds: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        created = _iso(job.created_at)
        assert created is not None
        objective = job.objective
        if objective is not None and objective != objective:  # NaN is not JSON
            objective = None
        return cls(
            id=job.id,
            status=JobStatus(job.status),
            backend=job.backend,
            time_limit=job.time_limit,
            seed=job.seed,
            priority=job.priority,
            problem_name=job.problem_name,
            num_variables=job.num_variables,
            num_constraints=job.num_constraints,
            attempt=job.attempt,
            max_attempts=job.max_attempts,
            cancel_requested=job.cancel_requested,
            idempotency_key=job.idempotency_key,
            error=job.error,
            result_status=job.result_status,
            objective=objective,
            run_seconds=job.run_seconds,
            created_at=created,
            started_at=_iso(job.started_at),
            finished_at=_iso(job.finished_at),
        )


class JobPage(BaseModel):
    """One page of jobs, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    jobs: list[JobOut]
    next_cursor: str | None


class UsageRowOut(BaseModel):
    period: str
    backend: str
    hardware: str
    runs: int
    machine_seconds: float
    cost_yen: float


class UsageOut(BaseModel):
    """A project's use and cost (yen) by period and backend."""

    project_id: str
    start: float | None
    end: float | None
    period: str
    currency: str
    total_cost_yen: float
    total_machine_seconds: float
    total_runs: int
    rows: list[UsageRowOut]


class ProjectOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field("", max_length=100)


class TokenOut(BaseModel):
    """A new token. ``token`` is shown here once and never again."""

    id: str
    project_id: str
    project: str
    token: str
    prefix: str


class PricesOut(BaseModel):
    currency: str
    unit: str
    prices: dict[str, float]


class WorkerOut(BaseModel):
    id: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    alive: bool


class Health(BaseModel):
    status: str
    revision: str | None = None
