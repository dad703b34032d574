"""The backend conformance kit: the checks every registered backend passes.

Use it like ``dimod.testing``, by subclassing::

    from kakehashi.testing import BackendConformance

    class TestMine(BackendConformance):
        backend_name = "mine"

pytest then runs every ``test_*`` method against the backend registered as ``"mine"``. To run
the kit over several backends at once, override the ``conformance_backend_name`` fixture with
``params=[...]``. An unavailable backend passes :meth:`test_available_has_reason` and skips the
rest with its reason.

What is checked (each for every target kind the backend accepts and the kit can build):

* samples have the target's shape and domain (0/1, ±1, bounds, integrality);
* reported energies agree with the target model (BQM energies via dimod, MatrixProgram
  objective...), and inverted samples evaluated on the original problem agree with them;
* an OPTIMAL answer from a backend that proves optimality is feasible and equals the optimum
  the kit computed independently (brute force or SLSQP);
* the time limit is honoured within ``time_limit + max(1 s, 20 %)`` (``honours_time_limit``);
* the same seed gives the same samples (``honours_seed``; run without a time limit, so that
  heuristics which stop on the clock are not cut at different points);
* unsupported target kinds, oversize targets and unknown parameters raise BackendRejected,
  and the unknown-parameter message lists the accepted names;
* BQM backends wrapped as :class:`~kakehashi.backends.dimod_sampler.KakehashiSampler` pass
  ``dimod.testing``'s sampler checks.
"""

from __future__ import annotations

import time
import unittest
from collections.abc import Iterator
from typing import Any, ClassVar

import dimod
import numpy as np
import pytest

from kakehashi.backends.base import Availability, Backend, BackendOutput, Capabilities, Termination
from kakehashi.backends.registry import get_backend
from kakehashi.compile.targets import Compiled, IsingModel, MatrixProgram, TargetKind
from kakehashi.exceptions import BackendRejected, CompileError
from kakehashi.model.problem import Problem
from kakehashi.testing.problems import (
    Case,
    bqm_case,
    convex_qp_case,
    integer_qp_case,
    knapsack_case,
    market_split_case,
    random_bqm,
)

#: Target kinds the kit builds problems for directly.
BUILT_KINDS = (TargetKind.BQM, TargetKind.ISING, TargetKind.MILP, TargetKind.MIQP)
UNKNOWN_PARAM = "kakehashi_conformance_no_such_parameter"


def target_energies(compiled: Compiled[Any], samples: np.ndarray) -> np.ndarray | None:
    """The target model's own objective of each sample row, or None for kinds without one here."""
    target = compiled.target
    if samples.shape[0] == 0:
        return np.zeros(0)
    if compiled.kind is TargetKind.BQM:
        return np.asarray(target.energies((samples, list(compiled.variables))), dtype=float)
    if compiled.kind is TargetKind.ISING and isinstance(target, IsingModel):
        return target.energies(samples)
    if isinstance(target, MatrixProgram):
        return target.objective(samples)
    if compiled.kind is TargetKind.CQM:
        return np.asarray(target.objective.energies((samples, list(compiled.variables))), dtype=float)
    return None


def close(a: np.ndarray | float, b: np.ndarray | float, tol: float) -> bool:
    """|a - b| <= tol · max(1, |b|), elementwise, all."""
    a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(np.abs(a_ - b_) <= tol * np.maximum(1.0, np.abs(b_))))


def _timeout_marks() -> list[pytest.MarkDecorator]:
    """A per-check timeout (120 s) when pytest-timeout is installed, so one hung backend cannot stall a suite."""
    try:
        import pytest_timeout  # noqa: F401
    except ImportError:
        return []
    return [pytest.mark.timeout(120)]


class BackendConformance:
    """Subclass with ``backend_name = "..."``; pytest collects the checks below.

    Class attributes a subclass may tune:
        backend_name: the registered backend to check.
        time_limit: seconds given to each solve (keep it short: 1–2 s).
        seed_time_limit: time limit for the same-seed check (None: none, see module docstring).
        time_tolerance: (absolute seconds, relative) slack on the time limit: the contract's
            ``max(0.5 s, 5 %)`` (issue 10) plus 0.5 s for a loaded CI machine.
    """

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = _timeout_marks()
    backend_name: ClassVar[str] = ""
    time_limit: ClassVar[float] = 1.0
    seed_time_limit: ClassVar[float | None] = None
    time_tolerance: ClassVar[tuple[float, float]] = (1.0, 0.05)

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture
    def conformance_backend_name(self) -> str:
        if not self.backend_name:
            pytest.skip("set backend_name on the BackendConformance subclass")
        return self.backend_name

    @pytest.fixture
    def any_backend(self, conformance_backend_name: str) -> Backend:
        """The backend, available here or not."""
        return get_backend(conformance_backend_name)

    @pytest.fixture
    def backend(self, any_backend: Backend) -> Backend:
        """The backend; the test is skipped (with the backend's reason) when it is unavailable."""
        availability = any_backend.available()
        if not availability:
            pytest.skip(f"{any_backend.name} unavailable: {availability.reason}")
        return any_backend

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def cases_for(kind: TargetKind, caps: Capabilities) -> Iterator[Case]:
        """The kit's problems for ``kind``, in order of preference."""
        if kind in (TargetKind.BQM, TargetKind.ISING):
            yield bqm_case(10)
        elif kind in (TargetKind.MILP, TargetKind.CQM):
            yield knapsack_case(continuous=caps.accepts_continuous)
        elif kind is TargetKind.MIQP:
            yield integer_qp_case(quadratic_row=True)
            yield integer_qp_case(quadratic_row=False)
            if caps.accepts_continuous:
                yield convex_qp_case()
        else:
            yield bqm_case(6)

    def compiled_cases(self, backend: Backend) -> Iterator[tuple[Case, Compiled[Any]]]:
        """(case, compiled) for every accepted kind the kit can compile a case for."""
        caps = backend.capabilities()
        for kind in caps.targets:
            for case in self.cases_for(kind, caps):
                try:
                    yield case, case.compile(kind)
                except CompileError:
                    continue

    def primary(self, backend: Backend) -> tuple[Case, Compiled[Any]]:
        """The kit's first problem of the backend's preferred kind (time, seed and parameter checks)."""
        for case, compiled in self.compiled_cases(backend):
            return case, compiled
        pytest.skip(
            f"{backend.name}: the kit has no problem for {[t.value for t in backend.capabilities().targets]}"
        )

    @staticmethod
    def solve(
        backend: Backend,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: dict[str, Any] | None = None,
    ) -> BackendOutput:
        out = backend.solve(compiled, time_limit=time_limit, seed=seed, params=params or {})
        assert isinstance(out, BackendOutput), f"{backend.name}: solve returned {type(out).__name__}"
        return out

    @staticmethod
    def check_output(backend: Backend, case: Case, compiled: Compiled[Any], out: BackendOutput) -> None:
        """Shapes, domains, energies and (for proofs) the optimum of one output."""
        name, n = backend.name, compiled.num_variables
        X = np.asarray(out.samples, dtype=float)
        assert X.ndim == 2 and X.shape[1] == n, f"{name}: samples shape {X.shape}, expected (k, {n})"
        assert isinstance(out.termination, Termination)
        assert out.solve_seconds >= 0.0
        assert np.all(np.isfinite(X)), f"{name}: non-finite sample values"
        k = X.shape[0]
        if out.termination is Termination.NO_SOLUTION or out.termination is Termination.INFEASIBLE:
            return
        assert k >= 1, f"{name}: termination {out.termination.value} but no samples"
        if out.num_occurrences is not None:
            occ = np.asarray(out.num_occurrences)
            assert occ.shape == (k,) and np.all(occ >= 1), f"{name}: bad num_occurrences {occ}"
        target = compiled.target
        if compiled.kind is TargetKind.BQM:
            assert np.all((X == 0) | (X == 1)), f"{name}: BQM samples must be 0/1"
        elif compiled.kind is TargetKind.ISING:
            assert np.all(np.abs(X) == 1), f"{name}: Ising samples must be ±1"
        elif isinstance(target, MatrixProgram):
            tol = 1e-6
            below, above = np.asarray(target.lower) - X, X - np.asarray(target.upper)
            assert np.all(below <= tol) and np.all(above <= tol), f"{name}: bounds violated"
            cols = np.asarray(target.integrality, dtype=bool)
            frac = np.abs(X[:, cols] - np.round(X[:, cols]))
            assert np.all(frac <= tol), f"{name}: integrality violated by {frac.max(initial=0.0)}"

        energies = target_energies(compiled, X)
        if out.energies is not None:
            reported = np.asarray(out.energies, dtype=float)
            assert reported.shape == (k,), f"{name}: energies shape {reported.shape}, expected ({k},)"
            if energies is not None:
                assert close(reported, energies, 1e-6), f"{name}: reported energies disagree with the target"
        if energies is None:
            return
        caps = backend.capabilities()
        proved = caps.proves_optimality and out.termination is Termination.OPTIMAL
        best = int(np.argmin(energies))
        problem = case.problem
        if problem is None:  # a prebuilt target: its optimum is in target terms
            if proved and case.target_optimum is not None:
                assert close(energies[best], case.target_optimum, case.tolerance), (
                    f"{name}: OPTIMAL energy {energies[best]} but the optimum is {case.target_optimum}"
                )
            return
        # Through the inverter, on the original problem: target energy = ±objective when no
        # penalties are involved (every case the kit builds for these kinds is penalty-free).
        original = compiled.inverter(X)
        objectives, violations = problem.evaluate_many(original, compiled.inverter.original)
        sign = -1.0 if problem.sense == "max" else 1.0
        if compiled.kind in (TargetKind.BQM, TargetKind.ISING, TargetKind.MILP, TargetKind.MIQP):
            assert close(sign * objectives, energies, 1e-6), (
                f"{name}: target energies disagree with the problem"
            )
        if proved:
            assert violations[best] <= 1e-5, (
                f"{name}: OPTIMAL answer violates constraints by {violations[best]}"
            )
            if problem.known_optimum is not None:
                assert close(objectives[best], problem.known_optimum, case.tolerance), (
                    f"{name}: OPTIMAL objective {objectives[best]} but the optimum is {problem.known_optimum}"
                )
        if proved and out.bound is not None:
            assert out.bound <= energies[best] + case.tolerance * max(1.0, abs(energies[best])), (
                f"{name}: bound {out.bound} above the best energy {energies[best]}"
            )

    def timing_compiled(self, backend: Backend, fallback: Compiled[Any]) -> Compiled[Any]:
        """A problem big or hard enough for the time limit to matter, of the primary kind."""
        caps = backend.capabilities()
        kind = fallback.kind
        try:
            if kind in (TargetKind.BQM, TargetKind.ISING):
                n = min(200, caps.max_variables or 200)
                return Case("big-bqm", Problem(random_bqm(n, seed=5, density=0.2)), (kind,)).compile(kind)
            if kind is TargetKind.MILP:
                return market_split_case(integer_slack=not caps.accepts_continuous).compile(kind)
        except CompileError:
            pass
        return fallback

    # ------------------------------------------------------------------ checks
    def test_available_has_reason(self, any_backend: Backend) -> None:
        availability = any_backend.available()
        assert isinstance(availability, Availability)
        if not availability:
            assert availability.reason.strip(), f"{any_backend.name}: unavailable without a reason"

    def test_capabilities(self, any_backend: Backend) -> None:
        caps = any_backend.capabilities()
        assert isinstance(caps, Capabilities)
        assert caps.targets, f"{any_backend.name}: accepts no target kind"
        assert all(isinstance(t, TargetKind) for t in caps.targets)
        assert isinstance(any_backend.name, str) and any_backend.name
        caps.to_dict()

    def test_energies_and_optimum(self, backend: Backend) -> None:
        checked: dict[TargetKind, str] = {}
        rejected: dict[TargetKind, list[str]] = {}
        for case, compiled in self.compiled_cases(backend):
            if compiled.kind in checked:
                continue
            try:
                out = self.solve(backend, compiled, time_limit=self.time_limit, seed=1)
            except BackendRejected as exc:
                rejected.setdefault(compiled.kind, []).append(f"{case.name}: {exc}")
                continue
            self.check_output(backend, case, compiled, out)
            checked[compiled.kind] = case.name
        missing = [k for k in rejected if k not in checked]
        assert not missing, f"{backend.name}: rejected every kit problem of an accepted kind: {rejected}"

    def test_time_limit(self, backend: Backend) -> None:
        caps = backend.capabilities()
        if not caps.honours_time_limit:
            pytest.skip(f"{backend.name} does not promise to honour time limits")
        _, small = self.primary(backend)
        compiled = self.timing_compiled(backend, small)
        limit = self.time_limit
        start = time.perf_counter()
        try:
            out = self.solve(backend, compiled, time_limit=limit, seed=2)
        except BackendRejected:
            start = time.perf_counter()
            out = self.solve(backend, small, time_limit=limit, seed=2)
        elapsed = time.perf_counter() - start
        allowed = limit + max(self.time_tolerance[0], self.time_tolerance[1] * limit)
        assert elapsed <= allowed, f"{backend.name}: took {elapsed:.2f} s under a {limit} s limit"
        assert np.asarray(out.samples).ndim == 2
        if not caps.proves_optimality:  # a heuristic always has a state: stopped, it answers with it
            assert np.asarray(out.samples).shape[0] > 0, f"{backend.name}: stopped at the limit with no sample"

    def test_same_seed_same_samples(self, backend: Backend) -> None:
        caps = backend.capabilities()
        if not caps.honours_seed:
            pytest.skip(f"{backend.name} does not promise reproducible samples")
        _, compiled = self.primary(backend)
        first = self.solve(backend, compiled, time_limit=self.seed_time_limit, seed=1234)
        second = self.solve(backend, compiled, time_limit=self.seed_time_limit, seed=1234)
        assert first.termination == second.termination
        assert np.array_equal(np.asarray(first.samples), np.asarray(second.samples)), (
            f"{backend.name}: the same seed gave different samples"
        )

    def test_unsupported_target_rejected(self, backend: Backend) -> None:
        caps = backend.capabilities()
        others = [k for k in BUILT_KINDS if k not in caps.targets]
        if not others:
            pytest.skip(f"{backend.name} accepts every kind the kit builds")
        kind = others[0]
        case = next(iter(self.cases_for(kind, caps)))
        compiled = case.compile(kind)
        with pytest.raises(BackendRejected):
            self.solve(backend, compiled, time_limit=self.time_limit, seed=0)

    def test_oversize_rejected(self, backend: Backend) -> None:
        caps = backend.capabilities()
        limit = caps.max_variables
        if limit is None or limit > 5000:
            pytest.skip(f"{backend.name} has no variable limit the kit can exceed cheaply")
        kinds = [k for k in caps.targets if k in (TargetKind.BQM, TargetKind.ISING)]
        if not kinds:
            pytest.skip(f"{backend.name}: the kit builds oversize problems for BQM/Ising only")
        big = Case("oversize", Problem(random_bqm(limit + 1, density=0.1)), (kinds[0],))
        with pytest.raises(BackendRejected):
            self.solve(backend, big.compile(kinds[0]), time_limit=self.time_limit, seed=0)

    def test_unknown_param_rejected(self, backend: Backend) -> None:
        _, compiled = self.primary(backend)
        with pytest.raises(BackendRejected) as info:
            self.solve(backend, compiled, time_limit=self.time_limit, seed=0, params={UNKNOWN_PARAM: 1})
        message = str(info.value)
        assert UNKNOWN_PARAM in message
        missing = [p for p in backend.capabilities().params if p not in message]
        assert not missing, f"{backend.name}: the message does not list accepted parameters {missing}"

    def test_dimod_sampler(self, backend: Backend) -> None:
        if TargetKind.BQM not in backend.capabilities().targets:
            pytest.skip(f"{backend.name} does not accept BQMs, so it is no dimod sampler")
        from kakehashi.backends.dimod_sampler import KakehashiSampler

        def factory() -> KakehashiSampler:
            return KakehashiSampler(backend)

        factory.__name__ = f"KakehashiSampler_{backend.name}"
        dimod.testing.assert_sampler_api(factory())

        @dimod.testing.load_sampler_bqm_tests(factory)
        class SamplerChecks(unittest.TestCase):
            pass

        for method in sorted(m for m in dir(SamplerChecks) if m.startswith("test_")):
            getattr(SamplerChecks(method), method)()
