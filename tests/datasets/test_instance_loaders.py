"""Dataset loaders checked against published optima: TSPLIB tours, CVRPLIB solutions, Gset, OR-Library."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kakehashi.datasets import cvrplib, gset, orlib, tsplib
from kakehashi.exceptions import ModelError


def test_every_tsplib_opt_tour_has_the_published_length(data_dir: Path) -> None:
    optima = tsplib.optima(root=data_dir)
    with_tour = [name for name in optima if (data_dir / "tsplib" / f"{name}.opt.tour").is_file()]
    assert len(with_tour) == 12  # every instance whose optima.csv row says opt_tour_file=yes
    for name in with_tour:
        inst = tsplib.load(name, root=data_dir)
        assert inst.dimension == len(tsplib.load_tour(name, root=data_dir))
        assert inst.tour_length(tsplib.load_tour(name, root=data_dir)) == optima[name], name
    for name in optima:  # the others parse, with the documented dimension
        assert tsplib.load(name, root=data_dir).distance_matrix().shape[0] > 0


def test_tsplib_distance_types_by_hand(data_dir: Path) -> None:
    att = tsplib.load("att48", root=data_dir)
    (x1, y1), (x2, y2) = att.coordinates[0], att.coordinates[1]  # type: ignore[index]
    r = np.sqrt(((x1 - x2) ** 2 + (y1 - y2) ** 2) / 10.0)
    t = int(r + 0.5)
    assert att.distance_matrix()[0, 1] == (t + 1 if t < r else t)
    d = tsplib.coordinate_distances(np.array([[0.0, 0.0], [3.0, 4.2]]), "CEIL_2D")
    assert d[0, 1] == 6  # ceil(5.17)
    assert tsplib.coordinate_distances(np.array([[0.0, 0.0], [3.0, 4.2]]), "EUC_2D")[0, 1] == 5


@pytest.mark.parametrize(
    "fmt",
    ["FULL_MATRIX", "UPPER_ROW", "LOWER_ROW", "UPPER_DIAG_ROW", "LOWER_DIAG_ROW", "UPPER_COL", "LOWER_COL",
     "UPPER_DIAG_COL", "LOWER_DIAG_COL"],
)  # fmt: skip
def test_tsplib_explicit_formats(fmt: str) -> None:
    rng = np.random.default_rng(1)
    n = 6
    m = rng.integers(1, 100, size=(n, n))
    m = np.triu(m, 1) + np.triu(m, 1).T
    order = {
        "FULL_MATRIX": [(i, j) for i in range(n) for j in range(n)],
        "UPPER_ROW": [(i, j) for i in range(n) for j in range(i + 1, n)],
        "LOWER_ROW": [(i, j) for i in range(n) for j in range(i)],
        "UPPER_DIAG_ROW": [(i, j) for i in range(n) for j in range(i, n)],
        "LOWER_DIAG_ROW": [(i, j) for i in range(n) for j in range(i + 1)],
        # column-wise: walk columns j, rows i of the stated triangle
        "UPPER_COL": [(i, j) for j in range(n) for i in range(j)],
        "LOWER_COL": [(i, j) for j in range(n) for i in range(j + 1, n)],
        "UPPER_DIAG_COL": [(i, j) for j in range(n) for i in range(j + 1)],
        "LOWER_DIAG_COL": [(i, j) for j in range(n) for i in range(j, n)],
    }[fmt]
    numbers = " ".join(str(m[i, j]) for i, j in order)
    text = (
        f"NAME: t\nTYPE: TSP\nDIMENSION: {n}\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: {fmt}\n"
        f"EDGE_WEIGHT_SECTION\n{numbers}\nEOF\n"
    )
    inst = tsplib.parse_instance(text)
    np.testing.assert_array_equal(inst.distance_matrix(), m)
    assert inst.tour_length([0, 1, 2, 3, 4, 5]) == sum(m[i, (i + 1) % n] for i in range(n))


def test_tsplib_malformed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsp"
    bad.write_text("NAME: x\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 x\nEOF\n")
    with pytest.raises(ModelError, match="numeric coordinates") as info:
        tsplib.read_instance(bad)
    assert info.value.line == 4


def test_every_cvrplib_solution_scores_its_optimum(data_dir: Path) -> None:
    optima = cvrplib.optima(root=data_dir)
    assert len(optima) == 50
    faulty = {"B-n50-k8", "B-n57-k7"}
    for name, opt in optima.items():
        inst = cvrplib.load(name, root=data_dir)
        sol = cvrplib.load_solution(name, root=data_dir)
        assert (inst.dimension, inst.capacity, inst.num_vehicles) == (
            opt.dimension,
            opt.capacity,
            opt.k_vehicles,
        )
        assert inst.depot == 0 and inst.demands[0] == 0
        if name in faulty:
            continue
        assert inst.violations(sol.routes) == [], name
        assert inst.cost(sol.routes) == opt.optimal_cost == sol.stated_cost, name


def test_the_two_documented_faulty_cvrplib_solutions(data_dir: Path) -> None:
    inst = cvrplib.load("B-n50-k8", root=data_dir)
    sol = cvrplib.load_solution("B-n50-k8", root=data_dir)
    assert inst.violations(sol.routes) == [
        "customer 2 is visited twice (routes 2 and 3)",
        "customers never visited: [3]",
    ]
    fixed = [list(r) for r in sol.routes]
    assert fixed[2][0] == 2
    fixed[2][0] = 3  # the typo: route 3 starts with customer 2 instead of 3
    assert inst.violations(fixed) == [] and inst.cost(fixed) == 1312
    inst57 = cvrplib.load("B-n57-k7", root=data_dir)
    sol57 = cvrplib.load_solution("B-n57-k7", root=data_dir)
    assert inst57.violations(sol57.routes) == []
    assert sol57.stated_cost == 1153 and inst57.cost(sol57.routes) == 1155  # nint rounding


@pytest.mark.parametrize(("k", "n"), [(1, 31), (3, 89), (5, 225)])
def test_portfolio_covariance_and_frontier(data_dir: Path, k: int, n: int) -> None:
    port = orlib.load(k, root=data_dir)
    cov = port.covariance
    assert port.n == n and cov.shape == (n, n)
    np.testing.assert_array_equal(cov, cov.T)
    np.testing.assert_allclose(np.diag(cov), port.std**2)
    assert np.linalg.eigvalsh(cov).min() > -1e-12
    frontier = orlib.load_frontier(k, root=data_dir)
    assert frontier.mean_return.shape == (2000,)
    # the frontier's top end is the single asset with the highest mean: its variance is std^2
    best = int(np.argmax(port.mean))
    top = int(np.argmax(frontier.mean_return))
    assert frontier.mean_return[top] == pytest.approx(port.mean[best], rel=1e-4)
    assert frontier.variance[top] == pytest.approx(port.std[best] ** 2, rel=1e-3)
    # long-only frontier variances are never below the unconstrained minimum variance
    ones = np.ones(n)
    min_var = 1.0 / (ones @ np.linalg.solve(cov, ones))
    assert frontier.variance.min() >= min_var * (1 - 1e-6)


def test_gset_loader_and_best_known(data_dir: Path) -> None:
    table = gset.best_known(root=data_dir)
    assert table["G1"].best_known == 11624 and table["G1"].n == 800
    names = gset.instances(root=data_dir)
    assert names[:3] == ["G1", "G2", "G3"] and set(names) == set(table)  # 49 graphs, one row each
    p = gset.load("G14", root=data_dir)
    assert p.known_optimum == table["G14"].best_known == 3064
    assert p.num_variables == table["G14"].n and p.model.num_interactions == table["G14"].m


def test_missing_file_gives_a_download_hint(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="kakehashi datasets download gset"):
        gset.load("G1", root=tmp_path)
