"""Vehicle routing: TSP and CVRP from TSPLIB/CVRPLIB/CSV, QUBO and hybrid routes, classical baselines."""

from kakehashi.apps.routing.app import ROUTING_BACKENDS, interpret, solve_routing
from kakehashi.apps.routing.formulation import (
    position_penalty_bqm,
    to_problem,
    tour_from_positions,
    tsp_qubo_problem,
)
from kakehashi.apps.routing.instance import RoutingInstance
from kakehashi.apps.routing.reader import read_csv, read_routing, read_tsplib
from kakehashi.apps.routing.solution import RouteReport, RoutingSolution, Validation, make_solution, validate
from kakehashi.apps.routing.target import RoutingTarget, compile_routing

__all__ = [
    "ROUTING_BACKENDS",
    "RouteReport",
    "RoutingInstance",
    "RoutingSolution",
    "RoutingTarget",
    "Validation",
    "compile_routing",
    "interpret",
    "make_solution",
    "position_penalty_bqm",
    "read_csv",
    "read_routing",
    "read_tsplib",
    "solve_routing",
    "to_problem",
    "tour_from_positions",
    "tsp_qubo_problem",
    "validate",
]
