"""Reports escape what they show and carry plots and tables; compare finds real differences."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

from kakehashi.bench.compare import compare
from kakehashi.bench.metrics import summarize
from kakehashi.bench.report import write_report


def _doc(objectives: dict[str, list[float]], sense: str = "max") -> dict[str, Any]:
    runs = [
        {"key": f"i1|{b}|1|{k}", "instance": "i1", "backend": b, "budget": 1.0, "seed": k, "status": "FEASIBLE",
         "objective": v, "feasible": True, "wall_s": 1.0, "trajectory": [[0.5, v]], "instance_specific": False}
        for b, vs in objectives.items() for k, v in enumerate(vs)
    ]
    doc: dict[str, Any] = {
        "format": "kakehashi.bench/1",
        "suite": {"name": "s<1>", "description": "<script>alert('x')</script>", "problem_class": "maxcut",
                  "sense": sense, "protocol": {"budgets": [1.0], "seeds": [0], "stop": "time_limit", "epsilon": 0.0,
                                               "backends": list(objectives)},
                  "tuning": {"policy": "defaults", "training": []},
                  "instances": [{"id": "i1", "best_known": 10.0}]},
        "invocation": {"suite": "s", "backends": list(objectives), "budgets": [1.0], "seeds": [0], "instances": ["i1"]},
        "manifest": {"command": "kakehashi bench run s", "kakehashi_version": "0", "git_commit": None,
                     "lock_sha256": None, "machine": {"cpu_model": "cpu", "cpu_cores": 2, "gpu": "none", "os": "os",
                                                      "python": "3", "host": "h"},
                     "load_average": {"load1_min": 1.0, "load1_mean": 1.0, "load1_max": 1.0},
                     "started": "t0", "finished": "t1", "solver_versions": {}, "instances": {"i1": "abc"},
                     "seeds": [0]},
        "runs": runs,
    }
    doc["metrics"] = summarize(doc)
    return doc


def test_report_is_self_contained_escaped_and_has_plots(tmp_path: Path) -> None:
    doc = _doc({"a": [10, 9, 10], "b": [7, 8, 7]})
    html_path, metrics_csv, runs_csv = write_report(doc, tmp_path)
    page = html_path.read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "s&lt;1&gt;" in page
    assert page.count("<svg") >= 4  # quality, trajectories, TTS, profiles
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    with metrics_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["backend"]: r["success_p"] for r in rows} == {"a": str(2 / 3), "b": "0.0"}
    with runs_csv.open(newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 6


def test_compare_significant_when_clearly_different() -> None:
    a = _doc({"sa": [10, 10, 9, 10, 10, 9, 10, 10]})
    b = _doc({"sa": [7, 6, 7, 8, 7, 6, 7, 7]})
    (row,) = compare(a, b)
    assert row["better"] == "A" and row["significant"] and row["p_value"] < 0.01
    assert row["b_within_a_ci"] is False and row["median_a_ci"][0] <= 10 <= row["median_a_ci"][1]
    (row,) = compare(a, copy.deepcopy(a))
    assert row["better"] == "tie" and not row["significant"] and row["b_within_a_ci"] is True


def test_compare_minimisation_and_missing_cells() -> None:
    a = _doc({"sa": [3, 3, 4, 3, 3]}, sense="min")
    b = _doc({"sa": [5, 6, 5, 5, 6], "tabu": [1, 1]}, sense="min")
    rows = {r["backend"]: r for r in compare(a, b)}
    assert rows["sa"]["better"] == "A" and rows["sa"]["significant"]
    assert rows["tabu"]["better"] == "n/a" and rows["tabu"]["note"] == "only in B"


def test_few_runs_are_never_called_significant() -> None:
    (row,) = compare(_doc({"sa": [10, 10]}), _doc({"sa": [1, 1]}))
    assert row["better"] == "A" and not row["significant"] and "too few" in row["note"]
