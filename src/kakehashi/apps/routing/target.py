"""The ROUTING compilation target: what the routing baselines (PyVRP, LKH-3, OR-Tools) receive.

A :class:`RoutingTarget` is the instance in plain arrays. Its variables are the undirected edges
``("x", i, j)`` with ``i < j``; a backend's sample gives each edge's use count (0, 1, or 2 for a
depot edge of a one-customer route). :func:`compile_routing` builds the
:class:`~kakehashi.compile.targets.Compiled` with an identity inverter onto the edge variables
of :func:`kakehashi.apps.routing.formulation.to_problem`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kakehashi.apps.routing.instance import RoutingInstance
from kakehashi.compile.inverter import Inverter
from kakehashi.compile.targets import Compiled, CompileReport, TargetKind
from kakehashi.exceptions import CompileError
from kakehashi.model.problem import Problem


@dataclass(frozen=True)
class RoutingTarget:
    """A symmetric TSP/CVRP in arrays. Node 0 is the depot.

    Attributes:
        distances: (n, n) int64 distance matrix (instance units).
        demands: (n,) int64 demands (zeros for a TSP; demands[0] = 0).
        capacity: vehicle capacity (None for a TSP).
        num_vehicles: fleet size (None: free; 1 for a TSP).
        coords: (n, 2) coordinates or None (plots, clustering, and LKH's input when
            ``edge_weight_type`` is a function LKH computes itself).
        name: instance name.
        edge_weight_type: the TSPLIB distance function ``distances`` was computed with.
    """

    distances: np.ndarray
    demands: np.ndarray
    capacity: int | None
    num_vehicles: int | None
    coords: np.ndarray | None = None
    name: str = ""
    edge_weight_type: str = "EXPLICIT"

    @property
    def n(self) -> int:
        return int(self.distances.shape[0])

    @property
    def is_tsp(self) -> bool:
        return self.capacity is None

    def edges(self) -> list[tuple[int, int]]:
        """Undirected edges (i, j), i < j, in variable order."""
        return [(i, j) for i in range(self.n) for j in range(i + 1, self.n)]

    @property
    def num_edges(self) -> int:
        return self.n * (self.n - 1) // 2

    def edge_index(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Position of edges {i, j} (arrays, i != j) in :meth:`edges` order (row-major upper triangle)."""
        a, b = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
        return np.asarray(a * self.n - a * (a + 1) // 2 + (b - a - 1), dtype=np.int64)

    def routes_to_sample(self, routes: Sequence[Sequence[int]]) -> np.ndarray:
        """Edge-count vector (in :meth:`edges` order) of routes given as customer lists."""
        x = np.zeros(self.num_edges)
        for r in routes:
            path = np.asarray([0, *r, 0], dtype=np.int64)
            a, b = path[:-1], path[1:]
            keep = a != b
            np.add.at(x, self.edge_index(a[keep], b[keep]), 1.0)
        return x

    def sample_length(self, sample: np.ndarray) -> float:
        """Total length of an edge-count vector (instance units)."""
        iu = np.triu_indices(self.n, 1)
        return float(np.dot(self.distances[iu].astype(float), sample))


def edge_label(i: int, j: int) -> tuple[str, int, int]:
    """The variable label of undirected edge {i, j}."""
    return ("x", min(i, j), max(i, j))


def to_target(instance: RoutingInstance) -> RoutingTarget:
    """The instance as a :class:`RoutingTarget`."""
    return RoutingTarget(
        distances=instance.distances,
        demands=instance.demand_array,
        capacity=instance.capacity if instance.kind == "cvrp" else None,
        num_vehicles=1 if instance.kind == "tsp" else instance.num_vehicles,
        coords=np.asarray(instance.coords, dtype=np.float64) if instance.coords else None,
        name=instance.name,
        edge_weight_type=instance.edge_weight_type,
    )


def instance_of(problem: Problem | RoutingInstance) -> RoutingInstance:
    """The routing instance behind ``problem`` (kept in ``metadata["routing_instance"]``)."""
    if isinstance(problem, RoutingInstance):
        return problem
    data = problem.metadata.get("routing_instance")
    if not isinstance(data, dict):
        raise CompileError(f"{problem.name}: not a routing problem (build it with kakehashi.apps.routing.to_problem)")
    return RoutingInstance(**data)


def compile_routing(problem: Problem | RoutingInstance, **options: Any) -> Compiled[RoutingTarget]:
    """Compile a routing Problem (or instance) for the routing baselines (target kind ROUTING).

    Compile options for binary targets (``encoding``, ``penalty_scale``...) do not apply and are
    ignored. The edge variables are the Problem's own variables, so the inverter is the identity.
    """
    del options
    instance = instance_of(problem)
    target = to_target(instance)
    if isinstance(problem, Problem) and problem.metadata.get("formulation") != "edge":
        raise CompileError(f"{problem.name}: the routing target needs the edge formulation (to_problem)")
    labels = _edge_labels(problem, target)
    report = CompileReport()
    report.add("routing", nodes=target.n, edges=len(labels), kind=instance.kind)
    return Compiled(kind=TargetKind.ROUTING, target=target, variables=tuple(labels),
                    inverter=Inverter.identity(labels, integral=[True] * len(labels)), report=report)


def _edge_labels(problem: Problem | RoutingInstance, target: RoutingTarget) -> list[Any]:
    """The edge variables in :meth:`RoutingTarget.edges` order: the edge Problem's own variables
    when they are exactly those (to_problem adds them in that order; 0.03 s instead of 0.7 s of
    label building at 1,002 nodes), else built."""
    n = target.n
    if isinstance(problem, Problem) and problem.num_variables == target.num_edges and n >= 2:
        labels = list(problem.model.variables)
        if labels[0] == edge_label(0, 1) and labels[-1] == edge_label(n - 2, n - 1):
            return labels
    return [edge_label(i, j) for i, j in target.edges()]
