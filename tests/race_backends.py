"""Misbehaving test backends for race tests, importable by race legs (module-level factories).

``StubbornBackend`` reports two incumbents (all zeros, then the better of all zeros / all ones
after one greedy pass) and then ignores its time limit; ``SilentBackend`` sleeps without ever
reporting. Both accept binary BQMs. ``ReportingBackend`` reports a decreasing sequence of
incumbents and returns at once (for trajectories in a single-backend solve).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    Termination,
    binary_bqm,
)
from kakehashi.backends.progress import report_incumbent
from kakehashi.compile.targets import Compiled, TargetKind

#: Seconds the misbehaving backends sleep past any time limit.
SLEEP_SECONDS = 60.0


def _energy(bqm: Any, variables: list[Any], row: np.ndarray) -> float:
    return float(bqm.energy(dict(zip(variables, row.tolist(), strict=True))))


def greedy(bqm: Any, variables: list[Any]) -> np.ndarray:
    """One pass of single-flip descent from all zeros (the stubborn backend's second incumbent)."""
    row = np.zeros(len(variables))
    best = _energy(bqm, variables, row)
    for i in range(len(variables)):
        row[i] = 1.0
        energy = _energy(bqm, variables, row)
        if energy < best:
            best = energy
        else:
            row[i] = 0.0
    return row


class _Base:
    name = "test"

    def capabilities(self) -> Capabilities:
        return Capabilities(targets=(TargetKind.BQM,))

    def available(self) -> Availability:
        return Availability.yes()


class StubbornBackend(_Base):
    name = "stubborn"

    def solve(self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None,
              params: Mapping[str, Any]) -> BackendOutput:
        bqm = binary_bqm(self.name, compiled)
        variables = list(compiled.variables)
        zeros = np.zeros(len(variables))
        report_incumbent(zeros, _energy(bqm, variables, zeros))
        better = greedy(bqm, variables)
        report_incumbent(better, _energy(bqm, variables, better))
        time.sleep(SLEEP_SECONDS)
        return BackendOutput(samples=better[None, :], termination=Termination.COMPLETED, solve_seconds=0.0)


class SilentBackend(_Base):
    name = "silent"

    def solve(self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None,
              params: Mapping[str, Any]) -> BackendOutput:
        time.sleep(SLEEP_SECONDS)
        return BackendOutput(samples=np.zeros((0, compiled.num_variables)), termination=Termination.NO_SOLUTION,
                             solve_seconds=0.0)


class ReportingBackend(_Base):
    name = "reporting"

    def solve(self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None,
              params: Mapping[str, Any]) -> BackendOutput:
        n = compiled.num_variables
        for energy in (3.0, 2.0, 1.0):
            report_incumbent(np.zeros(n), energy)
            time.sleep(0.01)
        return BackendOutput(samples=np.zeros((1, n)), termination=Termination.COMPLETED, solve_seconds=0.03)
