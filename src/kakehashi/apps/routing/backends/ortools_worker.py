"""Child process of the ``ortools-routing`` backend: JSON request on stdin, JSON routes on stdout.

Request: ``{"distances": [[int]], "demands": [int], "capacity": int | null, "fleet": int,
"time_limit": seconds, "deadline": UNIX time | null}`` (the solve ends by the earlier of the
two). Answer: ``{"routes": [[node, ...], ...] | null, "objective": int, "status": int}``, one JSON document per line each way (the process serves requests until stdin
closes). Runs OR-Tools routing: path-cheapest-arc start, guided local search.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

#: Least seconds a solve gets, even past the caller's deadline (enough for a first solution).
MIN_SECONDS = 0.1


def solve(req: dict[str, Any]) -> dict[str, Any]:
    """Solve one request (see the module docstring)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    d = req["distances"]
    n = len(d)
    fleet = int(req["fleet"])
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)

    # Matrices, not Python callbacks: OR-Tools calls an arc evaluator millions of times.
    matrix = [[int(x) for x in row] for row in d]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(matrix))
    if req.get("capacity") is not None:
        dcb = routing.RegisterUnaryTransitVector([int(q) for q in req["demands"]])
        routing.AddDimensionWithVehicleCapacity(dcb, 0, [int(req["capacity"])] * fleet, True, "load")
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    seconds = float(req["time_limit"])
    if req.get("deadline") is not None:  # a UNIX time: what is left of the caller's budget now
        seconds = min(seconds, float(req["deadline"]) - time.time())
    # A floor of MIN_SECONDS: below it OR-Tools gives up before its first solution.
    search.time_limit.FromMilliseconds(int(1000 * max(MIN_SECONDS, seconds)))
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
    """One request per line on stdin, one answer per line on stdout, until stdin closes.

    The parent keeps this process for the next solve: importing OR-Tools takes seconds, more
    than a short time limit allows. A request that fails answers ``{"error": "..."}``.
    """
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = solve(json.loads(line))
        except Exception as exc:  # the parent turns this into a BackendRejected
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
