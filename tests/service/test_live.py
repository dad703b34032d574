"""End to end through the REAL HTTP server (uvicorn subprocess) and real worker processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import kakehashi
from kakehashi.client import AsyncClient, Client
from kakehashi.exceptions import AuthError, JobError, ModelError
from kakehashi.service.store.models import Job
from kakehashi.service.testing import LiveService
from tests.service.support import brute_force_min, tiny_problem

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    path = tmp_path_factory.mktemp("live")
    with LiveService(f"sqlite:///{path / 'kh.db'}", workers=2, log_path=str(path / "log.txt")) as svc:
        yield svc


def test_client_result_is_the_same_as_direct_solve(live: LiveService) -> None:
    token = live.token("e2e")
    with Client(live.url, token) as client:
        problems = [tiny_problem(s, n=8) for s in range(4)]
        submitted = [client.submit(p, backend="exact", time_limit=2.0, seed=1) for p in problems]
        assert all(j.status == "QUEUED" for j in submitted)
        for p, job in zip(problems, submitted, strict=True):
            remote = client.result(job.id, timeout=60)
            local = kakehashi.solve(p, backend="exact", time_limit=2.0, seed=1)
            assert remote.status == local.status
            assert remote.objective == pytest.approx(local.objective)
            assert remote.objective == pytest.approx(brute_force_min(p))
            assert remote.sample == local.sample
            assert client.status(job.id).status == "SUCCEEDED"
        events = list(client.events(submitted[0].id))
        assert [e["event"] for e in events][:2] == ["queued", "running"] and events[-1][
            "event"
        ] == "succeeded"
        assert {j.id for j in client.jobs(limit=10)} == {j.id for j in submitted}
        usage = client.usage(period="all")
        assert usage["total_runs"] == 4 and usage["total_cost_yen"] > 0
        # errors come back as the error tree
        with pytest.raises(JobError):
            client.status("job_missing")
        with pytest.raises(ModelError):
            client.submit(tiny_problem(0), backend="no-such-backend")
        # an unknown parameter is refused at the door, naming it and the accepted ones
        with pytest.raises(ModelError, match=r"no_such_param.*accepted: mip_abs_gap"):
            client.submit(tiny_problem(0), backend="highs", params={"no_such_param": 1})
    with Client(live.url, "kh_wrong") as bad, pytest.raises(AuthError):
        bad.jobs()
    metrics = httpx.get(live.url + "/metrics").text
    assert 'kakehashi_runs_total{backend="exact",hardware="cpu"}' in metrics
    assert "kakehashi_workers_alive 2.0" in metrics


def test_async_client(live: LiveService) -> None:
    token = live.token("async")

    async def go() -> list[float | None]:
        async with AsyncClient(live.url, token) as client:
            jobs = [await client.submit(tiny_problem(s), backend="exact", time_limit=1.0) for s in range(3)]
            results = await asyncio.gather(*(client.result(j.id, timeout=60) for j in jobs))
            return [r.objective for r in results]

    objectives = asyncio.run(go())
    assert objectives == [pytest.approx(brute_force_min(tiny_problem(s))) for s in range(3)]


def test_cli_commands_against_the_server(live: LiveService, tmp_path: Path) -> None:
    from kakehashi.cli.app import app

    token = live.token("cli")
    lp = tmp_path / "knap.lp"
    lp.write_text("Maximize\n obj: 3 x + 2 y + 4 z\nSubject To\n c1: x + y + z <= 2\nBinary\n x y z\nEnd\n")
    runner = CliRunner()
    env = {"KAKEHASHI_URL": live.url, "KAKEHASHI_TOKEN": token}
    r = runner.invoke(app, ["submit", str(lp), "-b", "exact", "-t", "2", "--json"], env=env)
    assert r.exit_code == 0, r.output
    job_id = json.loads(r.output)["id"]
    r = runner.invoke(app, ["result", job_id, "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["objective"] == pytest.approx(7.0)  # x = z = 1
    r = runner.invoke(app, ["status", job_id], env=env)
    assert "SUCCEEDED" in r.output
    r = runner.invoke(app, ["jobs", "--json"], env=env)
    assert [j["id"] for j in json.loads(r.output)] == [job_id]
    r = runner.invoke(app, ["usage", "--json", "--period", "all"], env=env)
    assert json.loads(r.output)["total_runs"] == 1
    r = runner.invoke(app, ["cancel", job_id], env=env)
    assert isinstance(r.exception, JobError)  # finished jobs cannot be cancelled


@pytest.mark.parametrize("backend_db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_100_concurrent_submissions_one_idempotency_key(
    backend_db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'kh.db'}" if backend_db == "sqlite" else request.getfixturevalue("pg_url")
    with LiveService(url, workers=0) as svc:
        token = svc.token("idem")
        body = {"problem": tiny_problem(5).to_dict(), "backend": "exact", "time_limit": 1.0}
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "same-key"}

        def post(_: int) -> httpx.Response:
            return httpx.post(svc.url + "/v1/jobs", json=body, headers=headers, timeout=60)

        with ThreadPoolExecutor(100) as pool:
            responses = list(pool.map(post, range(100)))
        assert sorted({r.status_code for r in responses}) in ([200, 201], [201])
        assert sum(r.status_code == 201 for r in responses) == 1
        assert len({r.json()["id"] for r in responses}) == 1
        with svc.db.read() as s:
            assert s.scalar(select(func.count()).select_from(Job)) == 1
        different = {**body, "time_limit": 2.0}
        r = httpx.post(svc.url + "/v1/jobs", json=different, headers=headers)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
