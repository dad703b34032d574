"""Solve a routing instance on any backend and get routes back: :func:`solve_routing`.

* ``pyvrp`` / ``lkh`` / ``ortools-routing``: the edge Problem is solved by
  :func:`kakehashi.solve` through the ROUTING target; :func:`interpret` rebuilds the routes
  from the evaluated edge sample.
* any other backend (Ising/QUBO machines such as ``sa``, ``tabu``, ``sb``): a TSP of at most
  :data:`~kakehashi.apps.routing.formulation.MAX_QUBO_CITIES` cities is solved as one
  position QUBO; anything larger goes through the cluster-first route-second hybrid.
* ``auto``: ``lkh`` for a TSP, ``pyvrp`` for a CVRP.

Every answer passes through :func:`~kakehashi.apps.routing.solution.validate`; an instance that
is infeasible by construction (total demand above k × capacity) is reported as INFEASIBLE
without solving.
"""

from __future__ import annotations

import time

from kakehashi.apps.routing.formulation import (
    MAX_QUBO_CITIES,
    to_problem,
    tour_from_positions,
    tsp_qubo_problem,
)
from kakehashi.apps.routing.hybrid import cluster_first_route_second
from kakehashi.apps.routing.instance import RoutingInstance
from kakehashi.apps.routing.solution import RoutingSolution, Validation, make_solution, routes_from_edges
from kakehashi.apps.routing.target import to_target
from kakehashi.result import Result

#: Backends that take the ROUTING target.
ROUTING_BACKENDS = ("pyvrp", "lkh", "ortools-routing")


def interpret(result: Result, instance: RoutingInstance) -> RoutingSolution:
    """Routes, per-route load and length and the total cost of an edge-formulation Result."""
    if not result.sample:
        sol = RoutingSolution(instance=instance.name, routes=[], total_cost=0, status=result.status.value,
                              backend=result.backend, known_optimum=instance.known_optimum,
                              validation=Validation(ok=False, violations=["no solution"]))
        return sol
    target = to_target(instance)
    edges = target.edges()
    counts = [float(result.sample.get(("x", i, j), 0.0)) for i, j in edges]
    import numpy as np

    routes = routes_from_edges(instance.dimension, edges, np.asarray(counts))
    return make_solution(instance, routes, backend=result.backend, solve_seconds=result.timings.solve,
                         info={"result_status": result.status.value})


def solve_routing(instance: RoutingInstance, backend: str = "auto", *, time_limit: float = 10.0,
                  seed: int | None = None) -> RoutingSolution:
    """Solve ``instance`` on ``backend`` within ``time_limit`` seconds; validated routes."""
    from kakehashi.solver import solve

    why = instance.check_feasible_by_construction()
    if why is not None:
        return RoutingSolution(instance=instance.name, routes=[], total_cost=0, status="INFEASIBLE",
                               backend=backend, known_optimum=instance.known_optimum,
                               validation=Validation(ok=False, violations=[f"infeasible by construction: {why}"]))
    if backend == "auto":
        backend = "lkh" if instance.kind == "tsp" else "pyvrp"
    if backend in ROUTING_BACKENDS:
        result = solve(to_problem(instance), backend, time_limit=time_limit, seed=seed)
        return interpret(result, instance)
    t0 = time.perf_counter()
    if instance.kind == "tsp" and instance.dimension <= MAX_QUBO_CITIES:
        result = solve(tsp_qubo_problem(instance), backend, time_limit=time_limit, seed=seed)
        order = tour_from_positions(instance.dimension, result.sample) if result.sample else None
        routes = [order] if order is not None else []
        sol = make_solution(instance, routes, backend=backend, solve_seconds=time.perf_counter() - t0,
                            info={"method": "position QUBO", "qubo_status": result.status.value})
        return sol
    routes, info = cluster_first_route_second(instance, backend, time_limit=time_limit, seed=seed)
    if instance.kind == "tsp":
        routes = [[v for r in routes for v in r]]
    return make_solution(instance, routes, backend=f"hybrid:{backend}", solve_seconds=time.perf_counter() - t0,
                         info=info)
