"""The conformance kit itself: the subclassing pattern works, and broken backends fail it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from kakehashi.backends.base import Availability, BackendOutput, Capabilities
from kakehashi.backends.classical.exact import ExactBackend
from kakehashi.backends.registry import register, unregister
from kakehashi.compile.targets import Compiled
from kakehashi.testing import BackendConformance


class TestExactThroughTheThirdPartyPattern(BackendConformance):
    backend_name = "exact"


class LyingEnergies(ExactBackend):
    """Reports energies that are off by one."""

    name = "kit-liar"

    def solve(self, compiled: Compiled[Any], **kwargs: Any) -> BackendOutput:
        out = super().solve(compiled, **kwargs)
        assert out.energies is not None
        return replace(out, energies=out.energies + 1.0)


class WrongOptimum(ExactBackend):
    """Claims OPTIMAL for its worst returned state only."""

    name = "kit-wrong-optimum"

    def solve(self, compiled: Compiled[Any], **kwargs: Any) -> BackendOutput:
        out = super().solve(compiled, **kwargs)
        assert out.energies is not None
        return replace(out, samples=out.samples[-1:], energies=out.energies[-1:])


class AcceptsAnything(ExactBackend):
    """Ignores unknown parameters."""

    name = "kit-lax"

    def solve(
        self,
        compiled: Compiled[Any],
        *,
        time_limit: float | None,
        seed: int | None,
        params: Mapping[str, Any],
    ) -> BackendOutput:
        return super().solve(compiled, time_limit=time_limit, seed=seed, params={})


class NoReason(ExactBackend):
    name = "kit-silent"

    def available(self) -> Availability:
        return Availability.no("")


class Random(ExactBackend):
    """Claims honours_seed but returns random states."""

    name = "kit-random"

    def solve(self, compiled: Compiled[Any], **kwargs: Any) -> BackendOutput:
        out = super().solve(compiled, **kwargs)
        rng = np.random.default_rng()
        return replace(out, samples=rng.permutation(out.samples), energies=None)

    def capabilities(self) -> Capabilities:
        return replace(super().capabilities(), proves_optimality=False)


@pytest.fixture
def registered() -> Iterator[None]:
    classes = [LyingEnergies, WrongOptimum, AcceptsAnything, NoReason, Random]
    for cls in classes:
        register(cls.name, cls)
    yield
    for cls in classes:
        unregister(cls.name)


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize(
    ("name", "check", "error"),
    [
        ("kit-liar", "test_energies_and_optimum", AssertionError),
        ("kit-wrong-optimum", "test_energies_and_optimum", AssertionError),
        ("kit-lax", "test_unknown_param_rejected", pytest.fail.Exception),
        ("kit-silent", "test_available_has_reason", AssertionError),
        ("kit-random", "test_same_seed_same_samples", AssertionError),
    ],
)
def test_broken_backends_fail_the_kit(name: str, check: str, error: type[BaseException]) -> None:
    from kakehashi.backends.registry import get_backend

    backend = get_backend(name)
    with pytest.raises(error):
        getattr(BackendConformance(), check)(backend)
