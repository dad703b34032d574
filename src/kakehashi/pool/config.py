"""The operator's resource pool: machines, projects, terms and fair-share settings, from TOML or YAML.

A pool file (see ``examples/pool.toml``) has four parts::

    [fairshare]                       # optional; see kakehashi.pool.fairshare
    half_life_hours = 24.0

    [tiers]                           # optional; discount rate per tier (0.5 = half price)
    research = 0.5

    [[machines]]
    name = "qpu-anneal-1"
    kind = "qpu-anneal"               # cpu | gpu | qpu-anneal | qpu-gate | cloud
    slots = 1                         # jobs (racing legs) it runs at once
    qubits = 5000
    backends = ["dwave-qpu"]
    price_yen_per_second = 50.0
    up = true
    maintenance = [{weekly = "sun 02:00-06:00"}, {start = 2026-12-01T00:00:00Z, end = 2026-12-01T12:00:00Z}]

    [[projects]]
    name = "lab-a"
    tier = "research"
    shares = 2.0
    quota = {limit = 50000.0, unit = "yen", period = "month"}

Times are UTC. Validation errors raise :class:`~kakehashi.exceptions.ModelError` naming the file
and the field (``machines[2].slots``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kakehashi.backends.base import HardwareKind
from kakehashi.exceptions import ModelError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKLY = re.compile(
    r"^\s*(?P<day>mon|tue|wed|thu|fri|sat|sun)\s+(?P<h0>\d{1,2}):(?P<m0>\d{2})\s*-\s*(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*$",
    re.IGNORECASE,
)
_WEEK = 7 * 86400.0


class Tier(StrEnum):
    """A project's terms: research and academic use and testbed contributors get discounts."""

    RESEARCH = "research"
    ACADEMIC = "academic"
    CONTRIBUTOR = "contributor"
    COMMERCIAL = "commercial"


#: Default discount rate per tier (fraction of the list price waived).
DEFAULT_TIER_DISCOUNTS: dict[Tier, float] = {
    Tier.RESEARCH: 0.5,
    Tier.ACADEMIC: 0.5,
    Tier.CONTRIBUTOR: 0.3,
    Tier.COMMERCIAL: 0.0,
}


class QuotaUnit(StrEnum):
    """What a quota counts: charged yen (after discount) or machine-seconds."""

    YEN = "yen"
    MACHINE_SECONDS = "machine-seconds"


class Period(StrEnum):
    """The accounting period a quota resets on (UTC calendar boundaries; weeks start Monday)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class MaintenanceWindow(_Strict):
    """A time the machine is unavailable: one-off (``start``/``end``, UTC) or ``weekly = "sun 02:00-06:00"``.

    A weekly window whose end is not after its start wraps past midnight into the next day.
    """

    start: datetime | None = None
    end: datetime | None = None
    weekly: str | None = None

    @field_validator("weekly")
    @classmethod
    def _check_weekly(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = _WEEKLY.match(value)
        if m is None or int(m["h0"]) > 24 or int(m["h1"]) > 24 or int(m["m0"]) > 59 or int(m["m1"]) > 59:
            raise ValueError("expected 'DAY HH:MM-HH:MM' with DAY one of mon..sun, e.g. 'sun 02:00-06:00'")
        return value

    @model_validator(mode="after")
    def _check_shape(self) -> MaintenanceWindow:
        one_off = self.start is not None or self.end is not None
        if one_off and self.weekly is not None:
            raise ValueError("give either start/end or weekly, not both")
        if not one_off and self.weekly is None:
            raise ValueError("give start and end (UTC) or weekly")
        if one_off:
            if self.start is None or self.end is None:
                raise ValueError("a one-off window needs both start and end")
            if _utc(self.end) <= _utc(self.start):
                raise ValueError("end must be after start")
        return self

    def _weekly_bounds(self) -> tuple[float, float]:
        """Weekly window as (offset of start, duration) in seconds from Monday 00:00 UTC."""
        assert self.weekly is not None
        m = _WEEKLY.match(self.weekly)
        assert m is not None
        day = _DAYS.index(m["day"].lower())
        t0 = int(m["h0"]) * 3600 + int(m["m0"]) * 60
        t1 = int(m["h1"]) * 3600 + int(m["m1"]) * 60
        length = t1 - t0 if t1 > t0 else t1 + 86400 - t0
        return day * 86400.0 + t0, float(length)

    def intervals(self, start: float, end: float) -> list[tuple[float, float]]:
        """The window's occurrences that overlap ``[start, end)`` (UNIX seconds, UTC)."""
        if self.weekly is None:
            assert self.start is not None and self.end is not None
            a, b = _utc(self.start).timestamp(), _utc(self.end).timestamp()
            return [(a, b)] if a < end and b > start else []
        offset, length = self._weekly_bounds()
        # UNIX time 0 was a Thursday; the Monday before it is -3 days.
        monday0 = -3 * 86400.0
        k = int((start - monday0 - offset - length) // _WEEK)
        out = []
        while True:
            a = monday0 + k * _WEEK + offset
            if a >= end:
                break
            if a + length > start:
                out.append((a, a + length))
            k += 1
        return out


class Machine(_Strict):
    """One machine (or slice of one) in the pool.

    Attributes:
        name: unique name.
        kind: hardware kind (the metering and pool unit).
        slots: legs it runs at once (>= 1).
        gpu_memory_gib: GPU memory per machine (GiB), for gpu kinds.
        qubits: qubits of a QPU (0 for classical machines).
        backends: registered backend names it runs.
        price_yen_per_second: list price per slot-second (yen).
        up: whether the operator has it in service.
        maintenance: times it is unavailable.
    """

    name: str = Field(min_length=1)
    kind: HardwareKind
    slots: int = Field(default=1, ge=1)
    gpu_memory_gib: float = Field(default=0.0, ge=0)
    qubits: int = Field(default=0, ge=0)
    backends: tuple[str, ...] = Field(min_length=1)
    price_yen_per_second: float = Field(ge=0)
    up: bool = True
    maintenance: tuple[MaintenanceWindow, ...] = ()
    #: the peer site this machine stands for (None: one of this site's own machines)
    peer: str | None = None

    def in_maintenance(self, start: float, end: float | None = None) -> bool:
        """Whether a maintenance window overlaps ``[start, end)`` (UNIX seconds; end None: the instant)."""
        stop = start + 1e-9 if end is None else end
        return any(w.intervals(start, stop) for w in self.maintenance)

    def maintenance_ends(self, start: float, end: float) -> list[float]:
        """Ends of maintenance occurrences in ``[start, end)``: times a blocked machine frees up."""
        return sorted(b for w in self.maintenance for (_, b) in w.intervals(start, end) if start <= b < end)


class Quota(_Strict):
    """A hard cap per period: ``limit`` in ``unit`` (yen charged after discount, or machine-seconds)."""

    limit: float = Field(ge=0)
    unit: QuotaUnit = QuotaUnit.YEN
    period: Period = Period.MONTH


class ProjectTerms(_Strict):
    """A project's terms in the pool.

    Attributes:
        name: the project's name (as in the service).
        tier: its tier; sets the discount unless ``discount`` overrides it.
        shares: fair-share weight (normalised over all projects).
        discount: explicit discount rate in [0, 1) (None: the tier's).
        quota: hard cap per period (None: no cap).
    """

    name: str = Field(min_length=1)
    tier: Tier = Tier.COMMERCIAL
    shares: float = Field(default=1.0, gt=0)
    discount: float | None = Field(default=None, ge=0, lt=1)
    quota: Quota | None = None


class FairShareSettings(_Strict):
    """Fair-share and multifactor-priority settings (see :mod:`kakehashi.pool.fairshare`).

    Attributes:
        half_life_hours: usage half-life (hours).
        max_age_hours: the age that gives age factor 1 (hours); the factor keeps growing past it.
        weight_age, weight_fairshare, weight_priority, weight_size: multifactor weights.
    """

    half_life_hours: float = Field(default=24.0, gt=0)
    max_age_hours: float = Field(default=2.0, gt=0)
    weight_age: float = Field(default=1000.0, ge=0)
    weight_fairshare: float = Field(default=1000.0, ge=0)
    weight_priority: float = Field(default=500.0, ge=0)
    weight_size: float = Field(default=100.0, ge=0)


class PeerOffer(_Strict):
    """What of a peer site is offered here: some of its backends, as one local machine.

    Attributes:
        kind: the hardware kind of those machines at the peer.
        backends: the peer's backends offered (names as the peer registers them).
        slots: how many jobs this site forwards at once (the agreed share of the peer).
        price_yen_per_second: what this site's users pay per machine-second (list price; their
            project's discount applies as on any machine).
        agreed_yen_per_second: what the peer charges this site per machine-second under the
            agreement, after its own terms (None: not checked by the settlement).
        machine: the local machine name (default ``<peer>-<kind>``).
    """

    kind: HardwareKind
    backends: tuple[str, ...] = Field(min_length=1)
    slots: int = Field(default=1, ge=1)
    price_yen_per_second: float = Field(ge=0)
    agreed_yen_per_second: float | None = Field(default=None, ge=0)
    machine: str | None = Field(default=None, min_length=1, max_length=100)

    def machine_name(self, peer: str) -> str:
        return self.machine or f"{peer}-{self.kind.value}"


class PeerSpec(_Strict):
    """A peer kakehashi site declared in the pool file (``[[peers]]``).

    The token is never in the file: ``token_env`` names the environment variable that holds it.
    """

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: str = Field(min_length=1, pattern=r"^https?://")
    token_env: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    offers: tuple[PeerOffer, ...] = Field(min_length=1)


class PoolConfig(_Strict):
    """The whole pool: machines, projects, tier discounts and fair-share settings, and peers."""

    machines: tuple[Machine, ...] = Field(min_length=1)
    peers: tuple[PeerSpec, ...] = ()
    projects: tuple[ProjectTerms, ...] = ()
    tiers: dict[Tier, float] = Field(default_factory=lambda: dict(DEFAULT_TIER_DISCOUNTS))
    fairshare: FairShareSettings = FairShareSettings()

    @field_validator("tiers")
    @classmethod
    def _check_tiers(cls, value: dict[Tier, float]) -> dict[Tier, float]:
        for tier, rate in value.items():
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"discount rate of {tier.value} must be in [0, 1), got {rate}")
        return {**DEFAULT_TIER_DISCOUNTS, **value}

    @model_validator(mode="after")
    def _check_unique(self) -> PoolConfig:
        for what, names in (("machine", [m.name for m in self.machines]), ("project", [p.name for p in self.projects])):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"duplicate {what} name {name!r}")
                seen.add(name)
        return self

    def machine(self, name: str) -> Machine:
        for m in self.machines:
            if m.name == name:
                return m
        raise ModelError(f"no machine named {name!r} in the pool", field="machines")

    def project(self, name: str) -> ProjectTerms:
        """The project's terms; an unknown project gets commercial terms with one share."""
        for p in self.projects:
            if p.name == name:
                return p
        return ProjectTerms(name=name)

    def discount_for(self, project: str) -> float:
        """The discount rate of ``project`` (its own override, else its tier's)."""
        terms = self.project(project)
        return terms.discount if terms.discount is not None else self.tiers.get(terms.tier, 0.0)

    def backends(self) -> tuple[str, ...]:
        """Every backend some machine runs, in pool order."""
        return tuple(dict.fromkeys(b for m in self.machines for b in m.backends))

    def machines_for(self, backend: str) -> tuple[Machine, ...]:
        return tuple(m for m in self.machines if backend in m.backends)

    @property
    def half_life_seconds(self) -> float:
        return self.fairshare.half_life_hours * 3600.0


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_pool(data: Mapping[str, Any], source: str | Path | None = None) -> PoolConfig:
    """Validate a pool mapping (already parsed from TOML/YAML/JSON) into a :class:`PoolConfig`.

    Raises:
        ModelError: naming ``source`` and the first offending field (e.g. ``machines[1].kind``).
    """
    try:
        return PoolConfig.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged"))))
        raise ModelError(first["msg"], source=source, field=_field_path(loc) or None) from exc


def load_pool(path: str | Path) -> PoolConfig:
    """Read a pool file: ``.toml``, or ``.yaml``/``.yml`` (needs PyYAML: ``pip install 'kakehashi[service]'``)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the pool file: {exc.strerror}", source=path) from exc
    suffix = path.suffix.lower()
    data: Any
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:
            raise ModelError("YAML pool files need PyYAML: pip install 'kakehashi[service]'", source=path) from exc
        try:
            data = yaml.safe_load(raw.decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            raise ModelError(f"invalid YAML: {exc}", source=path, line=None if line is None else line + 1) from exc
    elif suffix == ".toml":
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"invalid TOML: {exc}", source=path) from exc
    else:
        raise ModelError("expected a .toml, .yaml or .yml pool file", source=path)
    if not isinstance(data, Mapping):
        raise ModelError("the pool file must hold a mapping at the top level", source=path)
    return parse_pool(data, source=path)


def utc_seconds(value: datetime) -> float:
    """UNIX seconds of a datetime (naive datetimes are taken as UTC)."""
    return _utc(value).timestamp()


#: One day in seconds (convenience for callers building windows).
DAY = timedelta(days=1).total_seconds()


#: Name of the machine in :func:`local_pool`.
LOCAL_MACHINE = "local"


def local_pool() -> PoolConfig:
    """The pool a laptop has without a pool file: this machine, its cores, its runnable backends, price 0.

    One ``cpu`` machine named ``local`` with ``os.cpu_count()`` slots (or the CPUs this process may
    use, under a Slurm allocation or a cgroup-limited affinity mask), running every registered
    backend that is available here; machine time is free (0 yen/s).
    """
    import os

    from kakehashi.backends.registry import all_backends
    from kakehashi.exceptions import KakehashiError

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    names = tuple(
        name for name, backend in all_backends().items()
        if not isinstance(backend, KakehashiError) and backend.available()
    )
    machine = Machine(name=LOCAL_MACHINE, kind=HardwareKind.CPU, slots=max(1, cores),
                      backends=names or ("exact",), price_yen_per_second=0.0)
    return PoolConfig(machines=(machine,))
