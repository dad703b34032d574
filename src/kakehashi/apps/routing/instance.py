"""The routing input: a TSP or CVRP instance (pydantic), with its TSPLIB distance matrix.

Node 0 is the depot (for a TSP, the tour's start city); nodes 1..n-1 are customers. Demands,
capacity and distances are integers, as in TSPLIB/CVRPLIB. ``num_vehicles`` is the fleet size
(the ``k`` in a CVRPLIB name); ``None`` leaves it free.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kakehashi.apps.routing.distances import distance_matrix
from kakehashi.exceptions import ModelError


class RoutingInstance(BaseModel):
    """A symmetric TSP or CVRP instance.

    Attributes:
        name: instance name (e.g. ``A-n32-k5``).
        kind: ``"tsp"`` or ``"cvrp"``.
        coords: (n, 2) node coordinates (depot first); empty when the weights are explicit.
        edge_weight_type: TSPLIB EDGE_WEIGHT_TYPE (EUC_2D, CEIL_2D, ATT, GEO, EXPLICIT).
        explicit_weights: full (n, n) matrix when ``edge_weight_type`` is EXPLICIT.
        demands: per node (depot 0), units of load; all zero for a TSP.
        capacity: vehicle capacity in the same units (CVRP only).
        num_vehicles: fleet size, or None when free.
        known_optimum: published optimal cost, if any.
        source: file the instance came from (for error messages).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    name: str
    kind: Literal["tsp", "cvrp"] = "tsp"
    coords: list[tuple[float, float]] = Field(default_factory=list)
    edge_weight_type: str = "EUC_2D"
    explicit_weights: list[list[int]] | None = None
    demands: list[int] = Field(default_factory=list)
    capacity: int | None = None
    num_vehicles: int | None = None
    known_optimum: float | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _check(self) -> RoutingInstance:
        n = self.dimension
        if n < 2:
            raise ModelError("an instance needs at least 2 nodes", source=self.source, field="DIMENSION")
        if self.edge_weight_type.upper() == "EXPLICIT":
            w = self.explicit_weights
            if w is None or len(w) != n or any(len(r) != n for r in w):
                raise ModelError(f"EXPLICIT weights must be an {n}x{n} matrix", source=self.source,
                                 field="EDGE_WEIGHT_SECTION")
        if self.demands and len(self.demands) != n:
            raise ModelError(f"{len(self.demands)} demands for {n} nodes", source=self.source,
                             field="DEMAND_SECTION")
        if self.kind == "cvrp":
            if self.capacity is None or self.capacity <= 0:
                raise ModelError("a CVRP needs a positive vehicle capacity", source=self.source, field="CAPACITY")
            for node, d in enumerate(self.demands):
                if d < 0:
                    raise ModelError(f"node {node + 1} has negative demand {d}", source=self.source,
                                     field="DEMAND_SECTION")
                if d > self.capacity:
                    raise ModelError(
                        f"node {node + 1} (customer {node}) demands {d}, above every vehicle's capacity "
                        f"{self.capacity}: rule 'demand <= capacity'",
                        source=self.source, field="DEMAND_SECTION",
                    )
        if self.num_vehicles is not None and self.num_vehicles < 1:
            raise ModelError("fleet size must be at least 1", source=self.source, field="VEHICLES")
        return self

    @property
    def dimension(self) -> int:
        """Number of nodes including the depot."""
        if self.coords:
            return len(self.coords)
        return len(self.explicit_weights or [])

    @property
    def num_customers(self) -> int:
        return self.dimension - 1

    @property
    def demand_array(self) -> np.ndarray:
        """Demands as int64 (zeros for a TSP)."""
        if not self.demands:
            return np.zeros(self.dimension, dtype=np.int64)
        return np.asarray(self.demands, dtype=np.int64)

    @property
    def total_demand(self) -> int:
        return int(self.demand_array.sum())

    @cached_property
    def distances(self) -> np.ndarray:
        """The (n, n) integer TSPLIB distance matrix."""
        if self.edge_weight_type.upper() == "EXPLICIT":
            return np.asarray(self.explicit_weights, dtype=np.int64)
        try:
            return distance_matrix(np.asarray(self.coords, dtype=np.float64), self.edge_weight_type)
        except ValueError as exc:
            raise ModelError(str(exc), source=self.source, field="EDGE_WEIGHT_TYPE") from exc

    def min_vehicles(self) -> int:
        """Lower bound on the fleet: ceil(total demand / capacity) (1 for a TSP)."""
        if self.kind == "tsp" or not self.capacity:
            return 1
        return max(1, -(-self.total_demand // self.capacity))

    def check_feasible_by_construction(self) -> str | None:
        """Why no solution can exist (total demand above the fleet's capacity), or None."""
        if self.kind == "cvrp" and self.num_vehicles is not None and self.capacity is not None:
            fleet = self.num_vehicles * self.capacity
            if self.total_demand > fleet:
                return (f"total demand {self.total_demand} exceeds the fleet's capacity "
                        f"{self.num_vehicles} x {self.capacity} = {fleet}")
        return None
