"""The runner: real solves through kakehashi.solve(), resumable JSON lines, manifest, markings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dimod

import kakehashi
from kakehashi.bench.runner import RUNS_FILE, read_runs, run_suite, trajectory
from kakehashi.bench.suite import load_suite, parse_suite
from kakehashi.model.problem import Problem
from kakehashi.result import Result, Status, Timings

from .test_suite import MINI


def _counting() -> tuple[list[int], Any]:
    calls: list[int] = []

    def solve(*args: Any, **kwargs: Any) -> Result:
        calls.append(1)
        return kakehashi.solve(*args, **kwargs)

    return calls, solve


def test_run_resume_and_manifest(tmp_path: Path, data_dir: Path) -> None:
    suite = load_suite("qoblib-labs")
    calls, solve = _counting()
    doc = run_suite(suite, tmp_path, backends=["sa"], budgets=[0.2], seeds=[0, 1], instances=["labs004"],
                    command=["kakehashi", "bench", "run", "qoblib-labs"], solve=solve, data_root=data_dir)
    assert len(calls) == 2 and len(doc["runs"]) == 2
    for r in doc["runs"]:
        # labs004's optimum is 2 (exhaustively checked in test_suite); sa reaches it in 0.2 s
        assert r["feasible"] and r["objective"] == 2 and r["status"] == "FEASIBLE"
        assert r["trajectory"][-1][1] == r["objective"]
        assert r["sample"]["encoding"] == "binary-bits" and len(r["sample"]["data"]) == 10
        assert r["instance_specific"] is False
    man = doc["manifest"]
    assert man["instances"] == {"labs004": suite.instance("labs004").sha256}
    assert man["seeds"] == [0, 1] and man["command"] == "kakehashi bench run qoblib-labs"
    assert man["machine"]["cpu_cores"] and man["machine"]["gpu"] is not None
    assert "numpy" in man["solver_versions"] and man["load_average"]["samples"]
    assert man["kakehashi_version"] == kakehashi.__version__
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["metrics"]["groups"][0]["success_p"] == 1.0
    # a rerun into the same directory makes no new run; a wider one makes only the new cells
    run_suite(suite, tmp_path, backends=["sa"], budgets=[0.2], seeds=[0, 1], instances=["labs004"],
              solve=solve, data_root=data_dir)
    assert len(calls) == 2
    run_suite(suite, tmp_path, backends=["sa"], budgets=[0.2], seeds=[0, 1, 2], instances=["labs004"],
              solve=solve, data_root=data_dir)
    assert len(calls) == 3 and len(read_runs(tmp_path)) == 3


def test_torn_last_line_is_ignored_and_redone(tmp_path: Path, data_dir: Path) -> None:
    suite = load_suite("qoblib-labs")
    run_suite(suite, tmp_path, backends=["sa"], budgets=[0.2], seeds=[0], instances=["labs004"], data_root=data_dir)
    with (tmp_path / RUNS_FILE).open("a") as fh:
        fh.write('{"key": "labs004|sa|0.2|1", "instan')  # killed mid-write
    doc = run_suite(suite, tmp_path, backends=["sa"], budgets=[0.2], seeds=[0, 1], instances=["labs004"],
                    data_root=data_dir)
    assert sorted(r["seed"] for r in doc["runs"]) == [0, 1]


def test_instance_specific_settings_are_marked(tmp_path: Path, data_dir: Path) -> None:
    suite = parse_suite(MINI.replace("num_reads = 3", "num_reads = 2"))
    doc = run_suite(suite, tmp_path, backends=["sa", "tabu"], seeds=[0], data_root=data_dir)
    marks = {r["backend"]: r["instance_specific"] for r in doc["runs"]}
    assert marks == {"sa": True, "tabu": False}
    assert doc["instance_specific_runs"] == 1
    assert {g["backend"]: g["instance_specific"] for g in doc["metrics"]["groups"]} == marks


def _bqm_problem(sense: str, constrained: bool = False) -> Problem:
    bqm = dimod.BinaryQuadraticModel({"a": 1.0, "b": -2.0}, {("a", "b"): 1.0}, 0.0, dimod.BINARY)
    if not constrained:
        return Problem(bqm, sense=sense)  # type: ignore[arg-type]
    cqm = dimod.ConstrainedQuadraticModel.from_bqm(bqm)
    cqm.add_constraint_from_iterable([("a", 1.0), ("b", 1.0)], "<=", 1.0)
    return Problem(cqm, sense=sense)  # type: ignore[arg-type]


def test_trajectory_converts_target_energies_and_is_monotone() -> None:
    result = Result(status=Status.FEASIBLE, sense="min", objective=3.0, feasible=True, timings=Timings(total=1.0))
    vars(result)["trajectory"] = [[0.1, 9.0], [0.3, 5.0], [0.2, 7.0], [0.5, 6.0]]
    series, source = trajectory(result, _bqm_problem("min"))
    assert source == "result.trajectory"
    assert series == [[0.1, 9.0], [0.2, 7.0], [0.3, 5.0], [1.0, 3.0]]
    # maximisation: the target is minus the objective
    result = Result(status=Status.FEASIBLE, sense="max", objective=9.0, feasible=True, timings=Timings(total=1.0))
    vars(result)["trajectory"] = [[0.1, -4.0], [0.4, -8.0]]
    assert trajectory(result, _bqm_problem("max")) == ([[0.1, 4.0], [0.4, 8.0], [1.0, 9.0]], "result.trajectory")
    # constrained: penalised energies are not objective values
    series, source = trajectory(result, _bqm_problem("max", constrained=True))
    assert series == [[1.0, 9.0]] and source.startswith("final-only (constrained")
    # a series better than the answer is distrusted
    vars(result)["trajectory"] = [[0.1, -40.0]]
    assert trajectory(result, _bqm_problem("max"))[1].startswith("final-only (trajectory better")
    vars(result).pop("trajectory", None)  # as on a Result without the field
    assert trajectory(result, _bqm_problem("max")) == ([[1.0, 9.0]], "final-only")


def test_routing_answers_are_validated_as_tours(tmp_path: Path, data_dir: Path) -> None:
    from kakehashi.apps.routing.formulation import edge_label

    suite = load_suite("tsplib-small")
    n = 14  # burma14

    def two_subtours(problem: Problem, backend: str, **kwargs: Any) -> Result:
        cycles = [list(range(7)), list(range(7, n))]  # satisfies every degree constraint
        chosen = {tuple(sorted((c[k], c[(k + 1) % len(c)]))) for c in cycles for k in range(len(c))}
        sample = {v: float(tuple(sorted(v[1:])) in chosen) for v in problem.variables}  # type: ignore[index]
        ev = problem.evaluate(sample)
        return Result(status=Status.OPTIMAL, sense="min", sample=sample, objective=ev.objective,
                      feasible=ev.feasible, timings=Timings(total=0.01))

    assert edge_label(0, 1) in load_problem_vars(suite, data_dir)
    doc = run_suite(suite, tmp_path / "fake", backends=["fake"], budgets=[0.2], seeds=[0], instances=["burma14"],
                    solve=two_subtours, data_root=data_dir)
    (run,) = doc["runs"]
    assert run["solver_status"] == "OPTIMAL" and run["status"] == "INFEASIBLE" and not run["feasible"]
    assert not run["domain_check"]["ok"] and run["domain_check"]["violations"]
    doc = run_suite(suite, tmp_path / "real", backends=["ortools-routing"], budgets=[2.0], seeds=[0],
                    instances=["burma14"], data_root=data_dir)
    (run,) = doc["runs"]
    summary = {k: run.get(k) for k in ("status", "solver_status", "domain_check", "objective", "error", "wall_s")}
    assert run["domain_check"]["ok"] and run["feasible"], summary
    assert run["objective"] >= 3323, summary  # the published optimum


def load_problem_vars(suite: Any, data_dir: Path) -> list[Any]:
    from kakehashi.bench.suite import load_problem

    return load_problem(suite.instance("burma14"), root=data_dir).variables
