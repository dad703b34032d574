"""Baselines as kakehashi backends, the QUBO route against brute force, the hybrid route."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from kakehashi.apps.routing import (
    RoutingInstance,
    read_routing,
    solve_routing,
    to_problem,
    tour_from_positions,
    tsp_qubo_problem,
)


def test_berlin52_lkh_finds_7542(data_dir: Path) -> None:
    inst = read_routing(data_dir / "tsplib" / "berlin52.tsp")
    sol = solve_routing(inst, "lkh", time_limit=2, seed=1)
    assert sol.validation is not None and sol.validation.ok
    assert sol.total_cost == 7542


def test_pyvrp_matches_a_known_optimum(data_dir: Path) -> None:
    inst = read_routing(data_dir / "cvrplib" / "A" / "A-n32-k5.vrp")
    sol = solve_routing(inst, "pyvrp", time_limit=3, seed=1)
    assert sol.validation is not None and sol.validation.ok
    assert sol.total_cost == 784
    assert len(sol.routes) <= 5


def test_ortools_routing_gives_a_valid_answer(data_dir: Path) -> None:
    inst = read_routing(data_dir / "cvrplib" / "A" / "A-n32-k5.vrp")
    sol = solve_routing(inst, "ortools-routing", time_limit=2)
    assert sol.validation is not None and sol.validation.ok
    assert 784 <= sol.total_cost <= 784 * 1.10


def test_edge_problem_evaluates_the_route_length(data_dir: Path) -> None:
    import kakehashi

    inst = read_routing(data_dir / "cvrplib" / "A" / "A-n32-k5.vrp")
    result = kakehashi.solve(to_problem(inst), "pyvrp", time_limit=2, seed=3)
    assert result.feasible
    from kakehashi.apps.routing import interpret

    assert interpret(result, inst).total_cost == result.objective


def _five_cities() -> RoutingInstance:
    coords = [(0.0, 0.0), (4.0, 1.0), (7.0, 5.0), (2.0, 8.0), (-3.0, 4.0)]
    return RoutingInstance(name="five", kind="tsp", coords=coords)


def test_position_qubo_brute_force() -> None:
    inst = _five_cities()
    d = inst.distances
    best = min(sum(d[a, b] for a, b in zip((0, *p), (*p, 0), strict=True))
               for p in itertools.permutations(range(1, 5)))
    problem = tsp_qubo_problem(inst)
    # the QUBO objective of every feasible assignment equals the tour length
    for p in itertools.permutations(range(1, 5)):
        sample = {v: 0 for v in problem.variables}
        for t, c in enumerate(p):
            sample[("p", c, t)] = 1
        ev = problem.evaluate(sample)
        assert ev.feasible
        assert ev.objective == sum(d[a, b] for a, b in zip((0, *p), (*p, 0), strict=True))
        assert tour_from_positions(5, sample) == list(p)
    sol = solve_routing(inst, "tabu", time_limit=2, seed=5)
    assert sol.validation is not None and sol.validation.ok
    assert sol.total_cost == best


@pytest.mark.parametrize("backend", ["tabu"])
def test_hybrid_route_is_valid(data_dir: Path, backend: str) -> None:
    inst = read_routing(data_dir / "cvrplib" / "A" / "A-n32-k5.vrp")
    sol = solve_routing(inst, backend, time_limit=3, seed=2)
    assert sol.validation is not None and sol.validation.ok, sol.validation
    assert sol.info["qubo_routes"] >= 1
    assert sol.total_cost >= 784


def test_route_plot(tmp_path: Path) -> None:
    from kakehashi.apps.routing.plot import plot_routes

    inst = _five_cities()
    sol = solve_routing(inst, "lkh", time_limit=1)
    png = plot_routes(inst, sol, tmp_path / "r.png")
    html = plot_routes(inst, sol, tmp_path / "r.html")
    assert png.read_bytes()[:4] == b"\x89PNG" and "<svg" in html.read_text()


def test_local_search_reaches_a_relocate_and_swap_optimum(data_dir: Path) -> None:
    import numpy as np

    from kakehashi.apps.routing.hybrid import sweep_clusters
    from kakehashi.apps.routing.local_search import local_search
    from kakehashi.apps.routing.solution import route_length, validate

    inst = read_routing(data_dir / "cvrplib" / "A" / "A-n32-k5.vrp")
    start = sweep_clusters(inst, 0.0)
    routes = local_search(inst.distances, inst.demand_array, inst.capacity, start, fleet=inst.num_vehicles)
    assert validate(inst, routes).ok
    total = sum(route_length(inst, r) for r in routes)
    assert total <= sum(route_length(inst, r) for r in start) or not validate(inst, start).ok
    dem, cap = inst.demand_array, inst.capacity or 0
    padded = [*routes, *([[]] * ((inst.num_vehicles or 0) - len(routes)))]
    # brute force: no single relocate and no single swap keeps capacity and shortens the total
    for a, ra in enumerate(padded):
        for i, v in enumerate(ra):
            for b, rb in enumerate(padded):
                if b != a and int(np.sum(dem[rb])) + dem[v] <= cap:
                    for q in range(len(rb) + 1):
                        new = [list(r) for r in padded]
                        new[a].pop(i)
                        new[b].insert(q, v)
                        assert sum(route_length(inst, r) for r in new) >= total
                if b > a:
                    for j, w in enumerate(rb):
                        la, lb = int(np.sum(dem[ra])) - dem[v] + dem[w], int(np.sum(dem[rb])) - dem[w] + dem[v]
                        if la <= cap and lb <= cap:
                            new = [list(r) for r in padded]
                            new[a][i], new[b][j] = w, v
                            assert sum(route_length(inst, r) for r in new) >= total


def test_auto_on_the_edge_model_answers_tours_not_subtours(data_dir: Path) -> None:
    """The edge model has no sub-tour elimination: ``auto`` must take a routing backend, whose
    answer is a valid tour set (an LP/MILP optimum of the bare model is shorter and invalid)."""
    import kakehashi
    from kakehashi.apps.routing import interpret
    from kakehashi.exceptions import CompileError

    inst = read_routing(data_dir / "tsplib" / "berlin52.tsp")
    problem = to_problem(inst)
    result = kakehashi.solve(problem, "auto", time_limit=2, seed=1)
    assert result.provenance.backend in ("lkh", "pyvrp", "ortools-routing")
    sol = interpret(result, inst)
    assert sol.validation is not None and sol.validation.ok
    assert sol.total_cost == result.objective >= 7542
    with pytest.raises(CompileError, match="complete only for the routing target"):
        kakehashi.solve(problem, "highs", time_limit=2)


@pytest.mark.parametrize("backend", ["pyvrp", "lkh", "ortools-routing"])
def test_a_budget_below_start_up_still_answers_a_valid_route(data_dir: Path, backend: str) -> None:
    """With less time than the solver's own set-up, the backend answers the nearest-neighbour
    construction (validated from scratch), not NO_SOLUTION, and says so."""
    from kakehashi.apps.routing.backends.common import nearest_neighbour_routes
    from kakehashi.apps.routing.solution import validate
    from kakehashi.apps.routing.target import compile_routing
    from kakehashi.backends.registry import get_backend

    inst = read_routing(data_dir / "tsplib" / "pr1002.tsp")
    compiled = compile_routing(to_problem(inst))
    out = get_backend(backend).solve(compiled, time_limit=0.06, seed=1, params={})
    assert out.info.get("method") == "nearest-neighbour construction"
    routes = out.info["routes"]
    check = validate(inst, routes)
    assert check.ok, check.violations
    assert routes == [list(r) for r in nearest_neighbour_routes(compiled.target)]


def test_nearest_neighbour_respects_capacity(data_dir: Path) -> None:
    from kakehashi.apps.routing.backends.common import nearest_neighbour_routes
    from kakehashi.apps.routing.solution import validate
    from kakehashi.apps.routing.target import to_target

    inst = read_routing(data_dir / "cvrplib" / "A" / "A-n80-k10.vrp")
    routes = nearest_neighbour_routes(to_target(inst))
    loads = [sum(inst.demand_array[v] for v in r) for r in routes]
    assert max(loads) <= inst.capacity
    assert sorted(v for r in routes for v in r) == list(range(1, inst.dimension))
    # the fleet rule may fail for a greedy construction; coverage and capacity may not
    check = validate(inst, routes)
    assert all("fleet" in v or "vehicles" in v or "routes" in v for v in check.violations), check.violations
