"""CVRPLIB capacitated VRP instances (``.vrp``) and solutions (``.sol``), and a cost function.

Indices are 0-based: node ``k`` of the ``.vrp`` file is index ``k - 1``, so the depot (node 1)
is index 0 and customer ``c`` of a ``.sol`` route (node ``c + 1``) is index ``c``. Distances
follow TSPLIB95 (``EUC_2D``: nint of the Euclidean distance), as CVRPLIB's optima do.
"""

from __future__ import annotations

import csv
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kakehashi.datasets.location import dataset_file
from kakehashi.datasets.tsplib import coordinate_distances, parse_tsplib
from kakehashi.exceptions import ModelError

_VEHICLES = re.compile(r"-k(\d+)")


@dataclass
class CVRPInstance:
    """A CVRP instance.

    Attributes:
        name: e.g. ``"A-n32-k5"``.
        dimension: number of nodes including the depot.
        capacity: vehicle capacity (demand units).
        coordinates: (dimension, 2) node coordinates.
        demands: (dimension,) demand per node (the depot's is 0).
        depot: index of the depot (0 in every CVRPLIB A/B instance).
        num_vehicles: ``k`` from the name (``-k5``), ``None`` if the name has none.
        edge_weight_type: TSPLIB distance type (``EUC_2D``).
    """

    name: str
    dimension: int
    capacity: int
    coordinates: np.ndarray
    demands: np.ndarray
    depot: int
    num_vehicles: int | None
    edge_weight_type: str = "EUC_2D"

    @property
    def customers(self) -> list[int]:
        """Indices of all nodes except the depot."""
        return [i for i in range(self.dimension) if i != self.depot]

    def distance_matrix(self) -> np.ndarray:
        """(dimension, dimension) integer distances (TSPLIB95 rounding)."""
        return coordinate_distances(self.coordinates, self.edge_weight_type)

    def route_cost(self, route: list[int], distances: np.ndarray | None = None) -> int:
        """Cost of depot -> ``route`` -> depot."""
        d = self.distance_matrix() if distances is None else distances
        path = [self.depot, *route, self.depot]
        return int(sum(d[a, b] for a, b in itertools.pairwise(path)))

    def cost(self, routes: list[list[int]]) -> int:
        """Total cost of ``routes`` (each a list of customer indices, depot omitted)."""
        d = self.distance_matrix()
        return sum(self.route_cost(r, d) for r in routes)

    def violations(self, routes: list[list[int]]) -> list[str]:
        """Why ``routes`` is not a feasible solution (empty list when it is).

        Checks: every customer visited exactly once, no depot or unknown node in a route,
        each route's demand within ``capacity``. (The number of routes is not checked: ``k`` in
        the name is the minimum fleet of the original paper, not a constraint of the data.)
        """
        problems: list[str] = []
        seen: dict[int, int] = {}
        for r, route in enumerate(routes, start=1):
            for c in route:
                if c == self.depot or not 0 <= c < self.dimension:
                    problems.append(f"route {r} visits invalid node {c}")
                elif c in seen:
                    problems.append(f"customer {c} is visited twice (routes {seen[c]} and {r})")
                else:
                    seen[c] = r
            load = int(sum(self.demands[c] for c in route if 0 <= c < self.dimension))
            if load > self.capacity:
                problems.append(f"route {r} carries {load} > capacity {self.capacity}")
        missing = [c for c in self.customers if c not in seen]
        if missing:
            problems.append(f"customers never visited: {missing}")
        return problems


@dataclass
class CVRPSolution:
    """A ``.sol`` file: routes of customer indices (``c`` = node ``c + 1``) and the stated cost."""

    routes: list[list[int]]
    stated_cost: float | None


def parse_instance(text: str, source: str | Path | None = None) -> CVRPInstance:
    """Parse a ``.vrp`` text; raises :class:`ModelError` naming the file."""
    f = parse_tsplib(text, source)
    spec = f.specification
    try:
        n = int(spec["DIMENSION"])
        capacity = int(float(spec["CAPACITY"]))
    except (KeyError, ValueError):
        raise ModelError("expected DIMENSION and CAPACITY in the header", source=source, line=1) from None
    name = spec.get("NAME", Path(source).stem if source else "cvrp")
    coords_rows = f.sections.get("NODE_COORD_SECTION", [])
    demand_rows = f.sections.get("DEMAND_SECTION", [])
    if len(coords_rows) != n or len(demand_rows) != n:
        raise ModelError(
            f"expected {n} coordinate and demand lines, got {len(coords_rows)} and {len(demand_rows)}",
            source=source,
        )
    coords = np.array([[float(x) for x in r[1:3]] for r in coords_rows])
    demands = np.array([int(float(r[1])) for r in demand_rows], dtype=np.int64)
    depots = [int(x) for r in f.sections.get("DEPOT_SECTION", [["1"], ["-1"]]) for x in r if int(x) != -1]
    if len(depots) != 1:
        raise ModelError(f"expected exactly one depot, got {depots}", source=source)
    match = _VEHICLES.search(name)
    return CVRPInstance(
        name=name,
        dimension=n,
        capacity=capacity,
        coordinates=coords,
        demands=demands,
        depot=depots[0] - 1,
        num_vehicles=int(match.group(1)) if match else None,
        edge_weight_type=spec.get("EDGE_WEIGHT_TYPE", "EUC_2D").upper(),
    )


def read_instance(path: str | Path) -> CVRPInstance:
    """Read a ``.vrp`` file."""
    p = Path(path)
    return parse_instance(p.read_text(encoding="utf-8", errors="replace"), p)


def read_solution(path: str | Path) -> CVRPSolution:
    """Read a ``.sol`` file: ``Route #k: c1 c2 ...`` lines and ``Cost X``."""
    p = Path(path)
    routes: list[list[int]] = []
    cost: float | None = None
    for lineno, raw in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.lower().startswith("route"):
            _, _, rest = line.partition(":")
            try:
                routes.append([int(x) for x in rest.split()])
            except ValueError:
                raise ModelError(
                    f"expected customer numbers, got {rest.strip()!r}", source=p, line=lineno
                ) from None
        elif line.lower().startswith("cost"):
            try:
                cost = float(line.split()[1])
            except (IndexError, ValueError):
                raise ModelError(f"expected 'Cost <number>', got {line!r}", source=p, line=lineno) from None
    return CVRPSolution(routes=routes, stated_cost=cost)


def _find(name: str, suffix: str, root: Path | None) -> Path:
    folder = name.split("-", 1)[0]
    return dataset_file("cvrplib", folder, f"{name}{suffix}", root=root)


def load(name: str, *, root: Path | None = None) -> CVRPInstance:
    """Instance ``name`` (e.g. ``"A-n32-k5"``) from ``cvrplib/<set>/``."""
    return read_instance(_find(name, ".vrp", root))


def load_solution(name: str, *, root: Path | None = None) -> CVRPSolution:
    """The reference solution of ``name``."""
    return read_solution(_find(name, ".sol", root))


@dataclass(frozen=True)
class Optimum:
    """One row of ``cvrplib/optima.csv``."""

    set: str
    instance: str
    dimension: int
    k_vehicles: int
    capacity: int
    optimal_cost: int
    note: str


def optima(*, root: Path | None = None) -> dict[str, Optimum]:
    """Optimal costs from ``cvrplib/optima.csv`` by instance name."""
    path = dataset_file("cvrplib", "optima.csv", root=root)
    with path.open(newline="") as fh:
        return {
            row["instance"]: Optimum(
                set=row["set"],
                instance=row["instance"],
                dimension=int(row["dimension"]),
                k_vehicles=int(row["k_vehicles"]),
                capacity=int(row["capacity"]),
                optimal_cost=int(row["optimal_cost"]),
                note=row.get("note", ""),
            )
            for row in csv.DictReader(fh)
        }
