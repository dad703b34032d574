"""PyVRP (Wouda, Lan & Kool 2024): hybrid genetic search for the CVRP (and the TSP as a 1-vehicle CVRP)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from kakehashi.apps.routing.backends.common import (
    construction_if_short,
    module_available,
    output_from_routes,
    routing_budget,
    routing_target,
)
from kakehashi.backends.base import (
    Availability,
    BackendOutput,
    Capabilities,
    Param,
    Termination,
    check_params,
    check_target,
)
from kakehashi.compile.targets import Compiled, TargetKind
from kakehashi.exceptions import BackendRejected

#: Share of the time left handed to pyvrp's MaxRuntime (its set-up comes on top).
NATIVE_SHARE = 0.85
#: Set-up before the first answer, seconds per node² (model, neighbourhoods and first solutions: 1.0 s at 1,002 nodes, reference machine);
#: with less time left the backend answers the nearest-neighbour construction instead.
STARTUP_PER_NODE2 = 1.0e-6


class PyVRPBackend:
    """Hybrid genetic search (PyVRP); stops at the time limit (seconds)."""

    name = "pyvrp"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            targets=(TargetKind.ROUTING,),
            params={"max_iterations": Param((int, type(None)), None, "stop after this many iterations as well")},
        )

    def available(self) -> Availability:
        return module_available("pyvrp")

    def solve(self, compiled: Compiled[Any], *, time_limit: float | None, seed: int | None,
              params: Mapping[str, Any]) -> BackendOutput:
        caps = self.capabilities()
        check_target(self.name, caps, compiled)
        opts = check_params(self.name, caps, params)
        target = routing_target(self.name, compiled)
        try:
            import pyvrp
            from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise BackendRejected(f"pyvrp: {exc}") from exc
        plan = routing_budget(time_limit, compiled)
        short = construction_if_short(target, plan, STARTUP_PER_NODE2, self.name)
        if short is not None:
            return short
        n = target.n
        coords = target.coords
        model = pyvrp.Model()
        locs = [model.add_location(float(coords[i, 0]) if coords is not None else 0.0,
                                   float(coords[i, 1]) if coords is not None else 0.0) for i in range(n)]
        depot = model.add_depot(locs[0])
        if target.is_tsp:
            model.add_vehicle_type(num_available=1, capacity=0, start_depot=depot, end_depot=depot)
            demands = [0] * n
        else:
            fleet = target.num_vehicles if target.num_vehicles is not None else n - 1
            model.add_vehicle_type(num_available=fleet, capacity=int(target.capacity or 0))
            demands = [int(d) for d in target.demands]
        for i in range(1, n):
            model.add_client(locs[i], delivery=demands[i])
        # The distance matrix goes in whole (a million add_edge calls took 7 s at 1,002 nodes).
        d = np.rint(np.asarray(target.distances, dtype=np.float64)).astype(np.int64)
        np.fill_diagonal(d, 0)
        data = model.data().replace(distance_matrices=[d], duration_matrices=[np.zeros_like(d)])  # type: ignore[list-item]
        # pyvrp's MaxRuntime covers its search only; its set-up (neighbourhoods, first
        # solutions) comes on top, so it gets a share of what is left of the budget.
        # Its set-up before the search (STARTUP_PER_NODE2) comes out of the search's share.
        limit = plan.native_limit(share=NATIVE_SHARE)
        if limit is not None:
            limit = max(0.01, limit - STARTUP_PER_NODE2 * n * n)
        stop: Any = MaxRuntime(limit if limit is not None else 10.0)
        if opts["max_iterations"] is not None:
            stop = MultipleCriteria([stop, MaxIterations(int(opts["max_iterations"]))])
        t0 = time.perf_counter()
        res = pyvrp.solve(data, stop=stop, seed=int(seed or 0), display=False, collect_stats=False)
        seconds = time.perf_counter() - t0
        best = res.best
        info = {"iterations": int(res.num_iterations), "pyvrp_feasible": bool(best.is_feasible()),
                "pyvrp_cost": float(res.cost()) if best.is_feasible() else None}
        if not best.is_feasible() or not best.is_complete():
            return output_from_routes(target, None, seconds=seconds, termination=Termination.NO_SOLUTION, info=info)
        routes = [[_client_node(a) for a in r if _flag(a.is_client)] for r in best.routes()]
        return output_from_routes(target, routes, seconds=seconds, termination=Termination.TIME_LIMIT, info=info)


def _flag(value: Any) -> bool:
    return bool(value() if callable(value) else value)


def _client_node(activity: Any) -> int:
    """Node number of a client activity (one depot first, clients added in node order 1..n-1)."""
    return int(activity.idx) + 1
