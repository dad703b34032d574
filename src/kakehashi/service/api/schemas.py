"""Request and response bodies of the HTTP API (pydantic models; they shape the OpenAPI spec)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from kakehashi.service.api.problem_schema import problem_document_schema
from kakehashi.service.jobs import JobStatus
from kakehashi.service.store.models import Job

MAX_SEED = 2**63 - 1
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_datetime(value: Any) -> Any:
    """Only what the schema promises (RFC 3339 date-time text): pydantic alone also takes
    ``0.5`` or ``1700000000`` as UNIX times."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ValueError("expected an ISO 8601 date-time such as 2026-12-03T12:00:00Z")
    return value


#: A ``kakehashi.problem`` document; the OpenAPI schema is
#: :func:`kakehashi.service.api.problem_schema.problem_document_schema`.
ProblemDocument = Annotated[
    dict[str, Any],
    WithJsonSchema(problem_document_schema()),
]

#: A date-time given as ISO 8601 text (``format: date-time``), never a number.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


class JobOptions(BaseModel):
    """How a job runs: backend, time limit, seed, priority, parameters, deadline and cost cap."""

    model_config = ConfigDict(extra="forbid")

    backend: str | list[str] = Field(
        "auto", description="'auto', a backend name, or a list of names to race.", min_length=1
    )
    time_limit: float = Field(10.0, gt=0, allow_inf_nan=False, strict=True, description="Seconds per backend.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, strict=True, description="Random seed (None: nondeterministic).")
    priority: int = Field(0, ge=-1000, le=1000, strict=True, description="Higher runs first.")
    params: dict[str, Any] = Field(default_factory=dict, description="Backend parameters.")
    alternatives: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Backends allowed in place of the asked ones when their machines are down, in order.",
    )
    deadline: IsoDateTime | None = Field(
        None, description="ISO 8601 time the job must finish by; 422 when it cannot, even started now."
    )
    cost_cap_yen: float | None = Field(
        None,
        strict=True,
        ge=0,
        le=1e12,
        allow_inf_nan=False,
        description="The most the job may cost after discount (yen).",
    )


class SubmitRequest(JobOptions):
    """A job as JSON: a ``kakehashi.problem`` document (``Problem.to_dict()``) plus options."""

    problem: ProblemDocument = Field(description="A kakehashi.problem document (Problem.to_dict()).")


class DomainSubmitRequest(JobOptions):
    """A job as an app's domain input: the service reads it with the app's own reader and rules,
    builds the app's Problem and keeps what ``GET /v1/jobs/{id}/answer`` needs to interpret the result.

    ``input`` is the instance as JSON (routing: a RoutingInstance; portfolio: a PortfolioInstance;
    unit-commitment: the UC JSON) or the file's text with ``format`` (routing: tsp, vrp, csv;
    portfolio: csv, orlib; unit-commitment: json). Options: routing ``capacity``, ``num_vehicles``;
    portfolio ``k``, ``min_weight``, ``max_weight``, ``lambda``. Backends: routing ``pyvrp``, ``lkh``,
    ``ortools-routing``; portfolio ``scip``, ``highs``; unit-commitment ``highs``, ``scip`` (``auto``
    picks the first that fits).
    """

    app: Literal["routing", "portfolio", "unit-commitment"] = Field(
        description="The app whose input this is."
    )
    input: dict[str, Any] | str = Field(description="The domain input: a JSON object, or a file's text.")
    format: str | None = Field(
        None, max_length=16, description="Format of a text input (tsp, vrp, csv, orlib, json)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="The app's options (e.g. k, lambda, capacity)."
    )
    name: str | None = Field(None, max_length=200, description="Job/problem name.")


class DomainAnswer(BaseModel):
    """A domain job's answer: the app's interpretation of the Result and its own validation."""

    app: str
    status: str = Field(description="The Result's status.")
    backend: str
    cost: float | None = Field(description="Cost in the app's units (see unit).")
    unit: str
    valid: bool = Field(description="True when the app's validate() found no broken rule.")
    violations: list[str]
    answer: dict[str, Any] | None = Field(description="Routes / weights / schedule, as the app reports them.")


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
    alternatives: list[str] = Field(default_factory=list)
    deadline: datetime | None = None
    cost_cap_yen: float | None = None
    hold_yen: float = 0.0
    hold_machine_seconds: float = 0.0
    placement: list[dict[str, Any]] | None = None
    #: why a QUEUED job waits (the scheduler's reason, or its executor's: "Slurm PENDING (Resources)")
    wait_reason: str | None = None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        created = _iso(job.created_at)
        assert created is not None
        objective = job.objective
        if objective is not None and objective != objective:  # NaN is not JSON
            objective = None
        return cls(
            id=job.id,
            status=_shown_status(job),
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
            alternatives=json.loads(job.alternatives_json or "[]"),
            deadline=_iso(job.deadline),
            cost_cap_yen=job.cost_cap_yen,
            hold_yen=job.hold_yen or 0.0,
            hold_machine_seconds=job.hold_machine_seconds or 0.0,
            placement=json.loads(job.placement_json) if job.placement_json else None,
            wait_reason=job.wait_reason,
        )


def _shown_status(job: Job) -> JobStatus:
    """The status users see: a claimed job its executor still queues (a Slurm batch job PENDING,
    ``wait_reason`` set by :func:`kakehashi.service.lease.mark_waiting`) is QUEUED."""
    status = JobStatus(job.status)
    if status is JobStatus.RUNNING and job.wait_reason:
        return JobStatus.QUEUED
    return status


class JobPage(BaseModel):
    """One page of jobs, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    jobs: list[JobOut]
    next_cursor: str | None


class UsageRowOut(BaseModel):
    """``cost_yen`` is what was charged: ``list_cost_yen − discount_yen``."""

    period: str
    backend: str
    hardware: str
    runs: int
    machine_seconds: float
    cost_yen: float
    list_cost_yen: float = 0.0
    discount_yen: float = 0.0


class QuotaStatusOut(BaseModel):
    """A quota with what the period used, what unfinished jobs hold, and what remains."""

    unit: str
    period: str
    limit: float | None
    used: float
    pending: float
    remaining: float | None


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
    total_list_cost_yen: float = 0.0
    total_discount_yen: float = 0.0
    tier: str | None = None
    discount_rate: float | None = None
    quota: QuotaStatusOut | None = None


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
    overrides: dict[str, float] = Field(default_factory=dict)


class QuotaSet(BaseModel):
    """A project's hard cap per period; ``limit`` null removes it."""

    model_config = ConfigDict(extra="forbid")

    limit: float | None = Field(
        ..., strict=True, ge=0, le=1e12, allow_inf_nan=False, description="Yen or machine-seconds."
    )
    unit: Literal["yen", "machine-seconds"] = "yen"
    period: Literal["day", "week", "month", "all"] = "month"
    reason: str = Field("", max_length=500)


class TermsSet(BaseModel):
    """Change a project's terms; only the fields sent change (null: back to the pool's default)."""

    model_config = ConfigDict(extra="forbid")

    tier: Literal["research", "academic", "contributor", "commercial"] | None = None
    discount: float | None = Field(None, strict=True, ge=0, lt=1, allow_inf_nan=False, description="Overrides the tier's.")
    shares: float | None = Field(None, strict=True, gt=0, le=1e6, allow_inf_nan=False, description="Fair-share weight.")
    reason: str = Field("", max_length=500)


class TermsOut(BaseModel):
    project: str
    tier: str
    discount_rate: float
    shares: float
    quota: QuotaStatusOut | None = None


class PriceSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_yen_per_second: float | None = Field(
        ..., strict=True, ge=0, le=1e9, allow_inf_nan=False, description="null removes the override."
    )
    reason: str = Field("", max_length=500)


class MachineStateSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500)


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    subject: str
    field: str
    old: Any = None
    new: Any = None
    reason: str


class EstimateRequest(BaseModel):
    """A problem to estimate (as in a submission) and the time limit it would run with."""

    model_config = ConfigDict(extra="forbid")

    problem: ProblemDocument = Field(description="A kakehashi.problem document (Problem.to_dict()).")
    time_limit: float = Field(10.0, gt=0, le=86400.0, allow_inf_nan=False, strict=True, description="Seconds per backend.")


class BackendEstimateOut(BaseModel):
    """Expected queue wait and run time (seconds) and cost (yen) on one backend of the pool."""

    backend: str
    eligible: bool
    reason: str
    machine: str | None
    kind: str | None
    queue_wait_s: float | None
    run_time_s: float | None
    total_s: float | None
    list_cost_yen: float | None
    discount_rate: float
    cost_yen: float | None
    expected_quality: float | None


class EstimateOut(BaseModel):
    problem: str
    project: str
    time_limit: float
    currency: str
    estimates: list[BackendEstimateOut]


class PoolMachineOut(BaseModel):
    name: str
    kind: str
    state: Literal["up", "down", "maintenance"]
    up: bool
    down_reason: str | None
    in_maintenance: bool
    slots: int
    busy: int
    free: int
    queued: int
    backends: list[str]
    price_yen_per_second: float
    qubits: int
    gpu_memory_gib: float
    remote: bool = Field(False, description="A peer site's machines, offered here (federation).")
    peer: str | None = Field(None, description="The peer site, for a remote machine.")
    remote_state: dict[str, Any] | None = Field(
        None, description="The peer's matching machines as its GET /v1/pool showed them, and when."
    )


class QueuedJobOut(BaseModel):
    id: str
    backend: str
    reason: str
    reserved_start_in_s: float | None


class PoolOut(BaseModel):
    """The pool now: machines with busy/free slots and queued jobs; your own queued jobs and why they wait."""

    machines: list[PoolMachineOut]
    queued: int
    running_legs: int
    down: list[str]
    default_pool: bool
    your_queued_jobs: list[QueuedJobOut]
    #: with the slurm executor: the partition's nodes by state and its queue, live from Slurm
    slurm: dict[str, Any] | None = None


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
