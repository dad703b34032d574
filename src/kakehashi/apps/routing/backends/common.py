"""Shared pieces of the routing baselines: parameter specs and the sample built from routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kakehashi.apps.routing.target import RoutingTarget
from kakehashi.backends.base import Availability, BackendOutput, Termination
from kakehashi.compile.targets import Compiled
from kakehashi.exceptions import BackendRejected

INSTALL_HINT = "install the extra: pip install 'kakehashi[routing]'"


def module_available(module: str) -> Availability:
    """Availability of an importable module, with the routing install hint when missing."""
    return Availability.of_modules(module, hint=INSTALL_HINT)


def routing_target(backend: str, compiled: Compiled[Any]) -> RoutingTarget:
    """The compiled target, checked to be a :class:`RoutingTarget`."""
    target = compiled.target
    if not isinstance(target, RoutingTarget):
        raise BackendRejected(f"{backend}: expected a RoutingTarget, got {type(target).__name__}")
    return target


def output_from_routes(target: RoutingTarget, routes: Sequence[Sequence[int]] | None, *, seconds: float,
                       termination: Termination, info: dict[str, Any]) -> BackendOutput:
    """A one-sample :class:`BackendOutput` (edge counts) from routes, or an empty one."""
    if routes is None:
        return BackendOutput(samples=np.zeros((0, len(target.edges()))), termination=Termination.NO_SOLUTION,
                             solve_seconds=seconds, info=info)
    routes = [list(map(int, r)) for r in routes if len(r) > 0]
    sample = target.routes_to_sample(routes)
    energy = float(sum(target.distances[a, b] * c for (a, b), c in zip(target.edges(), sample, strict=True)))
    info = {**info, "routes": routes}
    return BackendOutput(samples=sample[None, :], termination=termination, solve_seconds=seconds,
                         energies=np.array([energy]), info=info)
