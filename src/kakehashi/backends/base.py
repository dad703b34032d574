"""The backend contract: one small Protocol and the plain data it exchanges.

A backend declares what it accepts (:class:`Capabilities`), says whether it can run here
(:class:`Availability`) and solves a :class:`~kakehashi.compile.targets.Compiled` problem into a
:class:`BackendOutput`: raw samples in the target's variable order. Inversion and evaluation on
the original problem happen in :func:`kakehashi.solve`, never in a backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected


class HardwareKind(StrEnum):
    """Where a backend runs; also the metering and pool unit."""

    CPU = "cpu"
    GPU = "gpu"
    QPU_ANNEAL = "qpu-anneal"
    QPU_GATE = "qpu-gate"
    CLOUD = "cloud"


@dataclass(frozen=True)
class Param:
    """One accepted backend parameter: its type, default and meaning (with units)."""

    type: type | tuple[type, ...]
    default: Any
    doc: str


@dataclass(frozen=True)
class Capabilities:
    """What a backend accepts and promises.

    Attributes:
        targets: accepted target kinds, in order of preference.
        hardware: where it runs.
        max_variables: the largest target it accepts (None: no fixed limit).
        proves_optimality: an OPTIMAL status from it is a proof.
        honours_time_limit: it stops within the time limit (plus a small overhead).
        honours_seed: the same seed gives the same samples.
        params: accepted parameters (name → Param).
        accepts_continuous: it accepts REAL variables (MILP/MIQP targets only).
    """

    targets: tuple[TargetKind, ...]
    hardware: HardwareKind = HardwareKind.CPU
    max_variables: int | None = None
    proves_optimality: bool = False
    honours_time_limit: bool = True
    honours_seed: bool = True
    params: Mapping[str, Param] = field(default_factory=dict)
    accepts_continuous: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": [t.value for t in self.targets],
            "hardware": self.hardware.value,
            "max_variables": self.max_variables,
            "proves_optimality": self.proves_optimality,
            "honours_time_limit": self.honours_time_limit,
            "honours_seed": self.honours_seed,
            "accepts_continuous": self.accepts_continuous,
            "params": {k: {"default": p.default, "doc": p.doc} for k, p in self.params.items()},
        }


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here; when not, ``reason`` says what is missing."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def yes(cls) -> Availability:
        return cls(True, "")

    @classmethod
    def no(cls, reason: str) -> Availability:
        return cls(False, reason)

    @classmethod
    def of_modules(cls, *modules: str, hint: str) -> Availability:
        """Yes when every module is importable (checked without importing it), else ``hint``."""
        from importlib.util import find_spec

        for module in modules:
            try:
                found = find_spec(module) is not None
            except ModuleNotFoundError:  # a missing parent package
                found = False
            if not found:
                return cls(False, f"{module} is missing: {hint}")
        return cls(True, "")


class Termination(StrEnum):
    """How a backend run ended (the façade turns this into a Result status)."""

    OPTIMAL = "optimal"  #: proved optimal (only for backends that prove optimality)
    INFEASIBLE = "infeasible"  #: proved that no feasible point exists
    COMPLETED = "completed"  #: finished its schedule (heuristics)
    TIME_LIMIT = "time_limit"  #: stopped by the time limit, may still have samples
    NO_SOLUTION = "no_solution"  #: ended without any sample


@dataclass
class BackendOutput:
    """What a backend returns: raw samples in ``compiled.variables`` order.

    Attributes:
        samples: (num_samples × num_target_variables) float array.
        termination: how the run ended.
        solve_seconds: wall time spent solving (seconds).
        energies: the target's objective per sample, when the backend computed it.
        num_occurrences: counts per sample row (None: one each).
        bound: a proven bound on the target's minimum, if any.
        info: backend-specific details (iterations, nodes, QPU time in seconds...).
    """

    samples: np.ndarray
    termination: Termination
    solve_seconds: float
    energies: np.ndarray | None = None
    num_occurrences: np.ndarray | None = None
    bound: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A machine or algorithm that solves compiled problems."""

    name: str

    def capabilities(self) -> Capabilities: ...

    def available(self) -> Availability: ...

    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput: ...


def check_params(backend: str, caps: Capabilities, params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``params`` against ``caps.params`` and fill in defaults.

    Raises :class:`BackendRejected` naming the unknown parameter and listing the accepted ones,
    or naming a parameter of the wrong type. ``vendor`` (a dict) is always accepted and passed
    through untouched for vendor-specific options.
    """
    out: dict[str, Any] = {k: p.default for k, p in caps.params.items()}
    for key, value in params.items():
        if key == "vendor":
            if not isinstance(value, Mapping):
                raise BackendRejected(f"{backend}: parameter 'vendor' must be a mapping")
            out["vendor"] = dict(value)
            continue
        if key not in caps.params:
            accepted = ", ".join(sorted(caps.params)) or "none"
            raise BackendRejected(
                f"{backend}: unknown parameter {key!r}; accepted: {accepted} (and 'vendor')"
            )
        spec = caps.params[key]
        allowed = spec.type if isinstance(spec.type, tuple) else (spec.type,)
        wrong_type = not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)
        if value is not None and wrong_type:
            raise BackendRejected(
                f"{backend}: parameter {key!r} expects {getattr(spec.type, '__name__', spec.type)}, got {value!r}"
            )
        out[key] = value
    return out


def binary_bqm(backend: str, compiled: Compiled[Any]) -> Any:
    """The compiled target as a BINARY ``dimod.BinaryQuadraticModel`` (spins converted).

    Raises :class:`BackendRejected` when the target is not a BQM.
    """
    import dimod

    bqm = compiled.target
    if not isinstance(bqm, dimod.BinaryQuadraticModel):
        raise BackendRejected(f"{backend}: expected a dimod BinaryQuadraticModel, got {type(bqm).__name__}")
    if bqm.vartype is not dimod.BINARY:
        bqm = bqm.change_vartype(dimod.BINARY, inplace=False)
    return bqm


def check_target(backend: str, caps: Capabilities, compiled: Compiled[Any]) -> None:
    """Raise :class:`BackendRejected` if ``compiled`` is not a target kind or size ``caps`` accepts."""
    if compiled.kind not in caps.targets:
        accepted = ", ".join(t.value for t in caps.targets)
        raise BackendRejected(
            f"{backend}: does not accept {compiled.kind.value} targets; accepted: {accepted}"
        )
    if caps.max_variables is not None and compiled.num_variables > caps.max_variables:
        raise BackendRejected(
            f"{backend}: {compiled.num_variables} variables exceed its limit of {caps.max_variables}"
        )
