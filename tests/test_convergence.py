"""Convergence charts: the curves are the legs' best-so-far objectives; the CLI draws them."""

from __future__ import annotations

import json
from pathlib import Path

from kakehashi.convergence import curves
from kakehashi.result import LegOutcome, Result, Status
from tests.cli.test_app import run


def test_curves_give_the_objective_of_a_maximisation() -> None:
    result = Result(status=Status.FEASIBLE, problem="p", sense="max", objective=7.0)
    result.legs = [LegOutcome("a", Status.FEASIBLE, 7.0, True, 1.0, trajectory=[[0.1, -3.0], [0.5, -7.0]]),
                   LegOutcome("b", Status.TIMEOUT, None, False, 1.0)]
    assert curves(result, unconstrained=True) == {"a": [(0.1, 3.0), (0.5, 7.0)]}
    assert curves(result, unconstrained=False) == {"a": [(0.1, -3.0), (0.5, -7.0)]}


def test_solve_plot_writes_a_png_and_keeps_stdout_json(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "convergence.png"
    proc = run("solve", str(data_dir / "gset" / "G1.txt"), "-b", "anneal", "-t", "1", "--seed", "2",
               "--plot", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # the chart's message went to stderr
    assert data["trajectory"], "anneal streams incumbents"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert "convergence chart" in proc.stderr


def test_plot_without_incumbents_is_one_clear_line(tmp_path: Path) -> None:
    from kakehashi.examples import path as example

    proc = run("solve", str(example("knapsack50.lp")), "-b", "highs", "--plot", str(tmp_path / "c.png"))
    assert proc.returncode != 0
    assert "OPTIMAL" in proc.stdout  # the answer is printed before the chart is refused
    assert "Traceback" not in proc.stderr and "no leg reported incumbents" in proc.stderr
