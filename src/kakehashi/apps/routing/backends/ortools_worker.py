"""Child process of the ``ortools-routing`` backend: JSON request on stdin, JSON routes on stdout.

Request: ``{"distances": [[int]], "demands": [int], "capacity": int | null, "fleet": int,
"time_limit": seconds}``. Answer: ``{"routes": [[node, ...], ...] | null, "objective": int,
"status": int}``. Runs OR-Tools routing: path-cheapest-arc start, guided local search.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def solve(req: dict[str, Any]) -> dict[str, Any]:
    """Solve one request (see the module docstring)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    d = req["distances"]
    n = len(d)
    fleet = int(req["fleet"])
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)

    def dist(a: int, b: int) -> int:
        return int(d[manager.IndexToNode(a)][manager.IndexToNode(b)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(dist))
    if req.get("capacity") is not None:
        dem = req["demands"]

        def demand(a: int) -> int:
            return int(dem[manager.IndexToNode(a)])

        dcb = routing.RegisterUnaryTransitCallback(demand)
        routing.AddDimensionWithVehicleCapacity(dcb, 0, [int(req["capacity"])] * fleet, True, "load")
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    search.time_limit.FromMilliseconds(max(1, int(float(req["time_limit"]) * 1000)))
    sol = routing.SolveWithParameters(search)
    if sol is None:
        return {"routes": None, "status": int(routing.status())}
    routes: list[list[int]] = []
    for v in range(fleet):
        idx = sol.Value(routing.NextVar(routing.Start(v)))
        route: list[int] = []
        while not routing.IsEnd(idx):
            route.append(int(manager.IndexToNode(idx)))
            idx = sol.Value(routing.NextVar(idx))
        routes.append(route)
    return {"routes": routes, "objective": int(sol.ObjectiveValue()), "status": int(routing.status())}


def main() -> None:
    json.dump(solve(json.loads(sys.stdin.read())), sys.stdout)


if __name__ == "__main__":
    main()
