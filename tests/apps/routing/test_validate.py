"""validate() catches every rule violation, on solutions built by hand."""

from __future__ import annotations

import numpy as np

from kakehashi.apps.routing import RoutingInstance, make_solution, validate
from kakehashi.apps.routing.solution import routes_from_edges
from kakehashi.apps.routing.target import to_target


def _cvrp() -> RoutingInstance:
    coords = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0), (-10.0, 0.0), (0.0, -10.0)]
    return RoutingInstance(name="toy-n5-k2", kind="cvrp", coords=coords, demands=[0, 4, 4, 4, 4], capacity=8,
                           num_vehicles=2)


def test_valid_solution_passes() -> None:
    sol = make_solution(_cvrp(), [[1, 2], [3, 4]])
    assert sol.validation is not None and sol.validation.ok
    assert sol.total_cost == sum(r.length for r in sol.routes) == 2 * (10 + 14 + 10)


def test_each_rule() -> None:
    inst = _cvrp()
    assert any("capacity" in v for v in validate(inst, [[1, 2, 3], [4]]).violations)
    assert any("never visited" in v for v in validate(inst, [[1, 2], [3]]).violations)
    assert any("more than once" in v for v in validate(inst, [[1, 2], [3, 4, 1]]).violations)
    assert any("depot" in v for v in validate(inst, [[1, 0, 2], [3, 4]]).violations)
    assert any("does not exist" in v for v in validate(inst, [[1, 2], [3, 4, 7]]).violations)
    assert any("fleet" in v for v in validate(inst, [[1], [2], [3, 4]]).violations)
    assert any("claimed" in v for v in validate(inst, [[1, 2], [3, 4]], claimed_cost=1).violations)


def test_edges_round_trip_and_subtour_detection() -> None:
    inst = _cvrp()
    target = to_target(inst)
    routes = [[1, 2], [3]]
    x = target.routes_to_sample([*routes, [4]])
    back = routes_from_edges(inst.dimension, target.edges(), x)
    assert sorted(map(sorted, back)) == [[1, 2], [3], [4]]
    # a sub-tour 1-2-3 not through the depot is reported, not hidden
    counts = np.zeros(len(target.edges()))
    idx = {e: k for k, e in enumerate(target.edges())}
    for e in [(1, 2), (2, 3), (1, 3), (0, 4)]:
        counts[idx[e]] += 1
    counts[idx[(0, 4)]] += 1
    back = routes_from_edges(inst.dimension, target.edges(), counts)
    assert not validate(inst, back).ok


def test_infeasible_by_construction_is_reported() -> None:
    from kakehashi.apps.routing import solve_routing

    inst = RoutingInstance(name="tight", kind="cvrp", coords=[(0, 0), (1, 0), (0, 1), (1, 1)],
                           demands=[0, 6, 6, 6], capacity=8, num_vehicles=2)
    sol = solve_routing(inst, "pyvrp", time_limit=1)
    assert sol.status == "INFEASIBLE" and "infeasible by construction" in sol.validation.violations[0]
