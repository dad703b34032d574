"""Operator configuration of the platform service: from a TOML file, then environment variables.

Precedence (later wins): built-in defaults → the TOML file named by ``KAKEHASHI_CONFIG`` (or the
``path`` argument) → ``KAKEHASHI_*`` environment variables. Example TOML::

    database_url = "postgresql+psycopg://kakehashi@db/kakehashi"
    admin_token = "change-me"
    lease_seconds = 6.0      # a dead worker's job is re-queued within ~lease + lease/3 seconds
    heartbeat_seconds = 2.0
    max_attempts = 3         # attempts whose solve crashed (job faults)
    max_infra_losses = 20    # attempts lost with a worker, node or service
    poison_workers = 3
    [prices]            # yen per machine-second, per backend hardware kind
    cpu = 0.01
    gpu = 0.1
    "qpu-anneal" = 50.0
    executor = "ray"    # run jobs as Ray tasks (default "local": a solver child per worker)
    ray_address = "10.0.0.1:6379"
    [ray_resources]     # machine kind → Ray resources per job (default {"kakehashi-<kind>" = 1})
    gpu = {"kakehashi-gpu" = 1, GPU = 1}
    [slurm]             # with executor = "slurm": see kakehashi.service.executors.slurm.settings
    workdir = "/shared/kakehashi/slurm"
    partition = "batch"

Environment variables: ``KAKEHASHI_DATABASE_URL``, ``KAKEHASHI_HOME`` (where the embedded SQLite
database lives, default ``~/.kakehashi``), ``KAKEHASHI_ADMIN_TOKEN``, ``KAKEHASHI_LEASE_SECONDS``,
``KAKEHASHI_MAX_ATTEMPTS``, ``KAKEHASHI_HEARTBEAT_SECONDS``, ``KAKEHASHI_MAX_INFRA_LOSSES``,
``KAKEHASHI_INFRA_DEADLINE_SECONDS``, ``KAKEHASHI_POISON_WORKERS``,
``KAKEHASHI_REQUEUE_BACKOFF_SECONDS``, ``KAKEHASHI_DB_BACKOFF_CAP_SECONDS``,
``KAKEHASHI_SPOOL_DIR``, ``KAKEHASHI_PRICE_<KIND>`` (e.g. ``KAKEHASHI_PRICE_QPU_ANNEAL``),
``KAKEHASHI_MAX_BODY_BYTES``, ``KAKEHASHI_MAX_VARIABLES``, ``KAKEHASHI_MAX_CONSTRAINTS``,
``KAKEHASHI_POLL_SECONDS``, ``KAKEHASHI_LOG_LEVEL``, ``KAKEHASHI_EXECUTOR`` (``local`` | ``ray`` | ``slurm``),
``KAKEHASHI_RAY_ADDRESS``, ``KAKEHASHI_RAY_RESOURCES`` (JSON: kind → resources, merged per kind),
``KAKEHASHI_SLURM`` (JSON: the ``[slurm]`` table),
``KAKEHASHI_POOL`` (the pool file), ``KAKEHASHI_ROUTER_HISTORY`` (the learned router's history),
``KAKEHASHI_PEER_KEY`` (Fernet key of stored peer tokens), ``KAKEHASHI_PEER_GRACE_SECONDS``,
``KAKEHASHI_PEER_PROBE_SECONDS`` (federation, see docs/federation.md).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kakehashi.exceptions import KakehashiError

if TYPE_CHECKING:
    from kakehashi.service.lease import LossPolicy

#: Default unit prices in yen per machine-second, per hardware kind (operators override them).
DEFAULT_PRICES: dict[str, float] = {
    "cpu": 0.01,
    "gpu": 0.10,
    "qpu-anneal": 50.0,
    "qpu-gate": 100.0,
    "cloud": 1.0,
}

#: The executors a worker can use (see :mod:`kakehashi.service.executors`).
EXECUTORS = ("local", "ray", "slurm")


def default_ray_resources() -> dict[str, dict[str, float]]:
    """Ray resources per job of each machine kind: one unit of ``kakehashi-<kind>``."""
    return {kind: {f"kakehashi-{kind}": 1.0} for kind in DEFAULT_PRICES}


def _default_home() -> Path:
    return Path(os.environ.get("KAKEHASHI_HOME", str(Path.home() / ".kakehashi")))


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the API and the workers read from the operator.

    Attributes:
        database_url: SQLAlchemy URL; default an embedded SQLite file under ``KAKEHASHI_HOME``.
        admin_token: bearer token of the admin routes (``/v1/admin/...``); None disables them.
        prices: unit price in yen per machine-second, per hardware kind.
        lease_seconds: how long a claim lives without a heartbeat (seconds; default 6). A worker
            that dies is noticed when its lease runs out and a reaper (every worker, every
            ``min(lease_seconds / 3, 5)`` s) re-queues its job: within ``4/3 × lease_seconds``
            (8 s by default); at once when the dead worker's own host restarts a worker.
        heartbeat_seconds: how often a worker renews its lease (seconds; default
            ``lease_seconds / 3``).
        max_attempts: attempts per job whose solve crashed its solver or ran out of memory (the
            job's fault) before the job is failed.
        max_infra_losses: attempts per job lost with their worker, node or service (not the
            job's fault: re-queued with back-off) before the job is failed.
        infra_deadline_seconds: a job lost after this long since its submission fails (seconds).
        poison_workers: different workers that died alone while running a job before it is
            failed as a poison job.
        requeue_backoff_seconds: the back-off before a job lost twice is claimed again (seconds);
            doubling with every further loss, at most 60 s.
        db_backoff_cap_seconds: the longest wait between a worker's tries to reach the database
            in an outage (seconds; the waits start at 0.1 s and double).
        spool_dir: where workers keep results they could not write yet (default: next to an
            SQLite database file, else ``$KAKEHASHI_HOME/spool``).
        poll_seconds: how long an idle worker sleeps between claim attempts (seconds).
        max_body_bytes: the largest body of ``POST /v1/jobs`` and ``POST /v1/estimate`` (bytes),
            with or without a Content-Length → 413 beyond.
        max_admin_body_bytes: the largest body of every other route (admin included; bytes) → 413.
        max_json_depth: the deepest nesting of arrays/objects in a JSON body or field → 422.
        max_json_int_digits: the most digits of one integer in a JSON body or field → 422.
        max_variables: the largest problem accepted (variables) → 413 beyond.
        max_constraints: the most constraints accepted → 413 beyond.
        max_page_size: the largest ``limit`` on list routes → 422 beyond.
        max_time_limit: the longest solve a job may ask for (seconds).
        kill_grace_seconds: extra wall time past ``time_limit`` before a solve is killed (seconds).
        shutdown_grace_seconds: how long a stopping worker lets its current job finish (seconds).
        runner_command: the command a worker starts for its solver child process (argv); None
            runs ``python -m kakehashi.service.runner``. Tests point it at slow fakes.
        executor: where workers run jobs: ``local`` (a solver child process), ``ray`` or ``slurm``.
        ray_address: the Ray cluster of the ``ray`` executor (None: ``auto``).
        ray_resources: machine kind → Ray resources one job of that kind takes (``CPU``/``GPU``
            keys are Ray's built-in resources, the others custom ones).
        slurm: the ``[slurm]`` table of the ``slurm`` executor (checked when read, see
            :func:`kakehashi.service.executors.slurm.settings.from_table`).
        log_level: logging level name.
    """

    database_url: str = ""
    admin_token: str | None = None
    prices: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    lease_seconds: float = 6.0
    heartbeat_seconds: float = 0.0
    max_attempts: int = 3
    max_infra_losses: int = 20
    infra_deadline_seconds: float = 24 * 3600.0
    poison_workers: int = 3
    requeue_backoff_seconds: float = 1.0
    db_backoff_cap_seconds: float = 5.0
    spool_dir: str | None = None
    poll_seconds: float = 0.05
    max_body_bytes: int = 16 * 1024 * 1024
    max_admin_body_bytes: int = 64 * 1024
    max_json_depth: int = 64
    max_json_int_digits: int = 100
    max_variables: int = 200_000
    max_constraints: int = 200_000
    max_page_size: int = 500
    max_time_limit: float = 24 * 3600.0
    kill_grace_seconds: float = 30.0
    shutdown_grace_seconds: float = 10.0
    runner_command: tuple[str, ...] | None = None
    log_level: str = "INFO"
    executor: str = "local"
    ray_address: str | None = None
    ray_resources: dict[str, dict[str, float]] = field(default_factory=default_ray_resources)
    slurm: dict[str, Any] = field(default_factory=dict)
    #: the resource pool file (TOML/YAML, see kakehashi.pool.config); None: the local machine only
    pool_file: str | None = None
    #: JSON-lines history of ``auto`` races for the learned router; None: $KAKEHASHI_HOME/router-history.jsonl
    router_history: str | None = None
    #: Fernet key (urlsafe base64, 32 bytes) that encrypts peer tokens stored in the database
    #: (``kakehashi admin peer add --token-stdin``); None: peers' tokens only by environment variable
    peer_key: str | None = None
    #: how long a peer running a forwarded job may stay unreachable before the attempt is lost
    #: and the job re-placed (seconds)
    peer_grace_seconds: float = 30.0
    #: how often workers re-read each peer's ``/v1/pool`` (seconds); a peer found unreachable is
    #: down for the scheduler until a probe reaches it again
    peer_probe_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not self.database_url:
            home = _default_home()
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'kakehashi.db'}")
        if self.heartbeat_seconds <= 0:
            object.__setattr__(self, "heartbeat_seconds", max(0.05, self.lease_seconds / 3.0))
        if self.lease_seconds <= 0 or self.max_attempts < 1:
            raise KakehashiError("config: lease_seconds must be > 0 and max_attempts >= 1")
        if self.max_infra_losses < 1 or self.poison_workers < 1:
            raise KakehashiError("config: max_infra_losses and poison_workers must be >= 1")
        if self.executor not in EXECUTORS:
            raise KakehashiError(f"config: executor must be one of {EXECUTORS}, got {self.executor!r}")

    @property
    def reap_seconds(self) -> float:
        """How often each worker reaps expired leases (seconds)."""
        return min(self.lease_seconds / 3.0, 5.0)

    def loss_policy(self) -> LossPolicy:
        """The infrastructure-loss limits of :mod:`kakehashi.service.lease`."""
        from kakehashi.service.lease import LossPolicy

        return LossPolicy(
            max_infra_losses=self.max_infra_losses,
            deadline_seconds=self.infra_deadline_seconds,
            poison_workers=self.poison_workers,
            backoff_seconds=self.requeue_backoff_seconds,
            sibling_margin_seconds=max(self.heartbeat_seconds * 1.5, self.lease_seconds / 2.0),
        )

    def spool_path(self) -> Path:
        """The directory of the workers' result spool (see :mod:`kakehashi.service.spool`)."""
        if self.spool_dir:
            return Path(self.spool_dir)
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            db = Path(self.database_url.removeprefix("sqlite:///"))
            return db.with_name(db.name + ".spool")
        return _default_home() / "spool"

    def price(self, hardware: str) -> float:
        """Unit price in yen per machine-second for ``hardware`` (0 when not configured)."""
        return float(self.prices.get(hardware, 0.0))

    def with_overrides(self, **changes: Any) -> ServiceConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)


_ENV_FIELDS: dict[str, str] = {
    "KAKEHASHI_DATABASE_URL": "database_url",
    "KAKEHASHI_ADMIN_TOKEN": "admin_token",
    "KAKEHASHI_LEASE_SECONDS": "lease_seconds",
    "KAKEHASHI_HEARTBEAT_SECONDS": "heartbeat_seconds",
    "KAKEHASHI_MAX_ATTEMPTS": "max_attempts",
    "KAKEHASHI_MAX_INFRA_LOSSES": "max_infra_losses",
    "KAKEHASHI_INFRA_DEADLINE_SECONDS": "infra_deadline_seconds",
    "KAKEHASHI_POISON_WORKERS": "poison_workers",
    "KAKEHASHI_REQUEUE_BACKOFF_SECONDS": "requeue_backoff_seconds",
    "KAKEHASHI_DB_BACKOFF_CAP_SECONDS": "db_backoff_cap_seconds",
    "KAKEHASHI_SPOOL_DIR": "spool_dir",
    "KAKEHASHI_POLL_SECONDS": "poll_seconds",
    "KAKEHASHI_MAX_BODY_BYTES": "max_body_bytes",
    "KAKEHASHI_MAX_ADMIN_BODY_BYTES": "max_admin_body_bytes",
    "KAKEHASHI_MAX_JSON_DEPTH": "max_json_depth",
    "KAKEHASHI_MAX_JSON_INT_DIGITS": "max_json_int_digits",
    "KAKEHASHI_MAX_VARIABLES": "max_variables",
    "KAKEHASHI_MAX_CONSTRAINTS": "max_constraints",
    "KAKEHASHI_MAX_PAGE_SIZE": "max_page_size",
    "KAKEHASHI_MAX_TIME_LIMIT": "max_time_limit",
    "KAKEHASHI_KILL_GRACE_SECONDS": "kill_grace_seconds",
    "KAKEHASHI_SHUTDOWN_GRACE_SECONDS": "shutdown_grace_seconds",
    "KAKEHASHI_LOG_LEVEL": "log_level",
    "KAKEHASHI_EXECUTOR": "executor",
    "KAKEHASHI_RAY_ADDRESS": "ray_address",
    "KAKEHASHI_POOL": "pool_file",
    "KAKEHASHI_ROUTER_HISTORY": "router_history",
    "KAKEHASHI_PEER_KEY": "peer_key",
    "KAKEHASHI_PEER_GRACE_SECONDS": "peer_grace_seconds",
    "KAKEHASHI_PEER_PROBE_SECONDS": "peer_probe_seconds",
}


def _ray_resources(value: Any, where: str) -> dict[str, dict[str, float]]:
    """Validate a ``ray_resources`` table: kind → {resource name: amount per job}."""
    try:
        return {
            str(kind): {str(k): float(v) for k, v in dict(res).items()} for kind, res in dict(value).items()
        }
    except (TypeError, ValueError) as exc:
        raise KakehashiError(
            f"config: {where} must map machine kinds to {{resource: amount}} tables, got {value!r}"
        ) from exc


def _slurm_table(value: Any, where: str) -> dict[str, Any]:
    """Check a ``[slurm]`` table now (a typo is a config error, not a failed batch job)."""
    from kakehashi.service.executors.slurm.settings import from_table

    from_table(value, where)
    return dict(value)


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: f.type for f in fields(ServiceConfig)}
    kind = str(kinds[name])
    try:
        if kind == "float":
            return float(value)
        if kind == "int":
            return int(value)
    except (TypeError, ValueError) as exc:
        raise KakehashiError(f"config: {name} must be a number, got {value!r}") from exc
    if name == "runner_command" and value is not None:
        return tuple(str(v) for v in value)
    return value


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> ServiceConfig:
    """Read the operator configuration (TOML file, then ``KAKEHASHI_*`` environment variables)."""
    environ = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    prices = dict(DEFAULT_PRICES)
    ray_resources = default_ray_resources()
    path = path or environ.get("KAKEHASHI_CONFIG")
    if path:
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise KakehashiError(f"config: cannot read {path}: {exc}") from exc
        known = {f.name for f in fields(ServiceConfig)}
        for key, value in data.items():
            if key == "prices":
                prices.update({str(k): float(v) for k, v in dict(value).items()})
            elif key == "ray_resources":
                ray_resources.update(_ray_resources(value, f"ray_resources in {path}"))
            elif key == "slurm":
                values["slurm"] = _slurm_table(value, f"slurm in {path}")
            elif key in known:
                values[key] = _coerce(key, value)
            else:
                raise KakehashiError(f"config: unknown key {key!r} in {path}; known: {sorted(known)}")
    for var, name in _ENV_FIELDS.items():
        if environ.get(var):
            values[name] = _coerce(name, environ[var])
    if environ.get("KAKEHASHI_RUNNER_COMMAND"):
        try:
            values["runner_command"] = tuple(str(a) for a in json.loads(environ["KAKEHASHI_RUNNER_COMMAND"]))
        except (json.JSONDecodeError, TypeError) as exc:
            raise KakehashiError("config: KAKEHASHI_RUNNER_COMMAND must be a JSON list of strings") from exc
    if environ.get("KAKEHASHI_RAY_RESOURCES"):
        try:
            table = json.loads(environ["KAKEHASHI_RAY_RESOURCES"])
        except json.JSONDecodeError as exc:
            raise KakehashiError("config: KAKEHASHI_RAY_RESOURCES must be a JSON object") from exc
        ray_resources.update(_ray_resources(table, "KAKEHASHI_RAY_RESOURCES"))
    values["ray_resources"] = ray_resources
    if environ.get("KAKEHASHI_SLURM"):
        try:
            table = json.loads(environ["KAKEHASHI_SLURM"])
        except json.JSONDecodeError as exc:
            raise KakehashiError("config: KAKEHASHI_SLURM must be a JSON object") from exc
        values["slurm"] = _slurm_table(table, "KAKEHASHI_SLURM")
    for var, value in environ.items():
        if var.startswith("KAKEHASHI_PRICE_"):
            kind = var.removeprefix("KAKEHASHI_PRICE_").lower().replace("_", "-")
            prices[kind] = float(value)
    values["prices"] = prices
    return ServiceConfig(**values)
