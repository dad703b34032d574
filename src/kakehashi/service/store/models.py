"""The service's tables (SQLAlchemy 2 declarative models). Times are UNIX epoch seconds (float).

Epoch floats keep lease arithmetic and ordering identical on SQLite and PostgreSQL. The schema is
created and changed only by the Alembic migrations in ``kakehashi/service/migrations``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every service table."""


class Project(Base):
    """A tenant: every job, token and ledger row belongs to exactly one project."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    #: terms set by the admin (None: the pool file's terms, else commercial / 1 share / tier discount)
    tier: Mapped[str | None] = mapped_column(String(20), nullable=True)
    discount: Mapped[float | None] = mapped_column(Float, nullable=True)
    shares: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: the project's problem data stays on this site: never forwarded to a peer (migration 0004)
    data_stays: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """An API token: only its sha256 is stored; ``revoked_at`` set means it no longer works."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: ``full``, or ``peer``: a peer site's token, which may only submit jobs and read the jobs it
    #: submitted (migration 0004)
    scope: Mapped[str] = mapped_column(String(16), default="full")


class Job(Base):
    """A job: one problem to solve, its state machine, its lease and its attempt count.

    ``seq`` is the internal insertion order (claim order and list cursor); ``id`` is public.
    ``(project_id, idempotency_key)`` is unique so concurrent retries create one job.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("project_id", "idempotency_key", name="uq_jobs_project_idempotency"),
        Index("ix_jobs_claim", "status", "priority", "seq"),
        Index("ix_jobs_project_seq", "project_id", "seq"),
        Index("ix_jobs_lease", "status", "lease_expires_at"),
        Index("ix_jobs_project_status", "project_id", "status"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    status: Mapped[str] = mapped_column(String(16))
    backend: Mapped[str] = mapped_column(String(100))
    time_limit: Mapped[float] = mapped_column(Float)
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    problem_json: Mapped[str] = mapped_column(Text)
    problem_name: Mapped[str] = mapped_column(String(200), default="")
    num_variables: Mapped[int] = mapped_column(Integer, default=0)
    num_constraints: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)
    # scheduling (migration 0002): allowed alternative backends, deadline (UNIX s), cost cap (yen),
    # the quota hold (estimated cost, counted as pending until the job ends), the placement of its
    # legs on machines while it runs, and why it waits.
    alternatives_json: Mapped[str] = mapped_column(Text, default="[]")
    deadline: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_cap_yen: Mapped[float | None] = mapped_column(Float, nullable=True)
    hold_yen: Mapped[float] = mapped_column(Float, default=0.0)
    hold_machine_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    placement_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    wait_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # infrastructure losses (migration 0003): ``attempt`` counts every claim (the fencing token);
    # ``job_faults`` the attempts the job's own solve crashed (bounded by ``max_attempts``);
    # ``infra_losses`` the attempts lost with their worker, node or service (bounded separately);
    # ``suspect_workers_json`` the workers that died alone while running it (poison detection);
    # ``not_before`` (UNIX s) the back-off after a loss: the job is not claimed earlier.
    infra_losses: Mapped[int] = mapped_column(Integer, default=0)
    job_faults: Mapped[int] = mapped_column(Integer, default=0)
    suspect_workers_json: Mapped[str] = mapped_column(Text, default="[]")
    not_before: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: the token that submitted it (migration 0004; a peer token reads only its own jobs)
    token_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class JobResult(Base):
    """The one result of a job (primary key ``job_id``: a job can never hold two results)."""

    __tablename__ = "job_results"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer)
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class JobEvent(Base):
    """An event in a job's life (state changes, progress), streamed by ``/v1/jobs/{id}/events``."""

    __tablename__ = "job_events"
    __table_args__ = (Index("ix_job_events_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(32))
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[float] = mapped_column(Float)


class LedgerEntry(Base):
    """One metered run: machine-seconds × unit price (yen/s) of the backend's hardware kind.

    ``(job_id, attempt)`` is unique: a run is billed at most once.
    """

    __tablename__ = "ledger"
    __table_args__ = (
        UniqueConstraint("job_id", "attempt", name="uq_ledger_job_attempt"),
        Index("ix_ledger_project_time", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    job_id: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer)
    backend: Mapped[str] = mapped_column(String(100))
    hardware: Mapped[str] = mapped_column(String(32))
    machine_seconds: Mapped[float] = mapped_column(Float)
    unit_price_yen: Mapped[float] = mapped_column(Float)
    #: what the project pays: ``list_yen × (1 − discount_rate)`` (yen)
    cost_yen: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    list_yen: Mapped[float] = mapped_column(Float, default=0.0)
    discount_rate: Mapped[float] = mapped_column(Float, default=0.0)
    discount_yen: Mapped[float] = mapped_column(Float, default=0.0)
    machine: Mapped[str | None] = mapped_column(String(100), nullable=True)


class WorkerRecord(Base):
    """A worker process and when it was last seen (for the pool view, metrics and dead-worker
    detection). Its identity is ``host`` + ``boot_id`` (the kernel's id of this boot) + ``pid``."""

    __tablename__ = "workers"
    __table_args__ = (Index("ix_workers_host", "host", "stopped_at"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
    stopped_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    boot_id: Mapped[str] = mapped_column(String(64), default="")


class ProjectQuota(Base):
    """A project's hard cap per period (``unit``: yen charged after discount, or machine-seconds).

    Submissions lock this row (``SELECT ... FOR UPDATE`` on PostgreSQL) so concurrent ones
    cannot overspend.
    """

    __tablename__ = "project_quotas"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    limit: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[float] = mapped_column(Float)


class MachineState(Base):
    """The operator's live override of a pool machine: marked down (or back up) with a reason."""

    __tablename__ = "machine_states"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    up: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[float] = mapped_column(Float)


class PriceOverride(Base):
    """A unit price (yen per machine-second) set by the admin for a machine name or hardware kind."""

    __tablename__ = "price_overrides"

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    price_yen_per_second: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class AuditEntry(Base):
    """One change of a quota, price, tier or machine state: who, when, what, old → new, why."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(100))
    old_json: Mapped[str] = mapped_column(Text)
    new_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")


class Peer(Base):
    """A peer kakehashi site registered by the admin (migration 0004).

    Its token is never stored in clear: either ``token_env`` names an environment variable of the
    service that holds it, or ``token_cipher`` is the token encrypted (Fernet) with the service's
    ``peer_key``. ``offers_json`` is the list of :class:`~kakehashi.pool.config.PeerOffer`.
    """

    __tablename__ = "peers"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    token_env: Mapped[str | None] = mapped_column(String(100), nullable=True)
    token_cipher: Mapped[str | None] = mapped_column(Text, nullable=True)
    offers_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class PeerState(Base):
    """What this site last saw of a peer: reachable or not (and why), its ``/v1/pool`` then."""

    __tablename__ = "peer_states"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    reachable: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str] = mapped_column(Text, default="")
    remote_json: Mapped[str] = mapped_column(Text, default="{}")
    checked_at: Mapped[float] = mapped_column(Float)


class Forward(Base):
    """One attempt of a local job submitted to a peer: the peer's job id and the idempotency key."""

    __tablename__ = "forwards"
    __table_args__ = (Index("ix_forwards_peer_time", "peer", "created_at"),)

    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer: Mapped[str] = mapped_column(String(100))
    machine: Mapped[str] = mapped_column(String(100), default="")
    remote_job_id: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)


class WebSession(Base):
    """A signed-in dashboard browser. The cookie holds a random secret; only its sha256 is stored.

    ``project_id`` is the project whose token signed in (None for an admin session);
    ``csrf_token`` is what every form of this session must send back; ``expires_at`` (UNIX s)
    ends the session whatever happens.
    """

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_expires", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id"), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class BenchmarkResult(Base):
    """A stored ``kakehashi bench run`` result document of one project (``result_json``, verbatim).

    ``seq`` is the insertion order (list order); ``id`` is public. ``machine_kinds`` is the
    comma-separated set of the runs' machine kinds; ``via_service`` is true when the runs were
    made through a kakehashi service (``kakehashi bench run --url``).
    """

    __tablename__ = "benchmark_results"
    __table_args__ = (Index("ix_benchmark_results_project_suite", "project_id", "suite", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    suite: Mapped[str] = mapped_column(String(100))
    problem_class: Mapped[str] = mapped_column(String(100), default="")
    sense: Mapped[str] = mapped_column(String(3))
    kakehashi_version: Mapped[str] = mapped_column(String(64), default="")
    git_commit: Mapped[str] = mapped_column(String(64), default="")
    machine_kinds: Mapped[str] = mapped_column(String(200), default="")
    via_service: Mapped[bool] = mapped_column(Boolean, default=False)
    runs: Mapped[int] = mapped_column(Integer)
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class BenchmarkEntry(Base):
    """One (backend, machine kind) row of a stored result (:func:`kakehashi.bench.record.entries`)."""

    __tablename__ = "benchmark_entries"
    __table_args__ = (Index("ix_benchmark_entries_board", "project_id", "suite", "backend", "machine_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    result_id: Mapped[str] = mapped_column(ForeignKey("benchmark_results.id"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    suite: Mapped[str] = mapped_column(String(100))
    backend: Mapped[str] = mapped_column(String(100))
    machine_kind: Mapped[str] = mapped_column(String(40))
    runs: Mapped[int] = mapped_column(Integer)
    instances: Mapped[int] = mapped_column(Integer)
    feasible_rate: Mapped[float] = mapped_column(Float)
    success_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    median_gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    machine_seconds: Mapped[float] = mapped_column(Float)
    cost_yen: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
