"""Cluster-first, route-second: the routing route for Ising backends at realistic sizes.

1. Cluster (classical): a capacity-aware sweep around the depot from several start angles,
   keeping at most ``k`` clusters (customers that do not fit go to the nearest cluster with room).
   When no sweep packs the customers into ``k`` clusters within capacity, a penalised local
   search moves customers until they fit (``info["sweep_capacity_repaired"]``).
2. Route (Ising backend): each cluster's visiting order is the position-encoded TSP QUBO of
   :func:`~kakehashi.apps.routing.formulation.tsp_qubo_problem`, solved with
   :func:`kakehashi.solve` on the chosen backend. Clusters above the QUBO size limit, and
   answers that are not a permutation, fall back to nearest neighbour.
3. Polish (classical, reported): :func:`~kakehashi.apps.routing.local_search.iterated_local_search`
   (relocate, swap, 2-opt, 2-opt* and ruin-and-recreate) for the rest of the time limit.
   ``info["qubo_routes"]`` / ``info["fallback_routes"]`` say which visiting orders came from the
   Ising backend, ``info["cost_before_polish"]`` is the length of the QUBO-ordered routes (the
   raw hybrid answer) and the final length is what the polish made of it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from kakehashi.apps.routing.formulation import MAX_QUBO_CITIES, tour_from_positions, tsp_qubo_problem
from kakehashi.apps.routing.instance import RoutingInstance
from kakehashi.apps.routing.local_search import iterated_local_search, local_search


def sweep_clusters(instance: RoutingInstance, start: float) -> list[list[int]]:
    """Capacity-aware sweep from polar angle ``start`` (radians); at most k clusters when k is set."""
    coords = np.asarray(instance.coords, dtype=float)
    dem = instance.demand_array
    cap = instance.capacity or int(dem.sum()) or 1
    angles = np.arctan2(coords[1:, 1] - coords[0, 1], coords[1:, 0] - coords[0, 0])
    order = np.argsort((angles - start) % (2 * math.pi)) + 1
    clusters: list[list[int]] = [[]]
    loads = [0]
    for v in order:
        if loads[-1] + dem[v] > cap:
            clusters.append([])
            loads.append(0)
        clusters[-1].append(int(v))
        loads[-1] += int(dem[v])
    k = instance.num_vehicles
    if k is not None and len(clusters) > k:
        clusters, loads = _repack(instance, clusters, k)
    return clusters


def _repack(instance: RoutingInstance, clusters: list[list[int]], k: int) -> tuple[list[list[int]], list[int]]:
    """Merge the sweep's clusters into k: keep the k heaviest as seeds, place the rest best-fit."""
    coords = np.asarray(instance.coords, dtype=float)
    dem = instance.demand_array
    cap = instance.capacity or 0
    ranked = sorted(clusters, key=lambda c: -sum(int(dem[v]) for v in c))
    keep = [list(c) for c in ranked[:k]]
    loads = [sum(int(dem[v]) for v in c) for c in keep]
    rest = sorted((v for c in ranked[k:] for v in c), key=lambda v: -int(dem[v]))
    for v in rest:
        cents = [coords[c].mean(axis=0) for c in keep]
        options = [(float(np.hypot(*(coords[v] - cents[i]))), i) for i in range(k) if loads[i] + dem[v] <= cap]
        if not options:
            options = [(float(loads[i]), i) for i in range(k)]  # will be reported by validate
        _, best = min(options)
        keep[best].append(v)
        loads[best] += int(dem[v])
    return keep, loads


def nearest_neighbour(d: np.ndarray, nodes: Sequence[int]) -> list[int]:
    """Nearest-neighbour order of ``nodes`` starting from the depot."""
    left = set(nodes)
    route: list[int] = []
    cur = 0
    while left:
        nxt = min(left, key=lambda v: (d[cur, v], v))
        route.append(nxt)
        left.remove(nxt)
        cur = nxt
    return route


def two_opt(d: np.ndarray, route: list[int]) -> list[int]:
    """First-improvement 2-opt on depot → route → depot."""
    path = [0, *route, 0]
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 2):
            for j in range(i + 1, len(path) - 1):
                a, b, c, e = path[i - 1], path[i], path[j], path[j + 1]
                if d[a, c] + d[b, e] < d[a, b] + d[c, e]:
                    path[i:j + 1] = path[i:j + 1][::-1]
                    improved = True
    return path[1:-1]


def qubo_route(instance: RoutingInstance, nodes: Sequence[int], backend: str, *, time_limit: float,
               seed: int | None) -> list[int] | None:
    """Order ``nodes`` by solving the position QUBO of the sub-instance on ``backend``."""
    from kakehashi.solver import solve

    nodes = list(nodes)
    if len(nodes) <= 2:
        return nodes
    sub = RoutingInstance(name=f"{instance.name}-sub", kind="tsp",
                          coords=[instance.coords[i] for i in [0, *nodes]] if instance.coords else [],
                          edge_weight_type="EXPLICIT",
                          explicit_weights=instance.distances[np.ix_([0, *nodes], [0, *nodes])].tolist())
    result = solve(tsp_qubo_problem(sub), backend, time_limit=time_limit, seed=seed)
    order = tour_from_positions(len(nodes) + 1, result.sample) if result.sample else None
    if order is None:
        return None
    return [nodes[c - 1] for c in order]


def cluster_first_route_second(instance: RoutingInstance, backend: str, *, time_limit: float = 10.0,
                               seed: int | None = None, starts: int = 8,
                               qubo_share: float = 0.3) -> tuple[list[list[int]], dict[str, Any]]:
    """The hybrid route: returns routes and an info dict (see the module docstring).

    ``qubo_share`` of the time limit goes to the QUBO sub-routes (at most 1 s per cluster), the
    rest (less a 0.3 s margin) to the classical iterated local search.
    """
    t0 = time.perf_counter()
    d = instance.distances
    dem = instance.demand_array
    cap = instance.capacity if instance.kind == "cvrp" else None
    fleet = instance.num_vehicles if instance.kind == "cvrp" else 1
    best_routes: list[list[int]] | None = None
    best_key = (math.inf, math.inf)
    for s in range(starts):
        clusters = sweep_clusters(instance, 2 * math.pi * s / starts)
        routes = [two_opt(d, nearest_neighbour(d, c)) for c in clusters]
        cost = sum(d[a, b] for r in routes for a, b in zip([0, *r], [*r, 0], strict=True))
        excess = sum(max(0, int(dem[r].sum()) - cap) for r in routes) if cap is not None else 0
        if (excess, cost) < best_key:
            best_key, best_routes = (excess, cost), routes
    assert best_routes is not None
    repaired = best_key[0] > 0
    if repaired:  # the sweep could not pack the clusters: penalised descent moves customers until they fit
        best_routes = local_search(d, dem, cap, best_routes, fleet=fleet,
                                   deadline=t0 + 0.2 * time_limit)
    clusters = best_routes
    per_cluster = min(1.0, max(0.1, qubo_share * time_limit / max(1, len(clusters))))
    out: list[list[int]] = []
    qubo_count = fallback = 0
    for c in clusters:
        order = None
        if len(c) + 1 <= MAX_QUBO_CITIES:
            order = qubo_route(instance, c, backend, time_limit=per_cluster, seed=seed)
        if order is None:
            fallback += 1
            order = nearest_neighbour(d, c)
        else:
            qubo_count += 1
        out.append(order)
    qubo_cost = int(sum(d[a, b] for r in out for a, b in zip([0, *r], [*r, 0], strict=True)))
    left = time_limit - (time.perf_counter() - t0) - 0.3
    polished, stats = iterated_local_search(d, dem, cap, out, fleet=fleet, seconds=max(0.0, left), seed=seed)
    info = {"method": "cluster-first route-second", "backend": backend, "clusters": len(clusters),
            "qubo_routes": qubo_count, "fallback_routes": fallback, "sweep_capacity_repaired": repaired,
            "cost_before_polish": qubo_cost, "polish": "iterated local search (relocate, swap, 2-opt, 2-opt*)",
            "first_local_optimum": stats["first_local_optimum"], "ils_iterations": int(stats["ils_iterations"]),
            "seconds": time.perf_counter() - t0}
    return polished, info
