"""``kakehashi bench`` driven as a user drives it: run, resume, report, compare, export, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = [sys.executable, "-m", "kakehashi", "bench"]


def run(*args: str, data_dir: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAKEHASHI_DATA_DIR": str(data_dir)}
    return subprocess.run([*SCRIPT, *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_run_report_compare_export(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "r"
    args = ("run", "qoblib-labs", "--backends", "sa", "--budget", "0.2", "--seeds", "2",
            "--instances", "labs004", "--out", str(out))
    proc = run(*args, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "result.json").read_text())
    assert doc["manifest"]["command"].startswith("kakehashi bench run qoblib-labs")
    assert [r["objective"] for r in doc["runs"]] == [2.0, 2.0]  # labs004's proven optimum
    assert "labs004" in proc.stdout and "2/2" in proc.stderr  # summary table; progress on stderr
    again = run(*args, data_dir=data_dir)
    assert again.returncode == 0 and len((out / "runs.jsonl").read_text().splitlines()) == 2
    rep = run("report", str(out / "result.json"), data_dir=data_dir)
    assert rep.returncode == 0, rep.stderr
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>") and (out / "metrics.csv").is_file()
    cmp_ = run("compare", str(out / "result.json"), str(out / "result.json"), data_dir=data_dir)
    assert cmp_.returncode == 0 and "tie" in cmp_.stdout
    exp = run("export", "--qoblib", str(tmp_path / "q"), str(out), data_dir=data_dir)
    assert exp.returncode == 0, exp.stderr
    (sub,) = (tmp_path / "q" / "02-labs" / "submissions").glob("*")
    assert (sub / "labs004" / "labs004_summary.csv").is_file()
    ok = run("check", str(sub), str(out / "result.json"), data_dir=data_dir)
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stderr
    (sub / "labs004" / "labs004_solution.sol").write_text("# Objective value = 2\n1\n1\n1\n1\n")
    bad = run("check", str(sub), str(out / "result.json"), data_dir=data_dir)
    assert bad.returncode == 2 and "energy 14" in bad.stderr  # 1111: C1=3, C2=2, C3=1 -> 9+4+1
    rerun = run("rerun", str(out / "result.json"), "--out", str(tmp_path / "again"), data_dir=data_dir)
    assert rerun.returncode == 0, rerun.stderr
    again = json.loads((tmp_path / "again" / "result.json").read_text())
    assert again["invocation"] == doc["invocation"] and len(again["runs"]) == 2
    assert "A vs B" in rerun.stdout


def test_user_mistakes_are_one_line_errors(tmp_path: Path, data_dir: Path) -> None:
    proc = run("run", "no-such-suite", data_dir=data_dir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "maxcut-gset-test" in proc.stderr
    proc = run("run", "qoblib-labs", "--budget", "fast", data_dir=data_dir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = run("report", str(tmp_path / "missing.json"), data_dir=data_dir)
    assert proc.returncode == 2 and "result file not found" in proc.stderr
    proc = run("run", "qoblib-labs", "--instances", "labs999", data_dir=data_dir)
    assert proc.returncode == 2 and "labs999" in proc.stderr
