"""The real ``kakehashi`` command, driven as a user drives it (subprocess, exit codes, JSON)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kakehashi.examples import path as example

SCRIPT = [sys.executable, "-m", "kakehashi"]


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCRIPT, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def test_solve_json_has_the_documented_fields() -> None:
    proc = run("solve", str(example("knapsack50.lp")), "--backend", "highs", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"status", "objective", "sample", "backend", "timings"} <= set(data)
    assert data["status"] == "OPTIMAL" and data["backend"] == "highs"
    assert data["objective"] == 804  # = the DP optimum of the bundled knapsack
    assert set(data["timings"]) >= {"compile", "solve", "total"}


@pytest.mark.slow
def test_gset_g1_with_sa_reaches_the_issue_target(data_dir: Path) -> None:
    proc = run("solve", str(data_dir / "gset" / "G1.txt"), "--backend", "sa", "--time-limit", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["objective"] >= 11550
    assert data["known_optimum"] == 11624
    assert data["gap"] == pytest.approx((11624 - data["objective"]) / 11624)


def test_malformed_lp_exits_2_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.lp"
    bad.write_text("Minimize\n obj: x + y\nSubject To\n c1: x + y 3\nEnd\n")
    proc = run("solve", str(bad))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}:4" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    proc = run("solve", str(tmp_path / "nope.lp"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "nope.lp" in proc.stderr


def test_unknown_backend_exit_code() -> None:
    proc = run("solve", str(example("knapsack50.lp")), "--backend", "nope")
    assert proc.returncode == 4 and "registered:" in proc.stderr


def test_backends_lists_availability_with_reasons() -> None:
    proc = run("backends", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    for name in ("highs", "scip", "sa", "tabu", "steepest", "exact"):
        assert rows[name]["available"] is True
    assert rows["highs"]["proves_optimality"] is True
    for row in rows.values():
        assert row["available"] or row["reason"]


def test_inspect_reports_targets_and_backends() -> None:
    proc = run("inspect", str(example("production.mps")), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["features"]["vartypes"] == {"INTEGER": 3, "REAL": 1}
    assert info["targets"]["milp"]["ok"] and not info["targets"]["bqm"]["ok"]
    assert info["backends"]["highs"]["ok"] and not info["backends"]["sa"]["ok"]


def test_race_from_the_command_line() -> None:
    proc = run(
        "solve", str(example("maxcut40.txt")), "-b", "sa", "-b", "tabu", "-t", "1", "--seed", "3", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {leg["backend"] for leg in data["legs"]} == {"sa", "tabu"}


def test_demo_prints_a_results_table() -> None:
    proc = run("demo", "--time-limit", "1")
    assert proc.returncode == 0, proc.stderr
    assert "kakehashi results" in proc.stdout
    assert proc.stdout.count("OPTIMAL") >= 2
