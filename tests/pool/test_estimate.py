"""Estimates: eligibility, queue wait from the simulated scheduler, run time and discounted cost."""

from __future__ import annotations

import json
from pathlib import Path

import dimod
import pytest
import typer
from typer.testing import CliRunner

from kakehashi.cli.estimate import estimate as estimate_command
from kakehashi.learn.history import records_from_result
from kakehashi.model.problem import Problem
from kakehashi.pool.config import parse_pool
from kakehashi.pool.estimate import estimate
from kakehashi.pool.scheduler import JobRequest, RunningLeg
from kakehashi.result import LegOutcome, Result, Status

REPO = Path(__file__).resolve().parents[2]

POOL = parse_pool(
    {
        "machines": [
            {"name": "cpu", "kind": "cpu", "slots": 1, "backends": ["sa", "exact"], "price_yen_per_second": 0.01},
            {"name": "qpu", "kind": "qpu-anneal", "slots": 1, "backends": ["dwave-qpu"], "price_yen_per_second": 50.0},
            {"name": "gate", "kind": "qpu-gate", "slots": 1, "backends": ["qaoa"], "price_yen_per_second": 100.0,
             "up": False},
        ],
        "projects": [{"name": "lab", "tier": "research"}],
    }
)


def ring(n: int) -> Problem:
    bqm = dimod.BinaryQuadraticModel({i: 0.0 for i in range(n)}, {(i, (i + 1) % n): 1.0 for i in range(n)}, 0.0, "SPIN")
    return Problem(bqm, name=f"ring{n}")


def test_wait_run_and_cost() -> None:
    running = (RunningLeg("qpu", "busy", 40.0),)
    queue = [JobRequest.of("q1", "other", ["dwave-qpu"], submit_time=-5.0, run_time=30.0)]
    rows = {r.backend: r for r in estimate(ring(30), POOL, project="lab", time_limit=10.0, now=0.0,
                                            queue=queue, running=running)}
    assert rows["sa"].eligible and rows["sa"].queue_wait_s == 0.0 and rows["sa"].run_time_s == 10.0
    assert rows["sa"].cost_yen == pytest.approx(10 * 0.01 * 0.5)
    # the QPU is busy until 40 s, then the older queued job runs 30 s: the probe waits 70 s
    qpu = rows["dwave-qpu"]
    assert qpu.eligible and qpu.queue_wait_s == pytest.approx(70.0)
    assert qpu.list_cost_yen == pytest.approx(500.0) and qpu.cost_yen == pytest.approx(250.0)
    assert not rows["exact"].eligible and "exceed" in rows["exact"].reason  # 30 variables > its limit
    assert not rows["qaoa"].eligible  # 30 variables > its limit
    # small enough for qaoa, but its only machine is down
    small = {r.backend: r for r in estimate(ring(8), POOL, time_limit=10.0, now=0.0)}
    assert small["qaoa"].eligible and small["qaoa"].queue_wait_s is None and "up" in small["qaoa"].reason


def test_learned_run_time_shortens_estimate() -> None:
    p = ring(12)
    recs = []
    for k in range(4):
        q = ring(10 + k)
        legs = [LegOutcome("exact", Status.OPTIMAL, -float(10 + k), True, 0.2)]
        recs += records_from_result(q, Result(status=Status.OPTIMAL, legs=legs), time_limit=10.0)
    rows = {r.backend: r for r in estimate(p, POOL, time_limit=10.0, now=0.0, history=recs)}
    assert rows["exact"].run_time_s == pytest.approx(0.2) and rows["exact"].expected_quality == pytest.approx(1.0)


def test_cli_json_and_local_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer()
    app.command()(estimate_command)
    app.command("noop")(lambda: None)
    problem = tmp_path / "ring.json"
    problem.write_text(ring(8).to_json())
    monkeypatch.delenv("KAKEHASHI_POOL", raising=False)
    monkeypatch.delenv("KAKEHASHI_ROUTER_HISTORY", raising=False)
    res = CliRunner().invoke(
        app, ["estimate", str(problem), "--pool", str(REPO / "examples" / "pool.toml"), "--json", "--project", "acme-corp"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = {r["backend"]: r for r in data["estimates"]}
    assert rows["exact"]["eligible"] and rows["exact"]["cost_yen"] == pytest.approx(10 * 0.01)
    assert rows["dwave-qpu"]["machine"] == "qpu-anneal"
    assert data["pool"].endswith("pool.toml")
    # No pool file: this machine, its available backends, free.
    res = CliRunner().invoke(app, ["estimate", str(problem), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["pool"] == "local" and "pool: local" in res.stderr
    rows = {r["backend"]: r for r in data["estimates"]}
    assert rows["exact"]["eligible"] and rows["exact"]["machine"] == "local"
    assert rows["exact"]["cost_yen"] == 0.0
    assert "dwave-qpu" not in rows or not rows["dwave-qpu"]["eligible"]
