"""Suites as data: the shipped TOML files parse, name the right bytes, and carry true optima."""

from __future__ import annotations

from pathlib import Path

import dimod
import pytest

from kakehashi.bench import qs
from kakehashi.bench.qoblib import labs_energy
from kakehashi.bench.suite import builtin_suites, load_problem, load_suite, parse_suite
from kakehashi.datasets.registry import sha256_of
from kakehashi.exceptions import ModelError

MINI = """
[suite]
name = "mini"
sense = "min"
[protocol]
budgets = [0.2]
seeds = [0, 1]
epsilon = 0.0
[tuning]
policy = "defaults"
[tuning.instance_params.labs004.sa]
num_reads = 3
[[instance]]
id = "labs004"
path = "qoblib/02-labs/models/quadratic_unconstrained/qs_files/labs004.qs.xz"
sha256 = "126ed39cb84b9fe02053bbe16e2ff6aef4ced49c3094966559326bfe1939d705"
format = "qs"
source = "QOBLIB"
best_known = 2
"""


def test_builtin_suites_parse_with_gset_split_disjoint() -> None:
    names = builtin_suites()
    assert {"maxcut-gset-train", "maxcut-gset-test", "qoblib-mis", "qoblib-labs"} <= set(names)
    train, test = load_suite("maxcut-gset-train"), load_suite("maxcut-gset-test")
    train_ids = {i.id for i in train.instances}
    assert {f"G{k}" for k in range(1, 22)} <= train_ids and len(train_ids) == 23
    assert not train_ids & {i.id for i in test.instances}
    assert set(test.tuning.training) == train_ids  # the test suite declares what was training
    assert all(i.best_known and i.sha256 and i.best_known_source for s in (train, test) for i in s.instances)


def test_every_suite_instance_file_has_the_declared_hash(data_dir: Path) -> None:
    from kakehashi.bench.appcases import APP_FORMATS, identity

    for name in builtin_suites():
        for inst in load_suite(name).instances:
            if inst.format in APP_FORMATS:
                assert identity(inst.format, inst.path, inst.extra, data_dir)[0] == inst.sha256, (name, inst.id)
            else:
                assert sha256_of(data_dir / inst.path) == inst.sha256, (name, inst.id)


def test_labs_qubo_minimum_is_the_best_known_energy(data_dir: Path) -> None:
    # independent check: exhaustive enumeration of the QUBO read from .qs.xz
    suite = load_suite("qoblib-labs")
    inst = suite.instance("labs004")
    problem = load_problem(inst, root=data_dir)
    assert problem.sense == "min" and problem.num_variables == 10
    best = dimod.ExactSolver().sample(problem.model).first
    assert best.energy == inst.best_known == 2
    bits = [int(best.sample[f"x{k}"]) for k in range(1, 5)]
    assert labs_energy(bits) == 2


def test_labs_energy_of_qoblib_optimal_solution_files(data_dir: Path) -> None:
    suite = load_suite("qoblib-labs")
    for inst in suite.instances:
        sol = data_dir / "qoblib/02-labs/solutions" / f"{inst.id}.opt.sol"
        bits = [int(x) for x in sol.read_text().split() if x in ("0", "1")]
        assert len(bits) == inst.extra["n"] and labs_energy(bits) == inst.best_known


def test_mis_lp_model_reads_with_edge_constraints(data_dir: Path) -> None:
    inst = load_suite("qoblib-mis").instance("karate")
    problem = load_problem(inst, root=data_dir)
    assert problem.sense == "max" and problem.num_variables == 34 and problem.num_constraints == 78


def test_a_changed_file_is_refused(tmp_path: Path, data_dir: Path) -> None:
    suite = parse_suite(MINI.replace("126ed39c", "00000000"))
    with pytest.raises(ModelError, match="sha256"):
        load_problem(suite.instances[0], root=data_dir)


def test_instance_params_are_instance_specific() -> None:
    suite = parse_suite(MINI)
    assert suite.tuning.params_for("labs004", "sa") == ({"num_reads": 3}, True)
    assert suite.tuning.params_for("labs004", "tabu") == ({}, False)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('format = "qs"', 'format = "xls"'), "format"),
        (lambda t: t.replace('id = "labs004"\n', ""), "id"),
        (lambda t: t.replace("budgets = [0.2]", "budgets = [-1]"), "budgets"),
        (lambda t: t.replace('policy = "defaults"', 'policy = "train"'), "training"),
        (lambda t: t + "\n[[instance", "TOML"),
    ],
)
def test_suite_mistakes_are_model_errors(edit: object, message: str) -> None:
    assert callable(edit)
    with pytest.raises(ModelError, match=message):
        parse_suite(edit(MINI))


def test_unknown_suite_lists_the_builtin_ones() -> None:
    with pytest.raises(ModelError, match="maxcut-gset-test"):
        load_suite("no-such-suite")


def test_qs_reader_counts_and_offset() -> None:
    text = "# ObjectiveOffset 5\n3 3\n1 1 -2\n1 2 4\n3 3 1\n"
    problem = qs.parses(text)
    assert problem.model.energy({"x1": 1, "x2": 0, "x3": 0}) == 3
    assert problem.model.energy({"x1": 1, "x2": 1, "x3": 1}) == 8
    with pytest.raises(ModelError, match="header says 4"):
        qs.parses("4 4\n1 1 1\n")
    with pytest.raises(ModelError, match="out of"):
        qs.parses("2 1\n1 3 1\n")
