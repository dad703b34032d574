"""`dwave-qpu` and `dwave-hybrid`: D-Wave annealers and Leap's hybrid solvers through dwave-system.

- ``dwave-qpu``: ``EmbeddingComposite(DWaveSampler())`` — minor embedding onto the QPU graph,
  ``num_reads`` anneals; BQM targets.
- ``dwave-hybrid``: ``LeapHybridSampler`` for BQM and ``LeapHybridCQMSampler`` for CQM targets,
  with the solve's time limit passed as the solver's ``time_limit`` (seconds).

Credentials: ``DWAVE_API_TOKEN`` or a dwave-cloud-client config file (``dwave config create``).
Tests inject a sampler, e.g. ``DWaveQpuBackend(sampler=MockDWaveSampler())``. A run that passes
the time limit has its cloud future cancelled and raises :class:`BackendTimeout`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import dimod
import numpy as np

from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    HardwareKind,
    Param,
    Termination,
    check_params,
    check_target,
)
from kakehashi.backends.cloud.jobs import wait_or_cancel
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendError, BackendRejected, BackendUnavailable

INSTALL = "not available: install the extra: pip install 'kakehashi[dwave]'"
NO_CREDENTIALS = "not available: set DWAVE_API_TOKEN (or create a config file with `dwave config create`)"


def _has_token() -> bool:
    try:
        from dwave.cloud.config import load_config

        return bool(load_config().get("token"))
    except Exception:  # an unreadable config file is the same as none
        return False


def _available(sampler: Any) -> Availability:
    try:
        import dwave.system  # noqa: F401
    except ImportError:
        return Availability.no(INSTALL)
    if sampler is not None or _has_token():
        return Availability.yes()
    return Availability.no(NO_CREDENTIALS)


def _vendor_error(name: str, exc: Exception) -> BackendError:
    """Map a dwave-cloud-client / dwave-system error to the kakehashi tree, keeping the message."""
    kind = type(exc).__name__
    if kind in ("SolverAuthenticationError", "SolverNotFoundError", "ConfigFileError"):
        return BackendUnavailable(f"{name}: {kind}: {exc}")
    if kind in ("ValueError", "ProblemStructureError", "SolverFailureError", "InvalidProblemError") or (
        "embedding" in str(exc).lower()
    ):
        return BackendRejected(f"{name}: {kind}: {exc}")
    return BackendError(f"{name}: {kind}: {exc}")


def _wait(sampleset: dimod.SampleSet, deadline: float | None, what: str) -> dimod.SampleSet:
    """Resolve a possibly asynchronous sample set; cancel the cloud future past the deadline."""

    def cancel() -> None:
        future = getattr(sampleset, "_future", None)  # dimod keeps the cloud future here until resolved
        if future is not None and hasattr(future, "cancel"):
            future.cancel()

    wait_or_cancel(sampleset.done, cancel, deadline=deadline, what=what)
    sampleset.resolve()
    return sampleset


def _output(sampleset: dimod.SampleSet, variables: tuple[Any, ...], start: float) -> BackendOutput:
    agg = sampleset.aggregate()
    samples = agg.record.sample[:, [agg.variables.index(v) for v in variables]].astype(np.float64)
    info: dict[str, Any] = {k: v for k, v in agg.info.items() if isinstance(v, str | int | float | bool | dict)}
    timing = agg.info.get("timing", {})
    if "qpu_access_time" in timing:
        info["qpu_seconds"] = float(timing["qpu_access_time"]) * 1e-6  # reported in microseconds
    return BackendOutput(
        samples=samples,
        termination=Termination.COMPLETED,
        solve_seconds=time.monotonic() - start,
        energies=np.asarray(agg.record.energy, dtype=np.float64),
        num_occurrences=np.asarray(agg.record.num_occurrences),
        info=info,
    )


QPU_PARAMS: dict[str, Param] = {
    "num_reads": Param(int, 100, "anneals (samples)"),
    "chain_strength": Param((int, float), None, "embedding chain strength (default: dwave-system's)"),
    "annealing_time": Param((int, float), None, "anneal duration (microseconds)"),
}


class DWaveQpuBackend:
    """A D-Wave quantum annealer with minor embedding (``EmbeddingComposite``)."""

    name = "dwave-qpu"

    def __init__(self, sampler: Any = None) -> None:
        self.sampler = sampler  #: a structured dimod sampler (DWaveSampler or MockDWaveSampler); None: Leap
        self._clique: int | None = None

    def _largest_clique(self) -> int | None:
        """The largest fully connected problem that surely embeds (minorminer's busclique)."""
        if self.sampler is None:
            return None
        if self._clique is None:
            from minorminer.busclique import busgraph_cache

            try:
                graph = self.sampler.to_networkx_graph()
                self._clique = len(busgraph_cache(graph).largest_clique())
            except Exception:  # not a Chimera/Pegasus/Zephyr graph: fall back to the qubit count
                self._clique = len(self.sampler.nodelist)
        return self._clique

    def capabilities(self) -> Capabilities:
        width = self._largest_clique()
        return Capabilities(
            targets=(TargetKind.BQM,),
            hardware=HardwareKind.QPU_ANNEAL,
            max_variables=width,
            honours_time_limit=True,
            honours_seed=False,
            params=QPU_PARAMS,
        )

    def available(self) -> Availability:
        return _available(self.sampler)

    def solve(
        self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None, params: Mapping[str, Any]
    ) -> BackendOutput:
        avail = self.available()
        if not avail:
            raise BackendUnavailable(f"{self.name}: {avail.reason}")
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        start = time.monotonic()
        deadline = None if time_limit is None else start + time_limit
        from dwave.system import DWaveSampler, EmbeddingComposite

        kwargs: dict[str, Any] = {"num_reads": int(opts["num_reads"])}
        if opts["chain_strength"] is not None:
            kwargs["chain_strength"] = float(opts["chain_strength"])
        if opts["annealing_time"] is not None:
            kwargs["annealing_time"] = float(opts["annealing_time"])
        kwargs.update(opts.get("vendor", {}))
        try:
            qpu = self.sampler if self.sampler is not None else DWaveSampler()
            sampleset = EmbeddingComposite(qpu).sample(compiled.target, **kwargs)
            sampleset = _wait(sampleset, deadline, self.name)
        except BackendError:
            raise
        except Exception as exc:
            raise _vendor_error(self.name, exc) from exc
        return _output(sampleset, compiled.variables, start)


HYBRID_PARAMS: dict[str, Param] = {}


class DWaveHybridBackend:
    """Leap's hybrid solvers: ``LeapHybridSampler`` (BQM) and ``LeapHybridCQMSampler`` (CQM)."""

    name = "dwave-hybrid"

    def __init__(self, bqm_sampler: Any = None, cqm_sampler: Any = None) -> None:
        self.bqm_sampler = bqm_sampler
        self.cqm_sampler = cqm_sampler

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.CQM, TargetKind.BQM),
            hardware=HardwareKind.CLOUD,
            max_variables=None,
            honours_time_limit=True,
            honours_seed=False,
            params=HYBRID_PARAMS,
        )

    def available(self) -> Availability:
        return _available(self.bqm_sampler or self.cqm_sampler)

    def solve(
        self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None, params: Mapping[str, Any]
    ) -> BackendOutput:
        avail = self.available()
        if not avail:
            raise BackendUnavailable(f"{self.name}: {avail.reason}")
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        start = time.monotonic()
        from dwave.system import LeapHybridCQMSampler, LeapHybridSampler

        cqm = compiled.kind is TargetKind.CQM
        try:
            if cqm:
                sampler = self.cqm_sampler if self.cqm_sampler is not None else LeapHybridCQMSampler()
            else:
                sampler = self.bqm_sampler if self.bqm_sampler is not None else LeapHybridSampler()
            kwargs: dict[str, Any] = dict(opts.get("vendor", {}))
            if time_limit is not None and "time_limit" in getattr(sampler, "parameters", {}):
                minimum = getattr(sampler, "min_time_limit", lambda _m: 0.0)(compiled.target)
                kwargs["time_limit"] = max(float(minimum), float(time_limit))
            sampleset = sampler.sample_cqm(compiled.target, **kwargs) if cqm else sampler.sample(
                compiled.target, **kwargs)
            # a hybrid solver's own time limit may exceed ours (its minimum); allow a margin for the network
            margin = 30.0 + float(kwargs.get("time_limit", 0.0))
            sampleset = _wait(sampleset, None if time_limit is None else start + margin, self.name)
        except BackendError:
            raise
        except Exception as exc:
            raise _vendor_error(self.name, exc) from exc
        out = _output(sampleset, compiled.variables, start)
        if cqm and "is_feasible" in sampleset.record.dtype.names:
            out.info["num_feasible"] = int(np.sum(sampleset.record.is_feasible))
        return out
