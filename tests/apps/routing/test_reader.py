"""TSPLIB/CVRPLIB/CSV reading, distance conventions and bad-input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kakehashi.apps.routing import read_routing, validate
from kakehashi.apps.routing.distances import att, euc_2d, geo
from kakehashi.exceptions import ModelError


def _tour_length(d: np.ndarray, tour: list[int]) -> int:
    return int(sum(d[a, b] for a, b in zip(tour, tour[1:] + tour[:1], strict=True)))


def _opt_tour(path: Path) -> list[int]:
    lines = path.read_text().split("TOUR_SECTION")[1].split()
    nodes = []
    for tok in lines:
        v = int(tok)
        if v == -1:
            break
        nodes.append(v - 1)
    return nodes


@pytest.mark.parametrize(("name", "kind"), [("berlin52", "EUC_2D"), ("att48", "ATT"), ("ulysses16", "GEO"),
                                            ("ulysses22", "GEO")])
def test_published_optimal_tours_score_their_optimum(data_dir: Path, name: str, kind: str) -> None:
    inst = read_routing(data_dir / "tsplib" / f"{name}.tsp")
    assert inst.edge_weight_type == kind
    tour = _opt_tour(data_dir / "tsplib" / f"{name}.opt.tour")
    assert _tour_length(inst.distances, tour) == inst.known_optimum


def test_distance_conventions_by_hand() -> None:
    pts = np.array([[0.0, 0.0], [3.0, 4.5]])  # |d| = 5.408 -> nint 5
    assert euc_2d(pts)[0, 1] == 5
    assert euc_2d(np.array([[0.0, 0.0], [0.0, 2.5]]))[0, 1] == 3  # half rounds up
    # ATT: r = sqrt(25/10) = 1.58, nint 2 >= r -> 2
    assert att(np.array([[0.0, 0.0], [3.0, 4.0]]))[0, 1] == 2
    # GEO: one degree of latitude is about 111 km
    assert 110 <= geo(np.array([[10.0, 20.0], [11.0, 20.0]]))[0, 1] <= 113


def test_cvrp_header_and_fleet_from_name(data_dir: Path) -> None:
    inst = read_routing(data_dir / "cvrplib" / "A" / "A-n32-k5.vrp")
    assert (inst.kind, inst.dimension, inst.capacity, inst.num_vehicles, inst.known_optimum) == (
        "cvrp", 32, 100, 5, 784)


def test_reference_solution_validates(data_dir: Path) -> None:
    inst = read_routing(data_dir / "cvrplib" / "A" / "A-n32-k5.vrp")
    text = (data_dir / "cvrplib" / "A" / "A-n32-k5.sol").read_text()
    routes = [[int(x) for x in line.split(":")[1].split()] for line in text.splitlines() if line.startswith("Route")]
    assert validate(inst, routes, claimed_cost=784).ok


def test_malformed_header_names_file_line_and_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsp"
    bad.write_text("NAME : bad\nTYPE : TSP\nDIMENSION : twelve\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n")
    with pytest.raises(ModelError) as err:
        read_routing(bad)
    assert "bad.tsp:3" in str(err.value) and "DIMENSION must be an integer" in str(err.value)
    missing = tmp_path / "missing.tsp"
    missing.write_text("NAME : m\nTYPE : TSP\nDIMENSION : 2\nNODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n")
    with pytest.raises(ModelError, match=r"missing\.tsp: .*EDGE_WEIGHT_TYPE"):
        read_routing(missing)


def test_demand_above_capacity_is_rejected_with_record(tmp_path: Path) -> None:
    f = tmp_path / "d.vrp"
    f.write_text("NAME : d-n3-k1\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\n"
                 "NODE_COORD_SECTION\n1 0 0\n2 1 0\n3 0 1\nDEMAND_SECTION\n1 0\n2 4\n3 11\nDEPOT_SECTION\n1\n-1\nEOF\n")
    with pytest.raises(ModelError) as err:
        read_routing(f)
    msg = str(err.value)
    assert "d.vrp" in msg and "node 3" in msg and "demand <= capacity" in msg


def test_csv_reader_and_bad_record(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("id,x,y,demand\ndepot,0,0,0\na,3,4,5\nb,6,8,5\n")
    inst = read_routing(f, capacity=10, num_vehicles=1)
    assert inst.kind == "cvrp" and inst.distances[0, 1] == 5 and inst.demands == [0, 5, 5]
    f.write_text("id,x,y,demand\ndepot,0,0,0\na,3,four,5\n")
    with pytest.raises(ModelError, match=r"c.csv:3"):
        read_routing(f, capacity=10)
