"""Routing as kakehashi Problems.

* :func:`to_problem`: the compact undirected edge formulation (a CQM). Variables ``("x", i, j)``
  count the uses of edge {i, j} (binary between customers, integer 0..2 at the depot); every
  customer has degree 2 and the depot degree 2k. Sub-tour elimination and capacity are not
  expressible compactly and are enforced by the routing target's backends and by
  :func:`~kakehashi.apps.routing.solution.validate`; the Problem is the model every answer is
  evaluated on (its objective is the route length).
* :func:`tsp_qubo_problem`: the position (permutation-matrix) encoding for Ising backends.
  ``("p", c, t) = 1`` when city ``c`` (1..n-1) is visited at step ``t``; the depot (node 0) is
  fixed at the start, so a tour has (n-1)² variables. One-hot constraints on rows and
  columns are equalities (the compile pass turns them into penalties).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import dimod
import numpy as np

from kakehashi.apps.routing.instance import RoutingInstance
from kakehashi.apps.routing.target import edge_label
from kakehashi.exceptions import ModelError
from kakehashi.model.problem import Problem

#: Largest TSP (cities including the depot) for which the position QUBO is offered.
MAX_QUBO_CITIES = 16


def to_problem(instance: RoutingInstance) -> Problem:
    """The edge formulation of ``instance`` as a CQM Problem (minimise total length)."""
    n = instance.dimension
    d = instance.distances
    cqm = dimod.ConstrainedQuadraticModel()
    objective = dimod.QuadraticModel()
    is_cvrp = instance.kind == "cvrp"
    for i in range(n):
        for j in range(i + 1, n):
            label = edge_label(i, j)
            if is_cvrp and i == 0:
                objective.add_variable(dimod.INTEGER, label, lower_bound=0, upper_bound=2)
            else:
                objective.add_variable(dimod.BINARY, label)
            objective.set_linear(label, float(d[i, j]))
    cqm.set_objective(objective)
    for v in range(n):
        terms = [(edge_label(v, u), 1.0) for u in range(n) if u != v]
        if v == 0 and is_cvrp:
            kmax = instance.num_vehicles if instance.num_vehicles is not None else n - 1
            cqm.add_constraint_from_iterable(terms, "<=", rhs=2.0 * kmax, label="depot_max")
            cqm.add_constraint_from_iterable(terms, ">=", rhs=2.0 * instance.min_vehicles(), label="depot_min")
        else:
            cqm.add_constraint_from_iterable(terms, "==", rhs=2.0, label=f"degree_{v}")
    return Problem(cqm, name=instance.name, sense="min", known_optimum=instance.known_optimum,
                   metadata={"domain": "routing", "formulation": "edge", "kind": instance.kind,
                             "source": instance.source, "routing_instance": instance.model_dump(mode="json"),
                             "complete_for": ["routing"],
                             "note": "sub-tours and capacity are enforced by routing backends and "
                                     "checked by apps.routing.validate"})


def tsp_qubo_problem(instance: RoutingInstance) -> Problem:
    """Position-encoded TSP (tour starts at node 0) as a CQM with one-hot equalities."""
    n = instance.dimension
    if n > MAX_QUBO_CITIES:
        raise ModelError(f"the position QUBO is offered up to {MAX_QUBO_CITIES} cities, got {n}; "
                         "use the hybrid route or a routing backend", source=instance.source)
    d = instance.distances.astype(float)
    m = n - 1
    bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
    labels = {(c, t): ("p", c, t) for c in range(1, n) for t in range(m)}
    for lab in labels.values():
        bqm.add_variable(lab)
    for c in range(1, n):
        bqm.add_linear(labels[(c, 0)], d[0, c])
        bqm.add_linear(labels[(c, m - 1)], d[c, 0])
    for t in range(m - 1):
        for a in range(1, n):
            for b in range(1, n):
                if a != b:
                    bqm.add_quadratic(labels[(a, t)], labels[(b, t + 1)], d[a, b])
    cqm = dimod.ConstrainedQuadraticModel.from_bqm(bqm)
    for c in range(1, n):
        cqm.add_constraint_from_iterable([(labels[(c, t)], 1.0) for t in range(m)], "==", 1.0, label=f"city_{c}")
    for t in range(m):
        cqm.add_constraint_from_iterable([(labels[(c, t)], 1.0) for c in range(1, n)], "==", 1.0, label=f"step_{t}")
    return Problem(cqm, name=f"{instance.name}-qubo", sense="min", known_optimum=instance.known_optimum,
                   metadata={"domain": "routing", "formulation": "tsp-position", "source": instance.source})


def tour_from_positions(n: int, sample: Mapping[Hashable, float]) -> list[int] | None:
    """The customer order of a position-encoded sample, or None if it is not a permutation."""
    m = n - 1
    order: list[int] = []
    for t in range(m):
        cities = [c for c in range(1, n) if float(sample.get(("p", c, t), 0.0)) > 0.5]
        if len(cities) != 1:
            return None
        order.append(cities[0])
    return order if sorted(order) == list(range(1, n)) else None


def position_penalty_bqm(instance: RoutingInstance, penalty: float | None = None) -> dimod.BinaryQuadraticModel:
    """The position QUBO with one-hot penalties folded in (for direct use with BQM samplers).

    ``penalty`` defaults to twice the largest distance, which makes every one-hot violation
    cost more than any change of tour length it could buy.
    """
    problem = tsp_qubo_problem(instance)
    cqm = problem.cqm
    weight = float(penalty) if penalty is not None else 2.0 * float(np.max(instance.distances))
    bqm = dimod.BinaryQuadraticModel(cqm.objective.linear, cqm.objective.quadratic, cqm.objective.offset,
                                     dimod.BINARY)
    for comp in cqm.constraints.values():
        terms: Sequence[tuple[Hashable, float]] = list(comp.lhs.linear.items())
        lin = {v: a for v, a in terms}
        # (sum x - 1)^2 = sum x (a² - 2a·1) + 2 sum_{i<j} a_i a_j x_i x_j + 1  (binary x² = x)
        for v, a in lin.items():
            bqm.add_linear(v, weight * (a * a - 2.0 * a * float(comp.rhs)))
        items = list(lin.items())
        for k, (u, a) in enumerate(items):
            for v, b in items[k + 1:]:
                bqm.add_quadratic(u, v, 2.0 * weight * a * b)
        bqm.offset += weight * float(comp.rhs) ** 2
    return bqm
