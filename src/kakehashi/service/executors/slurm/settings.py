"""The operator's Slurm settings: the ``[slurm]`` table of the service TOML (or ``KAKEHASHI_SLURM``).

Example::

    executor = "slurm"
    [slurm]
    workdir = "/shared/kakehashi/slurm"     # on the filesystem the nodes share (required in practice)
    partition = "batch"
    account = "kakehashi-testbed"
    qos = "normal"
    time_grace_seconds = 90                 # --time = ceil((job time_limit + grace) / 60) minutes
    extra_sbatch = ["--constraint=ib", "--exclusive=user"]
    rest_url = "http://slurmctl:6820"       # slurmrestd (JWT); unset: sbatch/squeue/scancel on PATH
    rest_user = "kakehashi"
    [slurm.resources.cpu]                   # per leg (one Slurm job) of each backend hardware kind
    cpus = 4
    memory_mb = 8000
    [slurm.resources.qpu-gate]
    cpus = 1
    gres = "qpu:1"

Everything here is plain data checked once, when the configuration is read, so that a typo is a
:class:`~kakehashi.exceptions.KakehashiError` naming the field rather than a failed batch job.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kakehashi.exceptions import KakehashiError

#: Environment variables of the worker copied into every batch script (when set).
DEFAULT_EXPORT = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "KAKEHASHI_HOME", "KAKEHASHI_ROUTER_HISTORY")

_GRES = re.compile(
    r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?(:\d+)?(,[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?(:\d+)?)*$"
)
_OPTION = re.compile(r"^--[a-z][a-z0-9-]*(=\S.*)?$")


@dataclass(frozen=True)
class LegResources:
    """What one leg (one Slurm job) of a backend hardware kind asks for.

    Attributes:
        cpus: ``--cpus-per-task`` (one task per job).
        memory_mb: ``--mem`` in megabytes (None: the partition's default).
        gpus: ``--gpus`` (0: none).
        gres: ``--gres``, e.g. ``"qpu:1"`` (None: none); a QPU or annealer the centre declares
            as a generic resource, so that Slurm's queue arbitrates the device.
    """

    cpus: int = 1
    memory_mb: int | None = None
    gpus: int = 0
    gres: str | None = None

    def billed_units(self, kind: str) -> int:
        """How many units of the kind's own resource one job holds: GPUs for ``gpu``, the GRES
        count for a ``qpu-*`` kind with a GRES, else CPUs. Machine-seconds = elapsed × this."""
        if kind == "gpu" and self.gpus:
            return self.gpus
        if kind.startswith("qpu") and self.gres:
            return sum(int(part.rsplit(":", 1)[1]) if part.count(":") else 1 for part in self.gres.split(","))
        return self.cpus


def default_resources() -> dict[str, LegResources]:
    """One CPU per leg; one GPU for ``gpu``; the GRES ``qpu:1`` for the QPU kinds."""
    return {
        "cpu": LegResources(),
        "gpu": LegResources(gpus=1),
        "qpu-anneal": LegResources(gres="qpu:1"),
        "qpu-gate": LegResources(gres="qpu:1"),
        "cloud": LegResources(),
    }


@dataclass(frozen=True)
class SlurmSettings:
    """How the ``slurm`` executor submits and follows batch jobs.

    Attributes:
        workdir: a directory on the filesystem the worker and the compute nodes share; each job
            gets ``<workdir>/<job id>/`` with its request, the runner's messages and Slurm's output.
        partition, account, qos: ``--partition``, ``--account``, ``--qos`` (None: Slurm's default).
        time_grace_seconds: added to the job's ``time_limit`` for ``--time`` (seconds; Slurm
            counts whole minutes, so the limit is rounded up). It should exceed the service's
            ``kill_grace_seconds``: the worker's own deadline then fires first and Slurm's
            TIMEOUT is the backstop when the worker is gone.
        resources: backend hardware kind → :class:`LegResources`.
        extra_sbatch: more ``#SBATCH`` options, e.g. ``["--constraint=ib"]`` (sbatch only: over
            slurmrestd use the named settings).
        python: the interpreter (argv) that runs ``-m kakehashi.service.runner`` on the nodes.
        export: worker environment variables written into the batch script (when set).
        environment: more variables for the batch script (name → value).
        rest_url: slurmrestd's base URL (e.g. ``http://127.0.0.1:6820``); None: the CLI tools.
        rest_user: the user name sent with the JWT (default: this process's user).
        rest_token: a JWT (default: ``SLURM_JWT`` in the environment, else ``scontrol token``).
        rest_api: the OpenAPI plugin version in the URLs (``v0.0.38`` for Slurm 22.05).
        bin_dir: where ``sbatch``/``squeue``/``scancel``/``scontrol`` live (None: PATH).
        poll_seconds: how often a running job's Slurm state is read (seconds).
        command_timeout_seconds: the longest one Slurm command or REST call may take (seconds).
        controller_timeout_seconds: how long the controller may stay unreachable while a job runs
            before the attempt is given up as lost (seconds); nothing waits forever on it.
        settle_seconds: after the answer, how long to wait for Slurm's end record (the elapsed
            time billed) before billing from the last running time seen (seconds).
        answer_grace_seconds: after Slurm's end record, how long the runner's answer may still
            take to show in the messages file on the shared filesystem (seconds).
    """

    workdir: str = ""
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time_grace_seconds: float = 60.0
    resources: dict[str, LegResources] = field(default_factory=default_resources)
    extra_sbatch: tuple[str, ...] = ()
    python: tuple[str, ...] = ()
    export: tuple[str, ...] = DEFAULT_EXPORT
    environment: dict[str, str] = field(default_factory=dict)
    rest_url: str | None = None
    rest_user: str | None = None
    rest_token: str | None = None
    rest_api: str = "v0.0.38"
    bin_dir: str | None = None
    poll_seconds: float = 0.5
    command_timeout_seconds: float = 15.0
    controller_timeout_seconds: float = 120.0
    settle_seconds: float = 30.0
    answer_grace_seconds: float = 1.0

    def __post_init__(self) -> None:
        if not self.workdir:
            home = Path(os.environ.get("KAKEHASHI_HOME", str(Path.home() / ".kakehashi")))
            object.__setattr__(self, "workdir", str(home / "slurm"))
        if not self.python:
            object.__setattr__(self, "python", (sys.executable,))
        if self.extra_sbatch and self.rest_url:
            raise KakehashiError("config: slurm.extra_sbatch needs the sbatch path; unset slurm.rest_url")

    def leg(self, kind: str) -> LegResources:
        """The resources of one leg of hardware ``kind`` (``cpu``'s when the kind is not listed)."""
        return self.resources.get(kind) or self.resources.get("cpu") or LegResources()

    def time_minutes(self, time_limit: float) -> int:
        """``--time`` in whole minutes for a job of ``time_limit`` seconds (at least 1)."""
        return max(1, math.ceil((float(time_limit) + self.time_grace_seconds) / 60.0))

    def to_table(self) -> dict[str, Any]:
        """The settings as a JSON/TOML-able table (:func:`from_table` reads it back)."""
        table: dict[str, Any] = {
            k: v
            for k, v in {
                "workdir": self.workdir,
                "partition": self.partition,
                "account": self.account,
                "qos": self.qos,
                "time_grace_seconds": self.time_grace_seconds,
                "extra_sbatch": list(self.extra_sbatch),
                "python": list(self.python),
                "export": list(self.export),
                "environment": dict(self.environment),
                "rest_url": self.rest_url,
                "rest_user": self.rest_user,
                "rest_token": self.rest_token,
                "rest_api": self.rest_api,
                "bin_dir": self.bin_dir,
                "poll_seconds": self.poll_seconds,
                "command_timeout_seconds": self.command_timeout_seconds,
                "controller_timeout_seconds": self.controller_timeout_seconds,
                "settle_seconds": self.settle_seconds,
                "answer_grace_seconds": self.answer_grace_seconds,
            }.items()
            if v is not None
        }
        table["resources"] = {
            kind: {k: v for k, v in vars(r).items() if v is not None} for kind, r in self.resources.items()
        }
        return table


_STR = (
    "workdir",
    "partition",
    "account",
    "qos",
    "rest_url",
    "rest_user",
    "rest_token",
    "rest_api",
    "bin_dir",
)
_FLOAT = (
    "time_grace_seconds",
    "poll_seconds",
    "command_timeout_seconds",
    "controller_timeout_seconds",
    "settle_seconds",
    "answer_grace_seconds",
)
_LISTS = ("extra_sbatch", "python", "export")


def _leg(kind: str, value: Any, where: str) -> LegResources:
    if not isinstance(value, dict):
        raise KakehashiError(f"config: {where}.resources.{kind} must be a table, got {value!r}")
    unknown = set(value) - {"cpus", "memory_mb", "gpus", "gres"}
    if unknown:
        raise KakehashiError(
            f"config: unknown key(s) {sorted(unknown)} in {where}.resources.{kind}; "
            "known: ['cpus', 'gpus', 'gres', 'memory_mb']"
        )
    try:
        leg = LegResources(
            cpus=int(value.get("cpus", 1)),
            memory_mb=None if value.get("memory_mb") is None else int(value["memory_mb"]),
            gpus=int(value.get("gpus", 0)),
            gres=None if value.get("gres") in (None, "") else str(value["gres"]),
        )
    except (TypeError, ValueError) as exc:
        raise KakehashiError(f"config: {where}.resources.{kind}: {exc}") from exc
    if leg.cpus < 1 or leg.gpus < 0 or (leg.memory_mb is not None and leg.memory_mb < 1):
        raise KakehashiError(f"config: {where}.resources.{kind}: cpus >= 1, gpus >= 0, memory_mb >= 1")
    if leg.gres is not None and not _GRES.match(leg.gres):
        raise KakehashiError(
            f"config: {where}.resources.{kind}.gres must look like 'qpu:1', got {leg.gres!r}"
        )
    return leg


def from_table(table: Any, where: str = "slurm") -> SlurmSettings:
    """Check a ``[slurm]`` table (see the module docstring) and return the settings.

    Raises :class:`~kakehashi.exceptions.KakehashiError` naming the first bad field.
    """
    if table is None:
        return SlurmSettings()
    if not isinstance(table, dict):
        raise KakehashiError(f"config: {where} must be a table, got {table!r}")
    known = set(_STR) | set(_FLOAT) | set(_LISTS) | {"resources", "environment"}
    unknown = set(table) - known
    if unknown:
        raise KakehashiError(f"config: unknown key(s) {sorted(unknown)} in {where}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for name in _STR:
        if table.get(name) is not None:
            if not isinstance(table[name], str):
                raise KakehashiError(f"config: {where}.{name} must be a string, got {table[name]!r}")
            values[name] = table[name]
    for name in _FLOAT:
        if name in table:
            try:
                values[name] = float(table[name])
            except (TypeError, ValueError) as exc:
                raise KakehashiError(f"config: {where}.{name} must be a number, got {table[name]!r}") from exc
            if values[name] < 0 or (name != "time_grace_seconds" and values[name] == 0):
                raise KakehashiError(f"config: {where}.{name} must be > 0, got {table[name]!r}")
    for name in _LISTS:
        if name in table:
            value = table[name]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise KakehashiError(f"config: {where}.{name} must be a list of strings, got {value!r}")
            values[name] = tuple(value)
    for option in values.get("extra_sbatch", ()):
        if not _OPTION.match(option):
            raise KakehashiError(
                f"config: {where}.extra_sbatch entries are sbatch options like '--constraint=ib', got {option!r}"
            )
    if "environment" in table:
        env = table["environment"]
        if not isinstance(env, dict):
            raise KakehashiError(f"config: {where}.environment must be a table of strings, got {env!r}")
        values["environment"] = {str(k): str(v) for k, v in env.items()}
    resources = default_resources()
    raw = table.get("resources", {})
    if not isinstance(raw, dict):
        raise KakehashiError(f"config: {where}.resources must be a table of kinds, got {raw!r}")
    for kind, value in raw.items():
        resources[str(kind)] = _leg(str(kind), value, where)
    values["resources"] = resources
    return SlurmSettings(**values)
