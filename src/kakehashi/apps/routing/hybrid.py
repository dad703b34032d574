"""Cluster-first, route-second: the routing route for Ising backends at realistic sizes.

1. Cluster (classical): a capacity-aware sweep around the depot from several start angles,
   keeping at most ``k`` clusters (customers that do not fit go to the nearest cluster with room).
2. Route (Ising backend): each cluster's visiting order is the position-encoded TSP QUBO of
   :func:`~kakehashi.apps.routing.formulation.tsp_qubo_problem`, solved with
   :func:`kakehashi.solve` on the chosen backend. Clusters above the QUBO size limit, and
   answers that are not a permutation, fall back to nearest neighbour.
3. Polish (classical, reported): 2-opt within routes and relocate moves between routes that
   respect capacity. ``info["qubo_routes"]`` / ``info["fallback_routes"]`` say what came from where.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from kakehashi.apps.routing.formulation import MAX_QUBO_CITIES, tour_from_positions, tsp_qubo_problem
from kakehashi.apps.routing.instance import RoutingInstance


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


def relocate(instance: RoutingInstance, routes: list[list[int]]) -> list[list[int]]:
    """Move single customers between routes while it shortens the total and respects capacity."""
    d = instance.distances
    dem = instance.demand_array
    cap = instance.capacity or 10**18
    loads = [int(sum(int(dem[v]) for v in r)) for r in routes]
    improved = True
    while improved:
        improved = False
        for a in range(len(routes)):
            for pos in range(len(routes[a])):
                v = routes[a][pos]
                ra = routes[a]
                prev = ra[pos - 1] if pos > 0 else 0
                nxt = ra[pos + 1] if pos + 1 < len(ra) else 0
                gain = d[prev, v] + d[v, nxt] - d[prev, nxt]
                best = (0, -1, -1)
                for b in range(len(routes)):
                    if b == a or loads[b] + dem[v] > cap:
                        continue
                    rb = [0, *routes[b], 0]
                    for q in range(len(rb) - 1):
                        delta = d[rb[q], v] + d[v, rb[q + 1]] - d[rb[q], rb[q + 1]] - gain
                        if delta < best[0]:
                            best = (int(delta), b, q)
                if best[1] >= 0:
                    _, b, q = best
                    ra.pop(pos)
                    routes[b].insert(q, v)
                    loads[a] -= int(dem[v])
                    loads[b] += int(dem[v])
                    improved = True
                    break
            if improved:
                break
    return [r for r in routes if r]


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
                               seed: int | None = None, starts: int = 8) -> tuple[list[list[int]], dict[str, Any]]:
    """The hybrid route: returns routes and an info dict (see the module docstring)."""
    t0 = time.perf_counter()
    d = instance.distances
    best_routes: list[list[int]] | None = None
    best_cost = math.inf
    for s in range(starts):
        clusters = sweep_clusters(instance, 2 * math.pi * s / starts)
        routes = [two_opt(d, nearest_neighbour(d, c)) for c in clusters]
        cost = sum(d[a, b] for r in routes for a, b in zip([0, *r], [*r, 0], strict=True))
        if cost < best_cost:
            best_cost, best_routes = cost, routes
    assert best_routes is not None
    clusters = best_routes
    per_cluster = max(0.2, (time_limit - (time.perf_counter() - t0)) * 0.8 / max(1, len(clusters)))
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
    polished = relocate(instance, [two_opt(d, r) for r in out])
    polished = [two_opt(d, r) for r in polished]
    info = {"method": "cluster-first route-second", "backend": backend, "clusters": len(clusters),
            "qubo_routes": qubo_count, "fallback_routes": fallback, "cost_before_polish": qubo_cost,
            "seconds": time.perf_counter() - t0}
    return polished, info
