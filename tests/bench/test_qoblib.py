"""QOBLIB export of the MIS and LABS suites, validated by QOBLIB's own checker and by ours."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from kakehashi.bench.qoblib import COLUMNS, check_submission, export_qoblib
from kakehashi.bench.runner import run_suite
from kakehashi.bench.suite import load_suite


def _checker(data_dir: Path) -> Path:
    path = data_dir / "qoblib" / "misc" / "check_submission.py"
    if not path.is_file():
        pytest.skip("QOBLIB's misc/check_submission.py not in the data directory")
    return path


@pytest.mark.parametrize(("suite_name", "instances", "qclass"),
                         [("qoblib-mis", ["karate"], "07-independentset"), ("qoblib-labs", ["labs005"], "02-labs")])
def test_export_passes_qoblib_checker_and_own_checks(tmp_path: Path, data_dir: Path, suite_name: str,
                                                     instances: list[str], qclass: str) -> None:
    checker = _checker(data_dir)
    suite = load_suite(suite_name)
    doc = run_suite(suite, tmp_path / "run", backends=["sa"], budgets=[0.2], seeds=[0, 1], instances=instances,
                    data_root=data_dir)
    (sub,) = export_qoblib(doc, tmp_path / "export", root=data_dir)
    assert sub.parent.parent.name == qclass and sub.parent.name == "submissions"
    proc = subprocess.run([sys.executable, str(checker), "--strict-problem-match", str(sub)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Overall: OK" in proc.stdout, proc.stdout + proc.stderr
    assert check_submission(sub, doc["suite"], root=data_dir) == []
    ident = instances[0]
    with (sub / ident / f"{ident}_summary.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    template = (checker.parent / "submission_template.csv").read_text(encoding="utf-8-sig").strip().split(",")
    assert tuple(header) == COLUMNS == tuple(template)


def test_own_checks_catch_a_dependent_set_and_a_broken_series(tmp_path: Path, data_dir: Path) -> None:
    suite = load_suite("qoblib-mis")
    doc = run_suite(suite, tmp_path / "run", backends=["sa"], budgets=[0.2], seeds=[0], instances=["karate"],
                    data_root=data_dir)
    (sub,) = export_qoblib(doc, tmp_path / "export", root=data_dir)
    sol = sub / "karate" / "karate_solution.sol"
    lines = sol.read_text().splitlines()
    # karate: vertices 1 and 2 share an edge ('e 2 1'); choose both
    lines[1], lines[2] = "1", "1"
    sol.write_text("\n".join(lines) + "\n")
    series = sub / "karate" / "karate_objective_time_series.json"
    series.write_text('[[{"Time": 0.1, "Incumbent": 20}, {"Time": 0.2, "Incumbent": 3}]]')
    found = check_submission(sub, doc["suite"], root=data_dir)
    assert any("not independent" in p for p in found)
    assert any("not monotone" in p for p in found)
