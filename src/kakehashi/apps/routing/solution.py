"""The routing answer in domain terms, and ``validate()``: every rule checked from scratch.

A :class:`RoutingSolution` is a list of routes, each a list of customer nodes (1..n-1) that a
vehicle visits after leaving the depot (node 0) and before returning to it. Lengths are in the
instance's distance units; loads in its demand units.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from kakehashi.apps.routing.instance import RoutingInstance


class RouteReport(BaseModel):
    """One vehicle's route: customer nodes in visiting order, load and length."""

    nodes: list[int]
    load: int
    length: int


class Validation(BaseModel):
    """Outcome of :func:`validate`: ``ok`` and one message per broken rule."""

    ok: bool
    violations: list[str] = Field(default_factory=list)


class RoutingSolution(BaseModel):
    """Routes with per-route load and length, the total cost and where it came from."""

    instance: str
    routes: list[RouteReport]
    total_cost: int
    status: str = "FEASIBLE"
    backend: str = ""
    solve_seconds: float = 0.0
    known_optimum: float | None = None
    gap: float | None = None
    validation: Validation | None = None
    info: dict[str, Any] = Field(default_factory=dict)

    def to_summary(self) -> dict[str, Any]:
        """JSON-compatible dict of the answer (used by ``kakehashi route --json``)."""
        return self.model_dump()


def route_length(instance: RoutingInstance, nodes: Sequence[int]) -> int:
    """Length of depot → nodes... → depot."""
    d = instance.distances
    path = [0, *nodes, 0]
    return int(sum(int(d[a, b]) for a, b in itertools.pairwise(path)))


def make_solution(instance: RoutingInstance, routes: Sequence[Sequence[int]], *, backend: str = "",
                  solve_seconds: float = 0.0, info: dict[str, Any] | None = None) -> RoutingSolution:
    """Build a validated :class:`RoutingSolution` from routes (lists of customer nodes)."""
    dem = instance.demand_array
    reports = [RouteReport(nodes=[int(v) for v in r], load=int(sum(int(dem[v]) for v in r)),
                           length=route_length(instance, r)) for r in routes if len(r) > 0]
    total = sum(r.length for r in reports)
    gap = None
    if instance.known_optimum:
        gap = (total - instance.known_optimum) / instance.known_optimum
    sol = RoutingSolution(instance=instance.name, routes=reports, total_cost=total, backend=backend,
                          solve_seconds=solve_seconds, known_optimum=instance.known_optimum, gap=gap,
                          info=info or {})
    v = validate(instance, [r.nodes for r in reports])
    sol.validation = v
    sol.status = "FEASIBLE" if v.ok else "INFEASIBLE"
    return sol


def validate(instance: RoutingInstance, routes: Sequence[Sequence[int]], *,
             claimed_cost: int | None = None) -> Validation:
    """Check the routing rules independently of any model.

    Rules: every customer visited exactly once (coverage), only valid customer nodes (the depot
    never appears inside a route: each route starts and ends at the depot), load per route at
    most the capacity, number of routes at most the fleet size ``k`` (a TSP: exactly one tour
    through every city), and — when given — the claimed cost equals the recomputed cost.
    """
    problems: list[str] = []
    n = instance.dimension
    seen: Counter[int] = Counter()
    for idx, r in enumerate(routes):
        for v in r:
            if v == 0:
                problems.append(f"route {idx + 1}: the depot (node 0) appears inside the route (depot start/end rule)")
            elif not 0 < v < n:
                problems.append(f"route {idx + 1}: node {v} does not exist (nodes are 1..{n - 1})")
            else:
                seen[int(v)] += 1
    missing = [v for v in range(1, n) if seen[v] == 0]
    repeated = sorted(v for v, c in seen.items() if c > 1)
    if missing:
        problems.append(f"coverage: {len(missing)} customer(s) never visited, e.g. {missing[:5]}")
    if repeated:
        problems.append(f"coverage: customer(s) visited more than once: {repeated[:5]}")
    nonempty = [r for r in routes if len(r) > 0]
    if instance.kind == "tsp":
        if len(nonempty) != 1:
            problems.append(f"a TSP tour is one route, got {len(nonempty)}")
    else:
        dem = instance.demand_array
        cap = instance.capacity or 0
        for idx, r in enumerate(routes):
            load = int(sum(int(dem[v]) for v in r if 0 < v < n))
            if load > cap:
                problems.append(f"route {idx + 1}: load {load} exceeds capacity {cap}")
        if instance.num_vehicles is not None and len(nonempty) > instance.num_vehicles:
            problems.append(f"fleet: {len(nonempty)} routes but only {instance.num_vehicles} vehicles")
    if claimed_cost is not None and not problems:
        actual = sum(route_length(instance, r) for r in nonempty)
        if actual != claimed_cost:
            problems.append(f"cost: claimed {claimed_cost}, recomputed {actual}")
    return Validation(ok=not problems, violations=problems)


def routes_from_edges(n: int, edges: Sequence[tuple[int, int]], counts: np.ndarray) -> list[list[int]]:
    """Rebuild routes from edge use counts (undirected; a depot edge used twice = a one-customer route).

    Walks from the depot along unused edges until it returns to the depot. Edges not reachable
    from the depot (sub-tours) are returned as extra routes that contain no depot, so that
    :func:`validate` reports them.
    """
    adj: list[list[int]] = [[] for _ in range(n)]
    for (a, b), c in zip(edges, counts, strict=True):
        for _ in range(round(float(c))):
            adj[a].append(b)
            adj[b].append(a)
    routes: list[list[int]] = []

    def walk(start: int, first: int) -> list[int]:
        path = [first]
        adj[start].remove(first)
        adj[first].remove(start)
        prev, cur = start, first
        while cur != start and adj[cur]:
            nxt = adj[cur][0]
            adj[cur].remove(nxt)
            adj[nxt].remove(cur)
            prev, cur = cur, nxt
            path.append(cur)
        del prev
        return path

    while adj[0]:
        path = walk(0, adj[0][0])
        routes.append([v for v in path if v != 0])
    for v in range(1, n):
        while adj[v]:
            path = walk(v, adj[v][0])
            routes.append([0, *path])  # a sub-tour: the 0 marks it as not leaving the depot
    return routes
