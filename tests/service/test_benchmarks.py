"""``/v1/benchmarks``: a real bench result stored, listed, read back, ranked; scoped per project; bad input refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kakehashi.bench.runner import run_suite
from kakehashi.bench.suite import load_suite
from kakehashi.exceptions import ModelError
from kakehashi.service.testing import LiveService
from tests.service.support import Harness, make_harness


@pytest.fixture(scope="module")
def result_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.conftest import _data_dir

    root = _data_dir()
    if root is None or not (root / "qoblib").is_dir():
        pytest.skip("benchmark data not found: set KAKEHASHI_DATA_DIR")
    out = tmp_path_factory.mktemp("bench")
    return run_suite(load_suite("qoblib-labs"), out, backends=["sa"], budgets=[0.2], seeds=[0, 1],
                     instances=["labs004", "labs005"], data_root=root)


def _post(h: Harness, doc: Any, which: str = "a") -> Any:
    return h.client.post("/v1/benchmarks", content=json.dumps(doc), headers={**h.h(which),
                                                                           "content-type": "application/json"})


def test_store_list_get_and_leaderboard(harness: Harness, result_doc: dict[str, Any]) -> None:
    h = harness
    r = _post(h, result_doc)
    assert r.status_code == 201, r.text
    stored = r.json()
    (entry,) = stored["entries"]
    runs = result_doc["runs"]
    best = {i["id"]: i["best_known"] for i in result_doc["suite"]["instances"]}
    hits = sum(1 for x in runs if x["feasible"] and x["objective"] == best[x["instance"]])
    assert entry["backend"] == "sa" and entry["machine_kind"] == "cpu" and entry["runs"] == len(runs) == 4
    assert entry["success_rate"] == pytest.approx(hits / 4) and entry["instances"] == 2
    assert entry["machine_seconds"] == pytest.approx(sum(x["wall_s"] for x in runs))
    got = h.client.get(f"/v1/benchmarks/{stored['id']}", headers=h.h()).json()
    assert got["result"] == result_doc and got["suite"] == "qoblib-labs" and got["via_service"] is False
    # a worse copy (every run infeasible) does not displace the better entry on the board
    worse = copy.deepcopy(result_doc)
    for x in worse["runs"]:
        x.update(feasible=False, objective=None, status="INFEASIBLE")
    worse_id = _post(h, worse).json()["id"]
    board = h.client.get("/v1/benchmarks/leaderboard", params={"suite": "qoblib-labs"}, headers=h.h()).json()
    assert [row["result_id"] for row in board["rows"]] == [stored["id"]]
    listed = h.client.get("/v1/benchmarks", params={"suite": "qoblib-labs"}, headers=h.h()).json()
    assert [b["id"] for b in listed["benchmarks"]] == [worse_id, stored["id"]]
    page = h.client.get("/v1/benchmarks", params={"limit": 1}, headers=h.h()).json()
    assert len(page["benchmarks"]) == 1 and page["next_cursor"]
    nxt = h.client.get("/v1/benchmarks", params={"limit": 1, "cursor": page["next_cursor"]}, headers=h.h()).json()
    assert [b["id"] for b in nxt["benchmarks"]] == [stored["id"]]
    none = h.client.get("/v1/benchmarks", params={"machine_kind": "qpu-anneal"}, headers=h.h()).json()
    assert none["benchmarks"] == []
    assert h.client.get("/v1/benchmarks", params={"suite": "other"}, headers=h.h()).json()["benchmarks"] == []
    # another project sees none of it: 404 on the id, empty list and board
    other = h.client.get(f"/v1/benchmarks/{stored['id']}", headers=h.h("b"))
    assert other.status_code == 404 and other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["detail"] == h.client.get("/v1/benchmarks/bench_nope", headers=h.h("b")).json()[
        "detail"].replace("bench_nope", stored["id"])
    assert h.client.get("/v1/benchmarks", headers=h.h("b")).json()["benchmarks"] == []
    assert h.client.get("/v1/benchmarks/leaderboard", params={"suite": "qoblib-labs"},
                        headers=h.h("b")).json()["rows"] == []
    assert h.client.get("/v1/benchmarks", headers={}).status_code == 401


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d["runs"][0].update(budget="fast"), "runs[0].budget"),
    (lambda d: d["runs"][1].update(instance="labs999"), "runs[1].instance"),
    (lambda d: d["runs"][0].update(status="GREAT"), "runs[0].status"),
    (lambda d: d["runs"][0].update(feasible="yes"), "runs[0].feasible"),
    (lambda d: d["suite"].pop("instances"), "suite.instances"),
    (lambda d: d.pop("manifest"), "manifest"),
    (lambda d: d["runs"][0].update(wall_s=-1), "runs[0].wall_s"),
])
def test_bad_results_are_422_naming_the_field(harness: Harness, result_doc: dict[str, Any], mutate: Any,
                                              field: str) -> None:
    doc = copy.deepcopy(result_doc)
    mutate(doc)
    r = _post(harness, doc)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert field in r.json()["detail"], r.json()
    assert harness.client.get("/v1/benchmarks", headers=harness.h()).json()["benchmarks"] == []


def test_bodies_are_bounded_and_parsed_safely(sqlite_url: str, result_doc: dict[str, Any]) -> None:
    h = make_harness(sqlite_url, max_body_bytes=2048)
    big = _post(h, result_doc)
    assert big.status_code == 413 and big.json()["limit_name"] == "max_body_bytes"
    bad = h.client.post("/v1/benchmarks", content=b"{not json", headers={**h.h(), "content-type": "application/json"})
    assert bad.status_code == 422
    deep = h.client.post("/v1/benchmarks", content=b"[" * 500 + b"]" * 500,
                         headers={**h.h(), "content-type": "application/json"})
    assert deep.status_code == 422 and deep.json()["limit_name"]
    assert "a benchmark result is a JSON object" in _post(h, [1, 2]).json()["detail"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    path = tmp_path_factory.mktemp("live-bench")
    with LiveService(f"sqlite:///{path / 'kh.db'}", workers=1, log_path=str(path / "log.txt")) as svc:
        yield svc


@pytest.mark.network
def test_bench_run_through_the_service_then_publish(live: LiveService, tmp_path: Path,
                                                     result_doc: dict[str, Any]) -> None:
    from kakehashi.cli.app import app
    from kakehashi.client import Client

    token = live.token("bench")
    out = tmp_path / "run"
    cli = CliRunner()
    ran = cli.invoke(app, ["bench", "run", "qoblib-labs", "--instances", "labs004", "--backends", "sa",
                           "--budget", "0.2", "--seeds", "2", "--out", str(out), "--url", live.url, "--token", token])
    assert ran.exit_code == 0, ran.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["invocation"]["service"] == {"url": live.url, "machine_kinds": ["cpu"]}
    with Client(live.url, token) as client:
        jobs = {j.id: j for j in client.jobs(limit=10)}
        assert len(jobs) == 2
        for run in doc["runs"]:
            job = jobs[run["service"]["job_id"]]
            assert job.status == "SUCCEEDED" and job.objective == pytest.approx(run["objective"])
            assert run["service"]["queue_s"] is not None and run["service"]["queue_s"] >= 0
        usage = client.usage(period="all")
        assert usage["total_runs"] == 2  # every run metered as an ordinary job
        published = cli.invoke(app, ["bench", "publish", str(out), "--url", live.url, "--token", token])
        assert published.exit_code == 0, published.output
        (stored,) = client.benchmarks(suite="qoblib-labs")
        assert stored["via_service"] is True and stored["machine_kinds"] == ["cpu"]
        assert client.benchmark(stored["id"])["result"]["runs"] == doc["runs"]
        second = client.publish_benchmark(result_doc)
        board = client.leaderboard("qoblib-labs")
        assert {r["result_id"] for r in board} <= {stored["id"], second["id"]} and len(board) == 1
        bad = cli.invoke(app, ["bench", "publish", str(tmp_path / "missing.json"), "--url", live.url,
                               "--token", token])
        assert isinstance(bad.exception, ModelError) and "result file not found" in str(bad.exception)
