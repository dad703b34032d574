"""Shared pieces of the routing baselines: parameter specs and the sample built from routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kakehashi.apps.routing.target import RoutingTarget
from kakehashi.backends import budget
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
        return BackendOutput(samples=np.zeros((0, target.num_edges)), termination=Termination.NO_SOLUTION,
                             solve_seconds=seconds, info=info)
    routes = [list(map(int, r)) for r in routes if len(r) > 0]
    sample = target.routes_to_sample(routes)
    energy = target.sample_length(sample)
    info = {**info, "routes": routes}
    return BackendOutput(samples=sample[None, :], termination=termination, solve_seconds=seconds,
                         energies=np.array([energy]), info=info)


def routing_budget(time_limit: float | None, compiled: Compiled[Any]) -> budget.Budget:
    """A routing backend's budget: its only work after the native solver returns is turning
    routes into the edge-count row (20 ms at 501,501 edges), so it keeps back 0.05 s plus
    0.1 µs per edge instead of the generic per-variable reserve."""
    return budget.start(time_limit, reserve=0.05 + 1e-7 * compiled.num_variables)


def nearest_neighbour_routes(target: RoutingTarget) -> list[list[int]]:
    """Routes by the nearest-neighbour construction: from the depot, always to the nearest
    unvisited customer whose demand still fits, back to the depot when none fits.

    O(n²) numpy (5 ms at 1,002 nodes). Written here because it is the answer of last resort
    when a solver's own start-up does not fit the time left; PyVRP/OR-Tools offer no
    construction that runs without that start-up.
    """
    d = np.asarray(target.distances, dtype=float)
    n = target.n
    demand = np.asarray(target.demands, dtype=np.int64)
    cap = None if target.is_tsp else int(target.capacity or 0)
    unvisited = np.ones(n, dtype=bool)
    unvisited[0] = False
    routes: list[list[int]] = []
    while unvisited.any():
        route: list[int] = []
        at, load = 0, 0
        while True:
            ok = unvisited.copy()
            if cap is not None:
                ok &= demand + load <= cap
            if not ok.any():
                break
            row = np.where(ok, d[at], np.inf)
            nxt = int(np.argmin(row))
            route.append(nxt)
            unvisited[nxt] = False
            load += int(demand[nxt])
            at = nxt
        if not route:  # a customer heavier than the capacity: infeasible by construction
            break
        routes.append(route)
    return routes


def construction_if_short(target: RoutingTarget, plan: Any, startup_per_node2: float,
                          solver: str) -> BackendOutput | None:
    """The nearest-neighbour answer when the time left is below ``solver``'s start-up.

    ``startup_per_node2`` is the solver's set-up time before its first answer, seconds per
    node² (measured on the reference machine; see each backend). Returns None when the solver
    has the time to answer itself.
    """
    left = plan.left()
    need = startup_per_node2 * target.n * target.n
    if left >= need:
        return None
    import time

    t0 = time.perf_counter()
    routes = nearest_neighbour_routes(target)
    return output_from_routes(target, routes, seconds=time.perf_counter() - t0, termination=Termination.TIME_LIMIT,
                              info={"method": "nearest-neighbour construction",
                                    "reason": f"{left:.2f} s left, below {solver}'s start-up (~{need:.2f} s)"})
