"""The suites added for portfolios, unit commitment, chemistry and three more QOBLIB classes.

Each suite loads, every instance's identity hash is checked against the data (a missing file
skips that instance), and one small instance per suite runs end to end through the runner; the
objective of each answer is recomputed here from the instance data, not taken from the record.
"""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import numpy as np
import pytest

from kakehashi.bench.appcases import APP_FORMATS, identity, resolve
from kakehashi.bench.runner import run_suite
from kakehashi.bench.suite import builtin_suites, load_suite
from kakehashi.datasets.registry import sha256_of
from kakehashi.exceptions import ModelError

NEW = ("orlib-portfolio", "unit-commitment", "chemistry-vqe", "qoblib-marketsplit", "qoblib-birkhoff",
       "qoblib-routing")


@pytest.mark.parametrize("name", NEW)
def test_suite_loads_with_provenance_and_hashes(name: str, data_dir: Path) -> None:
    suite = load_suite(name)
    assert name in builtin_suites() and suite.tuning.policy == "defaults"
    checked = 0
    for inst in suite.instances:
        assert inst.best_known is not None and inst.best_known_source and inst.source
        try:
            digest = (identity(inst.format, inst.path, inst.extra, data_dir)[0] if inst.format in APP_FORMATS
                      else sha256_of(resolve(inst.path, data_dir)))
        except ModelError:
            continue  # this data directory lacks the file
        assert digest == inst.sha256, inst.id
        checked += 1
    if not checked:
        pytest.skip(f"no instance file of {name} in {data_dir}")


def test_changed_molecule_is_refused(data_dir: Path) -> None:
    from kakehashi.bench.appcases import load_case

    inst = load_suite("chemistry-vqe").instance("H2-1.5")
    moved = type(inst)(**{**inst.__dict__, "extra": {**inst.extra, "bond_length": 1.6}})
    with pytest.raises(ModelError, match="differs from the suite"):
        load_case(moved, root=data_dir)


def test_portfolio_run_is_valid_and_above_the_frontier(tmp_path: Path, data_dir: Path) -> None:
    from kakehashi.apps.portfolio.instance import read_orlib

    suite = load_suite("orlib-portfolio")
    doc = run_suite(suite, tmp_path, backends=["tabu"], budgets=[0.5], seeds=[0], instances=["port1-lam0.5"],
                    data_root=data_dir)
    (run,) = doc["runs"]
    assert run["status"] == "FEASIBLE", run.get("error")
    data = read_orlib(data_dir / "portfolio/port1.txt")
    w = np.zeros(data.n)
    for name, x in run["sample"]["data"].items():
        w[data.assets.index(name)] = x
    assert np.count_nonzero(w) == 10 and abs(w.sum() - 1) < 1e-6 and w[w > 0].min() >= 0.01 - 1e-9
    obj = 0.5 * w @ data.sigma @ w - 0.5 * data.mu @ w
    assert obj == pytest.approx(run["objective"], rel=1e-6)
    best = suite.instance("port1-lam0.5").best_known
    assert best is not None and obj >= best - 1e-9 and run["gap"] is not None


def test_unit_commitment_run_costs_what_its_schedule_costs(tmp_path: Path, data_dir: Path) -> None:
    suite = load_suite("unit-commitment")
    doc = run_suite(suite, tmp_path, backends=["highs"], budgets=[5.0], seeds=[0], data_root=data_dir)
    (run,) = doc["runs"]
    assert run["status"] == "FEASIBLE", run.get("error")
    best = suite.instances[0].best_known
    assert best is not None and run["objective"] >= best * (1 - 1e-6)
    assert sum(v for k, v in run["app"]["cost_breakdown"].items() if k != "total") == pytest.approx(run["objective"])


def test_chemistry_run_is_within_chemical_accuracy_of_fci(tmp_path: Path, data_dir: Path) -> None:
    suite = load_suite("chemistry-vqe")
    doc = run_suite(suite, tmp_path, backends=["vqe-uccsd"], budgets=[20.0], seeds=[0], instances=["H2-0.735"],
                    data_root=data_dir)
    (run,) = doc["runs"]
    fci = suite.instance("H2-0.735").best_known
    assert run["status"] == "FEASIBLE" and fci is not None
    assert run["objective"] >= fci - 1e-8  # variational
    assert abs(run["app"]["error_mha"]) < 1.6 and run["app"]["stopped"] == "converged"
    energies = [e for _, e in run["trajectory"]]
    assert energies == sorted(energies, reverse=True) and len(energies) >= 2


def _lp_objective(path: Path, values: dict[str, float]) -> float:
    """The objective of a Zimpl-written LP at ``values``, read from the file's objective row."""
    with lzma.open(path, "rt") as fh:
        text = fh.read()
    row = text.split("Minimize", 1)[1].split("Subject to", 1)[0].split(":", 1)[1]
    total, coef = 0.0, 1.0
    for tok in row.split():
        if tok in ("+", "-"):
            coef = -1.0 if tok == "-" else 1.0
            continue
        try:
            coef *= float(tok)
        except ValueError:
            total += coef * values.get(tok, 0.0)
            coef = 1.0
    return total


@pytest.mark.parametrize(("name", "ident"), [("qoblib-marketsplit", "ms_03_050_002"),
                                             ("qoblib-birkhoff", "bhD-03-001")])
def test_qoblib_lp_suite_reaches_best_known(name: str, ident: str, tmp_path: Path, data_dir: Path) -> None:
    suite = load_suite(name)
    inst = suite.instance(ident)
    doc = run_suite(suite, tmp_path, backends=["highs"], budgets=[5.0], seeds=[0], instances=[ident],
                    data_root=data_dir)
    (run,) = doc["runs"]
    assert run["feasible"] and run["objective"] == pytest.approx(inst.best_known)
    from kakehashi.bench.suite import load_problem

    problem = load_problem(inst, root=data_dir)
    bits = run["sample"]
    if bits["encoding"] == "values":
        values = dict(zip([str(v) for v in problem.variables], bits["data"], strict=True))
    else:
        values = {str(v): float(c) for v, c in zip(problem.variables, bits["data"], strict=True)}
    assert _lp_objective(data_dir / inst.path, values) == pytest.approx(inst.best_known)


def test_routing_suite_instance_is_loaded_and_run(tmp_path: Path, data_dir: Path) -> None:
    suite = load_suite("qoblib-routing")
    doc = run_suite(suite, tmp_path, backends=["highs"], budgets=[1.0], seeds=[0], instances=["XSH-n20-k4-01"],
                    data_root=data_dir)
    (run,) = doc["runs"]
    assert run["status"] in {"FEASIBLE", "TIMEOUT", "OPTIMAL"}
    if run["feasible"]:  # never below the certified optimum
        assert run["objective"] >= 646 - 1e-6
    assert json.dumps(doc)  # the whole document is JSON
