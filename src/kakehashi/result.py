"""`Result`: the one answer type, whatever backend or service produced it.

A result holds the best sample in the problem's own variables, its objective (in the problem's
sense) evaluated on the ORIGINAL model, a status, every distinct sample, timings in seconds,
provenance, the gap to a known optimum and, for races, one :class:`LegOutcome` per backend.
It round-trips through JSON (``to_json``/``from_json``) and renders in notebooks.
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Hashable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from kakehashi.model.serialize import decode_label, encode_label


class Status(StrEnum):
    """Outcome of a solve. Feasibility is data, not an exception."""

    OPTIMAL = "OPTIMAL"  #: proved optimal by a backend that proves optimality
    FEASIBLE = "FEASIBLE"  #: feasible on the original model, optimality not proved
    INFEASIBLE = "INFEASIBLE"  #: the best answer violates a constraint, or infeasibility was proved
    NO_SOLUTION = "NO_SOLUTION"  #: no sample at all
    TIMEOUT = "TIMEOUT"  #: the time limit passed with no feasible sample
    ERROR = "ERROR"  #: every backend failed; ``error`` says why


#: Better statuses first; used to rank race legs.
STATUS_RANK = {s: i for i, s in enumerate(Status)}


@dataclass
class Timings:
    """Wall times in seconds.

    Attributes:
        compile: compiling the problem for the backend's target (and loading the backend).
        queue: waiting in a service queue before the solve started.
        solve: the backend's own solve.
        total: the whole ``solve()`` call, from entry to return.
        startup: a race leg's start-up before it compiled: process start (fork from the warm
            leg server, or that server's own start and engine warm-up on the first race of a
            process) and imports. 0 for a backend run in the calling process.
    """

    compile: float = 0.0
    queue: float = 0.0
    solve: float = 0.0
    total: float = 0.0
    startup: float = 0.0


@dataclass
class Provenance:
    """Where an answer came from."""

    backend: str = ""
    hardware: str = ""
    target: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    host: str = ""


@dataclass
class SampleRecord:
    """One distinct sample, evaluated on the original model."""

    sample: dict[Hashable, float]
    objective: float
    feasible: bool
    max_violation: float
    num_occurrences: int = 1


def _time_to_best(trajectory: list[list[float]]) -> float | None:
    """The first time the curve's lowest energy appears (a best-so-far curve: its last point)."""
    if not trajectory:
        return None
    low = min(e for _, e in trajectory)
    return float(next(t for t, e in trajectory if e <= low))


@dataclass
class LegOutcome:
    """One backend's outcome in a race (or the only leg of a single-backend solve).

    ``trajectory``: the leg's best-so-far ``[seconds since solve() started, target energy]``
    pairs (see :class:`Result`); ``startup_seconds``: its process start-up (``Timings.startup``).
    """

    backend: str
    status: Status
    objective: float | None
    feasible: bool
    solve_seconds: float
    error: str | None = None
    trajectory: list[list[float]] = field(default_factory=list)
    startup_seconds: float = 0.0

    @property
    def time_to_best(self) -> float | None:
        """Seconds from ``solve()``'s start until this leg first reported its best (None: no curve)."""
        return _time_to_best(self.trajectory)


@dataclass
class Result:
    """The evaluated answer to a problem.

    ``trajectory`` is the best-so-far curve of the backend that produced the answer: a list of
    ``[seconds, energy]`` pairs, one per improvement the backend reported while it ran, where
    ``seconds`` counts from the ``solve()`` call's start and ``energy`` is the *target's* energy
    (the compiled minimisation problem: for an unconstrained problem the objective when
    minimising, minus the objective when maximising; penalties included otherwise). Empty when
    the backend reports no incumbents. Each leg's own curve is ``LegOutcome.trajectory``.
    """

    status: Status
    problem: str = ""
    sense: str = "min"
    sample: dict[Hashable, float] = field(default_factory=dict)
    objective: float | None = None
    feasible: bool = False
    violations: dict[str, float] = field(default_factory=dict)
    samples: list[SampleRecord] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    provenance: Provenance = field(default_factory=Provenance)
    known_optimum: float | None = None
    gap: float | None = None
    bound: float | None = None
    legs: list[LegOutcome] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    trajectory: list[list[float]] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return self.provenance.backend

    @property
    def time_to_best(self) -> float | None:
        """Seconds from ``solve()``'s start until the answer's best energy was first reported."""
        return _time_to_best(self.trajectory)

    # ------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict. Samples are lists of [variable, value] pairs.

        Built field by field (not ``dataclasses.asdict``, which deep-copies every sample dict
        before it is rewritten): a 20,000-variable Result converts in tenths of a second.
        """

        def pairs(sample: dict[Hashable, float]) -> list[list[Any]]:
            return [[encode_label(k), v] for k, v in sample.items()]

        return {
            "status": self.status.value,
            "problem": self.problem,
            "sense": self.sense,
            "sample": pairs(self.sample),
            "objective": self.objective,
            "feasible": self.feasible,
            "violations": dict(self.violations),
            "samples": [
                {"sample": pairs(r.sample), "objective": r.objective, "feasible": r.feasible,
                 "max_violation": r.max_violation, "num_occurrences": r.num_occurrences}
                for r in self.samples
            ],
            "timings": asdict(self.timings),
            "provenance": asdict(self.provenance),
            "known_optimum": self.known_optimum,
            "gap": self.gap,
            "bound": self.bound,
            "legs": [{**asdict(leg), "status": leg.status.value, "time_to_best": leg.time_to_best}
                     for leg in self.legs],
            "report": copy.deepcopy(self.report),
            "info": copy.deepcopy(self.info),
            "error": self.error,
            "trajectory": [list(p) for p in self.trajectory],
            "time_to_best": self.time_to_best,
            "backend": self.provenance.backend,
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        def pairs(items: list[list[Any]]) -> dict[Hashable, float]:
            return {decode_label(k): v for k, v in items}

        return cls(
            status=Status(d["status"]),
            problem=d.get("problem", ""),
            sense=d.get("sense", "min"),
            sample=pairs(d.get("sample", [])),
            objective=d.get("objective"),
            feasible=bool(d.get("feasible", False)),
            violations=dict(d.get("violations", {})),
            samples=[SampleRecord(**{**r, "sample": pairs(r["sample"])}) for r in d.get("samples", [])],
            timings=Timings(**d.get("timings", {})),
            provenance=Provenance(**d.get("provenance", {})),
            known_optimum=d.get("known_optimum"),
            gap=d.get("gap"),
            bound=d.get("bound"),
            legs=[LegOutcome(**{**{k: v for k, v in leg.items() if k != "time_to_best"},
                                 "status": Status(leg["status"])}) for leg in d.get("legs", [])],
            report=dict(d.get("report", {})),
            info=dict(d.get("info", {})),
            error=d.get("error"),
            trajectory=[[float(t), float(e)] for t, e in d.get("trajectory", [])],
        )

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls.from_dict(json.loads(text))

    # ---------------------------------------------------------- display
    def summary(self) -> str:
        """One line: status, objective, gap, backend and total seconds."""
        obj = "—" if self.objective is None else f"{self.objective:.6g}"
        gap = "" if self.gap is None else f" gap={self.gap:.3%}"
        return (
            f"{self.status.value} objective={obj}{gap} backend={self.backend} total={self.timings.total:.3f}s"
        )

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(
            f"<tr><td>{e(leg.backend)}</td><td>{e(leg.status.value)}</td>"
            f"<td>{'' if leg.objective is None else f'{leg.objective:.6g}'}</td>"
            f"<td>{leg.solve_seconds:.3f}</td><td>{e(leg.error or '')}</td></tr>"
            for leg in self.legs
        )
        obj = "—" if self.objective is None else f"{self.objective:.6g}"
        gap = "—" if self.gap is None else f"{self.gap:.3%}"
        return (
            f"<div><b>{e(self.problem)}</b>: <b>{e(self.status.value)}</b>, objective {obj} "
            f"({e(self.sense)}), gap {gap}, backend {e(self.backend)}, "
            f"total {self.timings.total:.3f} s"
            "<table><tr><th>backend</th><th>status</th><th>objective</th><th>solve s</th><th>error</th></tr>"
            f"{rows}</table></div>"
        )
