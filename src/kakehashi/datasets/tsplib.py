"""TSPLIB95 symmetric TSP instances, tours and optima, with distances exactly as TSPLIB95 defines.

Nodes are 0-based in Python (node ``k`` of the file is index ``k - 1``). Distances
(Reinelt, *TSPLIB 95*, section 2): ``EUC_2D``/``EUC_3D`` nint of the Euclidean distance,
``CEIL_2D`` its ceiling, ``MAN_*`` and ``MAX_*`` rounded with nint, ``ATT`` pseudo-Euclidean,
``GEO`` great-circle on the idealised sphere (radius 6378.388 km, coordinates DDD.MM with
``PI = 3.141592``), ``EXPLICIT`` matrices in every ``EDGE_WEIGHT_FORMAT``. ``nint(x)`` is
``int(x + 0.5)``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kakehashi.datasets.location import dataset_file
from kakehashi.exceptions import ModelError

_SECTIONS = {
    "NODE_COORD_SECTION",
    "EDGE_WEIGHT_SECTION",
    "DISPLAY_DATA_SECTION",
    "TOUR_SECTION",
    "DEMAND_SECTION",
    "DEPOT_SECTION",
    "FIXED_EDGES_SECTION",
}
#: The most nodes a TSPLIB file may declare (the largest TSPLIB95 instance, pla85900, has 85,900;
#: an explicit matrix must also hold the numbers its DIMENSION needs).
MAX_NODES = 100_000
_COORD_TYPES = {"EUC_2D", "EUC_3D", "CEIL_2D", "MAN_2D", "MAN_3D", "MAX_2D", "MAX_3D", "ATT", "GEO"}
_FORMATS = {
    "FULL_MATRIX",
    "UPPER_ROW",
    "LOWER_ROW",
    "UPPER_DIAG_ROW",
    "LOWER_DIAG_ROW",
    "UPPER_COL",
    "LOWER_COL",
    "UPPER_DIAG_COL",
    "LOWER_DIAG_COL",
}


@dataclass
class TSPLIBFile:
    """The raw content of a TSPLIB file: specification keys and numeric sections by name."""

    specification: dict[str, str]
    sections: dict[str, list[list[str]]] = field(default_factory=dict)
    section_lines: dict[str, int] = field(default_factory=dict)


def parse_tsplib(text: str, source: str | Path | None = None) -> TSPLIBFile:
    """Split a TSPLIB text into ``KEY : value`` pairs and its data sections (rows of fields)."""
    out = TSPLIBFile(specification={})
    current: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line == "EOF":
            if line == "EOF":
                break
            continue
        head = line.split(":", 1)[0].strip().upper() if ":" in line else line.split()[0].upper()
        if head in _SECTIONS:
            current = head
            out.sections[current] = []
            out.section_lines[current] = lineno
            continue
        if ":" in line and not line[0].isdigit() and line[0] not in "-+.":
            key, value = line.split(":", 1)
            out.specification[key.strip().upper()] = value.strip()
            current = None
            continue
        if current is None:
            raise ModelError(
                f"expected 'KEY : value' or a section name, got {line!r}", source=source, line=lineno
            )
        out.sections[current].append(line.split())
    return out


def nint(x: np.ndarray) -> np.ndarray:
    """TSPLIB's nint: ``(int)(x + 0.5)`` for the non-negative distances it is applied to."""
    out: np.ndarray = np.floor(x + 0.5)
    return out


def _geo_radians(coord: np.ndarray) -> np.ndarray:
    pi = 3.141592
    deg = np.trunc(coord)
    minutes = coord - deg
    out: np.ndarray = pi * (deg + 5.0 * minutes / 3.0) / 180.0
    return out


def coordinate_distances(coords: np.ndarray, kind: str) -> np.ndarray:
    """The full integer distance matrix of ``coords`` (n, 2 or 3) under TSPLIB type ``kind``."""
    diff = coords[:, None, :] - coords[None, :, :]
    if kind in ("EUC_2D", "EUC_3D"):
        d = nint(np.sqrt((diff**2).sum(-1)))
    elif kind == "CEIL_2D":
        d = np.ceil(np.sqrt((diff[..., :2] ** 2).sum(-1)))
    elif kind in ("MAN_2D", "MAN_3D"):
        d = nint(np.abs(diff).sum(-1))
    elif kind in ("MAX_2D", "MAX_3D"):
        d = nint(np.abs(diff).max(-1))
    elif kind == "ATT":
        r = np.sqrt((diff[..., :2] ** 2).sum(-1) / 10.0)
        t = nint(r)
        d = np.where(t < r, t + 1, t)
    elif kind == "GEO":
        rrr = 6378.388
        lat, lon = _geo_radians(coords[:, 0]), _geo_radians(coords[:, 1])
        q1 = np.cos(lon[:, None] - lon[None, :])
        q2 = np.cos(lat[:, None] - lat[None, :])
        q3 = np.cos(lat[:, None] + lat[None, :])
        arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        d = np.trunc(rrr * np.arccos(arg) + 1.0)
        np.fill_diagonal(d, 0.0)
    else:
        raise ValueError(kind)
    return d.astype(np.int64)


def explicit_matrix(values: list[float], n: int, fmt: str) -> np.ndarray:
    """The full symmetric matrix from the numbers of an EDGE_WEIGHT_SECTION in format ``fmt``.

    The count of numbers is checked against ``n`` before the (n, n) matrix is allocated."""
    if fmt == "FULL_MATRIX":
        if len(values) != n * n:
            raise ValueError(f"expected {n * n} numbers for FULL_MATRIX, got {len(values)}")
        return np.asarray(values, dtype=float).reshape(n, n)
    expected = n * (n - 1) // 2 if fmt in ("UPPER_ROW", "LOWER_COL", "LOWER_ROW", "UPPER_COL") else n * (n + 1) // 2
    if len(values) != expected:
        raise ValueError(f"expected {expected} numbers for {fmt}, got {len(values)}")
    m = np.zeros((n, n))
    # column-wise lower/upper triangles list the same entries as row-wise upper/lower ones
    rowwise = {
        "UPPER_ROW": "UPPER_ROW",
        "LOWER_COL": "UPPER_ROW",
        "LOWER_ROW": "LOWER_ROW",
        "UPPER_COL": "LOWER_ROW",
        "UPPER_DIAG_ROW": "UPPER_DIAG_ROW",
        "LOWER_DIAG_COL": "UPPER_DIAG_ROW",
        "LOWER_DIAG_ROW": "LOWER_DIAG_ROW",
        "UPPER_DIAG_COL": "LOWER_DIAG_ROW",
    }[fmt]
    if rowwise == "UPPER_ROW":
        idx = [(i, j) for i in range(n) for j in range(i + 1, n)]
    elif rowwise == "LOWER_ROW":
        idx = [(i, j) for i in range(n) for j in range(i)]
    elif rowwise == "UPPER_DIAG_ROW":
        idx = [(i, j) for i in range(n) for j in range(i, n)]
    else:
        idx = [(i, j) for i in range(n) for j in range(i + 1)]
    if len(values) != len(idx):
        raise ValueError(f"expected {len(idx)} numbers for {fmt}, got {len(values)}")
    for (i, j), v in zip(idx, values, strict=True):
        m[i, j] = m[j, i] = v
    return m


@dataclass
class TSPInstance:
    """A symmetric TSP instance.

    Attributes:
        name, comment: from the file header.
        dimension: number of nodes ``n``.
        edge_weight_type: ``EUC_2D``, ``ATT``, ``GEO``, ``CEIL_2D``, ``EXPLICIT``...
        edge_weight_format: for ``EXPLICIT``: ``FULL_MATRIX``, ``UPPER_ROW``, ... (else ``None``).
        coordinates: (n, 2|3) node coordinates, or ``None`` for an explicit instance without them.
        weights: the explicit (n, n) matrix, or ``None``.
    """

    name: str
    comment: str
    dimension: int
    edge_weight_type: str
    edge_weight_format: str | None = None
    coordinates: np.ndarray | None = None
    weights: np.ndarray | None = None

    def distance_matrix(self) -> np.ndarray:
        """The (n, n) integer distance matrix, following TSPLIB95 exactly."""
        if self.edge_weight_type == "EXPLICIT":
            assert self.weights is not None
            return self.weights.astype(np.int64)
        assert self.coordinates is not None
        return coordinate_distances(self.coordinates, self.edge_weight_type)

    def tour_length(self, tour: list[int] | np.ndarray) -> int:
        """Length of the closed ``tour`` (0-based node indices, each node once)."""
        t = np.asarray(tour, dtype=np.int64)
        if sorted(t.tolist()) != list(range(self.dimension)):
            raise ModelError(f"a tour must visit each of the {self.dimension} nodes exactly once")
        d = self.distance_matrix()
        return int(d[t, np.roll(t, -1)].sum())


def parse_instance(text: str, source: str | Path | None = None) -> TSPInstance:
    """Parse a ``.tsp`` text; raises :class:`ModelError` naming the file and line."""
    f = parse_tsplib(text, source)
    spec = f.specification
    try:
        n = int(spec["DIMENSION"])
    except (KeyError, ValueError):
        raise ModelError("expected 'DIMENSION : n' in the header", source=source, line=1) from None
    if not 1 <= n <= MAX_NODES:
        raise ModelError(f"DIMENSION {n} is outside 1..{MAX_NODES}", source=source, field="DIMENSION")
    kind = spec.get("EDGE_WEIGHT_TYPE", "").upper()
    fmt = spec.get("EDGE_WEIGHT_FORMAT", "").upper() or None
    inst = TSPInstance(
        name=spec.get("NAME", "").removesuffix(".tsp") or (Path(source).stem if source else "tsp"),
        comment=spec.get("COMMENT", ""),
        dimension=n,
        edge_weight_type=kind,
        edge_weight_format=fmt,
    )
    if "NODE_COORD_SECTION" in f.sections:
        rows = f.sections["NODE_COORD_SECTION"]
        line0 = f.section_lines["NODE_COORD_SECTION"]
        if len(rows) != n:
            raise ModelError(f"expected {n} coordinate lines, got {len(rows)}", source=source, line=line0)
        try:
            coords = np.array([[float(x) for x in r[1:]] for r in rows])
            order = [int(r[0]) for r in rows]
        except ValueError:
            raise ModelError("expected numeric coordinates", source=source, line=line0) from None
        if order != list(range(1, n + 1)):
            raise ModelError("expected nodes numbered 1..n in order", source=source, line=line0)
        inst.coordinates = coords
    if kind == "EXPLICIT":
        if fmt not in _FORMATS:
            raise ModelError(f"unsupported EDGE_WEIGHT_FORMAT {fmt!r}", source=source)
        weight_rows = f.sections.get("EDGE_WEIGHT_SECTION")
        if weight_rows is None:
            raise ModelError("expected an EDGE_WEIGHT_SECTION", source=source)
        values = [float(x) for r in weight_rows for x in r]
        try:
            inst.weights = explicit_matrix(values, n, fmt)
        except ValueError as exc:
            raise ModelError(str(exc), source=source, line=f.section_lines["EDGE_WEIGHT_SECTION"]) from None
    elif kind not in _COORD_TYPES:
        raise ModelError(f"unsupported EDGE_WEIGHT_TYPE {kind!r}", source=source)
    elif inst.coordinates is None:
        raise ModelError("expected a NODE_COORD_SECTION", source=source)
    return inst


def read_instance(path: str | Path) -> TSPInstance:
    """Read a ``.tsp`` file."""
    p = Path(path)
    return parse_instance(p.read_text(encoding="utf-8", errors="replace"), p)


def read_tour(path: str | Path) -> list[int]:
    """Read a ``.tour`` file's TOUR_SECTION as 0-based node indices (``-1`` ends the tour)."""
    p = Path(path)
    f = parse_tsplib(p.read_text(encoding="utf-8", errors="replace"), p)
    if "TOUR_SECTION" not in f.sections:
        raise ModelError("expected a TOUR_SECTION", source=p)
    tour: list[int] = []
    for row in f.sections["TOUR_SECTION"]:
        for x in row:
            if int(x) == -1:
                return tour
            tour.append(int(x) - 1)
    return tour


def load(name: str, *, root: Path | None = None) -> TSPInstance:
    """Instance ``name`` (e.g. ``"berlin52"``) from the data directory."""
    return read_instance(dataset_file("tsplib", f"{name}.tsp", root=root))


def load_tour(name: str, *, root: Path | None = None) -> list[int]:
    """The published optimal tour of ``name`` (0-based), where the data has one."""
    return read_tour(dataset_file("tsplib", f"{name}.opt.tour", root=root))


def optima(*, root: Path | None = None) -> dict[str, int]:
    """Optimal tour lengths from ``tsplib/optima.csv`` by instance name."""
    path = dataset_file("tsplib", "optima.csv", root=root)
    with path.open(newline="") as fh:
        return {row["instance"]: int(row["optimal_length"]) for row in csv.DictReader(fh)}


def geo_distance(a: tuple[float, float], b: tuple[float, float]) -> int:
    """The TSPLIB GEO distance of two (latitude, longitude) points given as DDD.MM."""
    return int(coordinate_distances(np.array([a, b], dtype=float), "GEO")[0, 1])


__all__ = [
    "TSPInstance",
    "coordinate_distances",
    "explicit_matrix",
    "geo_distance",
    "load",
    "load_tour",
    "optima",
    "parse_instance",
    "read_instance",
    "read_tour",
]
