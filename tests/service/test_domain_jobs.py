"""Domain jobs: an app's input submitted to the service, solved by a worker, answered in domain terms."""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from kakehashi.apps.examples import examples_dir
from kakehashi.client import Client
from kakehashi.exceptions import ModelError
from kakehashi.service.testing import LiveService
from tests.service.support import Harness

pytestmark = pytest.mark.network

CAPACITY, VEHICLES = 60, 5


@pytest.fixture(scope="module")
def depot_csv() -> Path:
    return examples_dir() / "routing" / "depot.csv"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    path = tmp_path_factory.mktemp("domain")
    with LiveService(f"sqlite:///{path / 'kh.db'}", workers=1, log_path=str(path / "log.txt")) as svc:
        yield svc


def _nodes(path: Path) -> tuple[list[tuple[float, float]], list[int]]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [(float(r["x"]), float(r["y"])) for r in rows], [int(r["demand"]) for r in rows]


def _check_routes(answer: dict[str, object], path: Path) -> None:
    """Every customer served once, no load above capacity, cost = the routes' TSPLIB EUC_2D length."""
    coords, demands = _nodes(path)
    routes = answer["routes"]
    assert isinstance(routes, list) and 1 <= len(routes) <= VEHICLES

    def dist(a: int, b: int) -> int:
        return int(math.hypot(coords[a][0] - coords[b][0], coords[a][1] - coords[b][1]) + 0.5)

    served: list[int] = []
    total = 0
    for route in routes:
        nodes = route["nodes"]
        served += nodes
        assert sum(demands[v] for v in nodes) <= CAPACITY
        path_nodes = [0, *nodes, 0]
        total += sum(dist(a, b) for a, b in itertools.pairwise(path_nodes))
    assert sorted(served) == list(range(1, len(coords)))
    assert answer["total_cost"] == total


def test_cvrp_from_csv_through_the_live_service(live: LiveService, depot_csv: Path) -> None:
    token = live.token("routing-a")
    with Client(live.url, token) as client:
        job = client.submit_app(
            "routing",
            depot_csv,
            options={"capacity": CAPACITY, "num_vehicles": VEHICLES},
            time_limit=1.0,
            seed=0,
        )
        assert job.status == "QUEUED" and job.backend == "pyvrp"
        result = client.result(job.id, timeout=60)
        body = client.answer(job.id, timeout=60)
    assert body["app"] == "routing" and body["valid"] is True and body["violations"] == []
    assert body["cost"] == pytest.approx(result.objective)  # the Problem's own evaluation agrees
    _check_routes(body["answer"], depot_csv)

    # another project never sees it; a plain (non-domain) job has no answer
    other = live.token("routing-b")
    r = httpx.get(f"{live.url}/v1/jobs/{job.id}/answer", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_cli_submit_app_and_answer(live: LiveService, depot_csv: Path) -> None:
    from kakehashi.cli.app import app

    env = {"KAKEHASHI_URL": live.url, "KAKEHASHI_TOKEN": live.token("routing-cli")}
    runner = CliRunner()
    args = [
        "submit",
        str(depot_csv),
        "--app",
        "routing",
        "--option",
        f"capacity={CAPACITY}",
        "--option",
        f"num_vehicles={VEHICLES}",
        "--time-limit",
        "1",
        "--json",
    ]
    submitted = runner.invoke(app, args, env=env)
    assert submitted.exit_code == 0, submitted.output
    job_id = json.loads(submitted.output)["id"]
    shown = runner.invoke(app, ["answer", job_id, "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert body["valid"] is True
    _check_routes(body["answer"], depot_csv)
    text = runner.invoke(app, ["answer", job_id], env=env)
    assert text.exit_code == 0 and "valid" in text.output and "route [" in text.output


def test_demand_above_capacity_is_422_naming_the_record_and_rule(harness: Harness, depot_csv: Path) -> None:
    text = depot_csv.read_text().replace("c2,83,6,5", "c2,83,6,80")
    r = harness.client.post(
        "/v1/jobs",
        json={"app": "routing", "input": text, "format": "csv", "options": {"capacity": CAPACITY}},
        headers=harness.h(),
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert "c2" in body["detail"] and "demand <= capacity" in body["detail"]
    assert body["field"] == "demand" and body["line"] == 4
    # the same rule on a JSON instance (the app's RoutingInstance validation)
    coords, demands = _nodes(depot_csv)
    demands[3] = 75
    instance = {"name": "depot", "kind": "cvrp", "coords": coords, "demands": demands, "capacity": CAPACITY}
    r = harness.client.post("/v1/jobs", json={"app": "routing", "input": instance}, headers=harness.h())
    assert r.status_code == 422
    assert "customer 3" in r.json()["detail"] and "demand <= capacity" in r.json()["detail"]
    # total demand above the fleet: infeasible by construction
    r = harness.client.post(
        "/v1/jobs",
        json={
            "app": "routing",
            "input": text.replace(",80", ",5"),
            "format": "csv",
            "options": {"capacity": CAPACITY, "num_vehicles": 1},
        },
        headers=harness.h(),
    )
    assert r.status_code == 422 and "fleet" in r.json()["detail"]
    # a backend the app's service route does not offer, an unknown option
    for extra in ({"backend": "sa"}, {"options": {"capacity": CAPACITY, "speed": 3}}):
        payload = {
            "app": "routing",
            "input": depot_csv.read_text(),
            "format": "csv",
            "options": {"capacity": CAPACITY},
            **extra,
        }
        assert harness.client.post("/v1/jobs", json=payload, headers=harness.h()).status_code == 422


def test_answer_conflicts_and_cross_project(harness: Harness, depot_csv: Path) -> None:
    r = harness.client.post(
        "/v1/jobs",
        files={"file": ("depot.csv", depot_csv.read_bytes())},
        data={"app": "routing", "options": json.dumps({"capacity": CAPACITY}), "time_limit": "1"},
        headers=harness.h(),
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    assert r.json()["num_variables"] == 21 * 20 // 2
    # no worker in this harness: no result yet
    r = harness.client.get(f"/v1/jobs/{job_id}/answer", headers=harness.h())
    assert r.status_code == 409 and r.json()["job_status"] == "QUEUED"
    assert harness.client.get(f"/v1/jobs/{job_id}/answer", headers=harness.h("b")).status_code == 404
    assert harness.client.get("/v1/jobs/job_missing/answer", headers=harness.h()).status_code == 404
    plain = harness.submit()
    r = harness.client.get(f"/v1/jobs/{plain.json()['id']}/answer", headers=harness.h())
    assert r.status_code == 409 and "domain" in r.json()["detail"]


def test_portfolio_and_unit_commitment_inputs_are_built(harness: Harness) -> None:
    root = examples_dir()
    r = harness.client.post(
        "/v1/jobs",
        json={
            "app": "portfolio",
            "input": (root / "portfolio" / "assets.csv").read_text(),
            "format": "csv",
            "options": {"k": 4, "lambda": 0.5},
        },
        headers=harness.h(),
    )
    assert r.status_code == 201 and r.json()["backend"] == "scip"
    r = harness.client.post(
        "/v1/jobs",
        json={
            "app": "portfolio",
            "input": (root / "portfolio" / "assets.csv").read_text(),
            "format": "csv",
            "options": {"k": 9},
        },
        headers=harness.h(),
    )
    assert r.status_code == 422 and r.json()["field"] == "k"
    uc = json.loads((root / "energy" / "regional_day.json").read_text())
    r = harness.client.post("/v1/jobs", json={"app": "unit-commitment", "input": uc}, headers=harness.h())
    assert r.status_code == 201 and r.json()["backend"] == "highs"
    uc["demand"][3] = 1e6
    r = harness.client.post("/v1/jobs", json={"app": "unit-commitment", "input": uc}, headers=harness.h())
    assert r.status_code == 422 and r.json()["field"] == "demand[3]"


def test_client_raises_model_error_for_bad_domain_input(
    live: LiveService, tmp_path: Path, depot_csv: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(depot_csv.read_text().replace("c2,83,6,5", "c2,83,6,80"))
    with (
        Client(live.url, live.token("routing-a")) as client,
        pytest.raises(ModelError, match="demand <= capacity"),
    ):
        client.submit_app("routing", bad, options={"capacity": CAPACITY})


def test_portfolio_answer_through_the_live_service(live: LiveService) -> None:
    from kakehashi.apps.portfolio import read_portfolio

    path = examples_dir() / "portfolio" / "assets.csv"
    with Client(live.url, live.token("portfolio")) as client:
        job = client.submit_app("portfolio", path, options={"k": 4, "lambda": 0.5}, time_limit=3.0, seed=0)
        body = client.answer(job.id, timeout=60)
    assert body["app"] == "portfolio" and body["valid"] is True, body["violations"]
    weights = body["answer"]["weights"]
    assert len(weights) == 4 and sum(weights.values()) == pytest.approx(1.0, abs=1e-6)
    assert all(0.01 - 1e-9 <= w <= 1.0 for w in weights.values())
    # cost recomputed independently from the instance: λ·wᵀΣw − (1−λ)·μᵀw
    inst = read_portfolio(path)
    index = {a: i for i, a in enumerate(inst.assets)}
    w = [weights.get(a, 0.0) for a in inst.assets]
    var = sum(w[i] * inst.covariance[i][j] * w[j] for i in range(inst.n) for j in range(inst.n))
    ret = sum(w[i] * inst.mean[i] for i in range(inst.n))
    assert body["cost"] == pytest.approx(0.5 * var - 0.5 * ret, rel=1e-9, abs=1e-12)
    assert set(weights) <= set(index)


def test_async_client_submits_json_input_and_gets_the_answer(live: LiveService, depot_csv: Path) -> None:
    import asyncio

    from kakehashi.client import AsyncClient

    coords, demands = _nodes(depot_csv)
    instance = {
        "name": "depot-json",
        "kind": "cvrp",
        "coords": coords,
        "demands": demands,
        "capacity": CAPACITY,
        "num_vehicles": VEHICLES,
    }

    async def go() -> dict[str, object]:
        async with AsyncClient(live.url, live.token("routing-async")) as client:
            job = await client.submit_app("routing", instance, time_limit=1.0, seed=0)
            return await client.answer(job.id, timeout=60)

    body = asyncio.run(go())
    assert body["valid"] is True and body["answer"]["instance"] == "depot-json"  # type: ignore[index]
    _check_routes(body["answer"], depot_csv)  # type: ignore[arg-type]


def test_unit_commitment_answer_through_the_live_service(live: LiveService) -> None:
    from kakehashi.apps.energy import read_unit_commitment

    path = examples_dir() / "energy" / "regional_day.json"
    with Client(live.url, live.token("energy")) as client:
        job = client.submit_app("unit-commitment", path, time_limit=10.0)
        assert job.backend == "highs"
        result = client.result(job.id, timeout=60)
        body = client.answer(job.id, timeout=60)
    assert body["valid"] is True and body["unit"] == "yen"
    assert body["cost"] == pytest.approx(result.objective, rel=1e-6)
    inst = read_unit_commitment(path)
    schedule = body["answer"]
    for t, demand in enumerate(inst.demand):  # the balance, checked here from the raw schedule
        supply = sum(schedule["power"][u.name][t] for u in inst.units) + schedule["solar_used"][t]
        if inst.battery is not None:
            supply += schedule["discharge"][t] - schedule["charge"][t]
        assert supply == pytest.approx(demand, rel=1e-4)
