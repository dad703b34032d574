"""Readers for routing instances: TSPLIB ``.tsp``, CVRPLIB ``.vrp`` and CSV depot/customer files.

The TSPLIB/CVRPLIB parser is strict about the header: every error names the file, the line and
the rule broken (missing DIMENSION, a non-integer value, an unsupported EDGE_WEIGHT_TYPE, a
section with the wrong number of records...). The known optimum is taken from ``optima.csv``
or ``<name>.sol`` beside the file when present, or from a COMMENT such as
``Optimal value: 784``.

Declared sizes are budgets, checked before anything is allocated: ``DIMENSION`` at most
``max_nodes`` (default :data:`MAX_NODES`; the service passes the node count its
``max_variables`` allows), and an explicit matrix must have the numbers its format and
``DIMENSION`` need (a 200-byte file that declares a million nodes is refused at once).

CSV format (one row per node, header required): ``id,x,y,demand``; the first row is the depot
(demand 0). Capacity and fleet size come from the caller (``kakehashi route --capacity``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Literal

from kakehashi.apps.routing.distances import SUPPORTED
from kakehashi.apps.routing.instance import RoutingInstance
from kakehashi.exceptions import ModelError

#: The most nodes a routing file may declare by default (a dense distance matrix is n x n).
MAX_NODES = 10_000

_SECTIONS = ("NODE_COORD_SECTION", "DEMAND_SECTION", "DEPOT_SECTION", "EDGE_WEIGHT_SECTION",
             "DISPLAY_DATA_SECTION", "EOF")


def read_routing(path: str | Path, *, capacity: int | None = None,
                 num_vehicles: int | None = None, max_nodes: int = MAX_NODES) -> RoutingInstance:
    """Read a ``.tsp``, ``.vrp`` or ``.csv`` routing instance (see the module docstring)."""
    p = Path(path)
    if not p.exists():
        raise ModelError("file not found", source=p)
    if p.suffix.lower() == ".csv":
        return read_csv(p, capacity=capacity, num_vehicles=num_vehicles)
    inst = read_tsplib(p, max_nodes=max_nodes)
    if capacity is not None or num_vehicles is not None:
        data = inst.model_dump()
        if capacity is not None:
            data["capacity"] = capacity
        if num_vehicles is not None:
            data["num_vehicles"] = num_vehicles
        inst = RoutingInstance(**data)
    return inst


def read_tsplib(path: str | Path, *, max_nodes: int = MAX_NODES) -> RoutingInstance:
    """Parse a TSPLIB ``.tsp`` or CVRPLIB ``.vrp`` file of at most ``max_nodes`` nodes."""
    p = Path(path)
    src = str(p)
    lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    header: dict[str, tuple[str, int]] = {}
    i = 0
    while i < len(lines):
        raw = lines[i].strip()
        if not raw:
            i += 1
            continue
        key = raw.split(":")[0].strip().upper() if ":" in raw else raw.split()[0].upper()
        if key in _SECTIONS:
            break
        if ":" not in raw:
            raise ModelError(f"expected 'KEY : VALUE' in the header, got {raw!r}", source=src, line=i + 1)
        k, v = raw.split(":", 1)
        header[k.strip().upper()] = (v.strip(), i + 1)
        i += 1
    for required in ("DIMENSION", "EDGE_WEIGHT_TYPE"):
        if required not in header:
            raise ModelError(f"header lacks {required} (rule: TSPLIB requires it)", source=src, field=required)
    dim_text, dim_line = header["DIMENSION"]
    try:
        n = int(dim_text)
    except ValueError:
        raise ModelError(f"DIMENSION must be an integer, got {dim_text!r}", source=src, line=dim_line,
                         field="DIMENSION") from None
    if n < 2:
        raise ModelError(f"DIMENSION must be at least 2, got {n}", source=src, line=dim_line, field="DIMENSION")
    if n > max_nodes:
        raise ModelError(f"DIMENSION {n} exceeds the limit of {max_nodes} nodes", source=src, line=dim_line,
                         field="DIMENSION")
    ewt, ewt_line = header["EDGE_WEIGHT_TYPE"]
    ewt = ewt.upper()
    if ewt not in SUPPORTED:
        raise ModelError(f"unsupported EDGE_WEIGHT_TYPE {ewt!r}; supported: {', '.join(SUPPORTED)}",
                         source=src, line=ewt_line, field="EDGE_WEIGHT_TYPE")
    type_text = header.get("TYPE", ("TSP", 0))[0].upper()
    if type_text not in ("TSP", "CVRP"):
        raise ModelError(f"TYPE {type_text!r} is not supported (TSP or CVRP)", source=src,
                         line=header.get("TYPE", ("", 0))[1] or None, field="TYPE")
    capacity = None
    if "CAPACITY" in header:
        cap_text, cap_line = header["CAPACITY"]
        try:
            capacity = int(float(cap_text))
        except ValueError:
            raise ModelError(f"CAPACITY must be a number, got {cap_text!r}", source=src, line=cap_line,
                             field="CAPACITY") from None
    name = header.get("NAME", (p.stem, 0))[0] or p.stem
    for suffix in (".tsp", ".vrp"):
        name = name.removesuffix(suffix)
    coords: list[tuple[float, float]] = []
    demands: list[int] = []
    weights: list[float] = []
    section = ""
    for j in range(i, len(lines)):
        raw = lines[j].strip()
        if not raw:
            continue
        token = raw.split()[0].upper().rstrip(":")
        if token in _SECTIONS:
            section = token
            if section == "EOF":
                break
            continue
        parts = raw.split()
        try:
            if section == "NODE_COORD_SECTION":
                if len(parts) < 3:
                    raise ValueError("a coordinate record is 'id x y'")
                coords.append((float(parts[1]), float(parts[2])))
            elif section == "DEMAND_SECTION":
                if len(parts) < 2:
                    raise ValueError("a demand record is 'id demand'")
                demands.append(int(float(parts[1])))
            elif section == "EDGE_WEIGHT_SECTION":
                weights.extend(float(x) for x in parts)
            elif section in ("DEPOT_SECTION", "DISPLAY_DATA_SECTION"):
                continue
            else:
                raise ValueError(f"unexpected data outside a section: {raw!r}")
        except ValueError as exc:
            raise ModelError(f"bad record in {section or 'header'}: {exc}", source=src, line=j + 1) from None
    if ewt != "EXPLICIT" and len(coords) != n:
        raise ModelError(f"NODE_COORD_SECTION has {len(coords)} records, DIMENSION says {n}", source=src,
                         field="NODE_COORD_SECTION")
    explicit = None
    if ewt == "EXPLICIT":
        fmt = header.get("EDGE_WEIGHT_FORMAT", ("FULL_MATRIX", 0))[0].upper()
        explicit = _explicit_matrix(weights, n, fmt, src, dim_line)
    kind: Literal["tsp", "cvrp"] = "cvrp" if type_text == "CVRP" else "tsp"
    if kind == "cvrp" and not demands:
        raise ModelError("a CVRP file needs a DEMAND_SECTION", source=src, field="DEMAND_SECTION")
    if demands and len(demands) != n:
        raise ModelError(f"DEMAND_SECTION has {len(demands)} records, DIMENSION says {n}", source=src,
                         field="DEMAND_SECTION")
    if demands and capacity is not None:
        for node, d in enumerate(demands):
            if d > capacity:
                raise ModelError(
                    f"node {node + 1} demands {d}, above every vehicle's capacity {capacity} "
                    "(rule: demand <= capacity)", source=src, field="DEMAND_SECTION")
    fleet: int | None = None
    m = re.search(r"-k(\d+)", name)
    if kind == "cvrp" and m:
        fleet = int(m.group(1))
    return RoutingInstance(
        name=name, kind=kind, coords=coords, edge_weight_type=ewt, explicit_weights=explicit,
        demands=demands, capacity=capacity if kind == "cvrp" else None, num_vehicles=fleet,
        known_optimum=_known_optimum(p, name, header.get("COMMENT", ("", 0))[0]), source=src,
    )


#: numbers an EDGE_WEIGHT_SECTION of each format holds for n nodes
_EXPLICIT_COUNT = {
    "FULL_MATRIX": lambda n: n * n,
    "UPPER_ROW": lambda n: n * (n - 1) // 2,
    "LOWER_ROW": lambda n: n * (n - 1) // 2,
    "UPPER_DIAG_ROW": lambda n: n * (n + 1) // 2,
    "LOWER_DIAG_ROW": lambda n: n * (n + 1) // 2,
}


def _explicit_matrix(values: list[float], n: int, fmt: str, src: str, dim_line: int | None = None) -> list[list[int]]:
    if fmt not in _EXPLICIT_COUNT:
        raise ModelError(f"unsupported EDGE_WEIGHT_FORMAT {fmt!r}", source=src, field="EDGE_WEIGHT_FORMAT")
    needed = _EXPLICIT_COUNT[fmt](n)
    if len(values) < needed:  # checked before the n x n matrix is allocated
        raise ModelError(f"EDGE_WEIGHT_SECTION has {len(values)} values; {fmt} with DIMENSION {n} needs {needed}",
                         source=src, line=dim_line, field="EDGE_WEIGHT_SECTION")
    full = [[0] * n for _ in range(n)]
    it = iter(round(v) for v in values)
    try:
        if fmt == "FULL_MATRIX":
            for a in range(n):
                for b in range(n):
                    full[a][b] = next(it)
        else:
            pairs: list[tuple[int, int]]
            if fmt == "UPPER_ROW":
                pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
            elif fmt == "LOWER_ROW":
                pairs = [(a, b) for a in range(n) for b in range(a)]
            elif fmt == "UPPER_DIAG_ROW":
                pairs = [(a, b) for a in range(n) for b in range(a, n)]
            elif fmt == "LOWER_DIAG_ROW":
                pairs = [(a, b) for a in range(n) for b in range(a + 1)]
            else:
                raise ModelError(f"unsupported EDGE_WEIGHT_FORMAT {fmt!r}", source=src, field="EDGE_WEIGHT_FORMAT")
            for a, b in pairs:
                full[a][b] = full[b][a] = next(it)
    except StopIteration:
        raise ModelError(f"EDGE_WEIGHT_SECTION has too few values for {fmt} with DIMENSION {n}",
                         source=src, field="EDGE_WEIGHT_SECTION") from None
    return full


def _known_optimum(path: Path, name: str, comment: str) -> float | None:
    for folder in (path.parent, path.parent.parent):
        table = folder / "optima.csv"
        if table.exists():
            with table.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    if row.get("instance") == name:
                        value = row.get("optimal_cost") or row.get("optimal_length")
                        if value:
                            return float(value)
    sol = path.with_suffix(".sol")
    if sol.exists():
        m = re.search(r"^Cost\s+([0-9.]+)", sol.read_text(), flags=re.MULTILINE)
        if m:
            return float(m.group(1))
    m = re.search(r"Optimal value:\s*([0-9.]+)", comment)
    return float(m.group(1)) if m else None


def read_csv(path: str | Path, *, capacity: int | None = None, num_vehicles: int | None = None) -> RoutingInstance:
    """Read ``id,x,y,demand`` rows (depot first). Without ``capacity`` the instance is a TSP."""
    p = Path(path)
    coords: list[tuple[float, float]] = []
    demands: list[int] = []
    with p.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"x", "y"} - set(reader.fieldnames or [])
        if missing:
            raise ModelError(f"CSV header lacks column(s) {sorted(missing)}; expected id,x,y,demand",
                             source=p, line=1)
        for row in reader:
            line = reader.line_num
            try:
                coords.append((float(row["x"]), float(row["y"])))
                demands.append(int(float(row.get("demand") or 0)))
            except (TypeError, ValueError):
                raise ModelError(f"bad record {row!r}: x, y must be numbers and demand an integer",
                                 source=p, line=line) from None
            if demands[-1] < 0:
                raise ModelError(f"negative demand {demands[-1]}", source=p, line=line, field="demand")
            if capacity is not None and demands[-1] > capacity:
                raise ModelError(f"customer {row.get('id', len(coords) - 1)} demands {demands[-1]}, above every "
                                 f"vehicle's capacity {capacity} (rule: demand <= capacity)",
                                 source=p, line=line, field="demand")
    if demands and demands[0] != 0:
        raise ModelError("the first row is the depot and must have demand 0", source=p, line=2, field="demand")
    kind: Literal["tsp", "cvrp"] = "cvrp" if capacity is not None else "tsp"
    return RoutingInstance(name=p.stem, kind=kind, coords=coords, edge_weight_type="EUC_2D",
                           demands=demands if kind == "cvrp" else [], capacity=capacity,
                           num_vehicles=num_vehicles, source=str(p))
