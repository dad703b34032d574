"""The SDK against the app in process: Job parsing, error mapping, sync and async clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kakehashi.client import AsyncClient, Client, Job
from kakehashi.client._common import job_failure, raise_for_problem
from kakehashi.exceptions import AuthError, BackendUnavailable, JobError, ModelError, QuotaError
from kakehashi.result import Result
from kakehashi.service import lease
from kakehashi.service.jobs import JobStatus
from kakehashi.service.lease import Outcome
from tests.service.support import Harness, make_harness, tiny_problem

# the SDK sets per-request timeouts for long polls; starlette's TestClient (our in-process
# transport here) ignores them and says so
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(f"sqlite:///{tmp_path / 'kh.db'}")
    yield harness
    harness.client.close()
    harness.db.dispose()


def _finish_next(h: Harness, objective: float) -> None:
    c = lease.claim(h.db, "w", 30.0)
    assert c is not None
    result = Result.from_dict({"status": "OPTIMAL", "objective": objective, "sample": [[0, 1]]})
    lease.finish(h.db, c, Outcome(JobStatus.SUCCEEDED, result_json=result.to_json(), machine_seconds=1.0))


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (401, "AuthError", AuthError),
        (404, "JobError", JobError),
        (429, None, QuotaError),
        (422, "ModelError", ModelError),
        (409, None, JobError),
        (415, None, ModelError),
    ],
)
def test_problem_responses_map_to_the_error_tree(status: int, kind: str | None, expected: type) -> None:
    body = {"type": "x", "title": "t", "status": status, "detail": "why", **({"kind": kind} if kind else {})}
    response = httpx.Response(status, json=body, request=httpx.Request("GET", "http://x"))
    with pytest.raises(expected, match="why"):
        raise_for_problem(response)


def test_failed_job_raises_the_solvers_error_class() -> None:
    err = job_failure({"job_status": "FAILED", "job_error": "BackendUnavailable: install the extra"})
    assert isinstance(err, BackendUnavailable) and str(err) == "install the extra"
    assert isinstance(job_failure({"job_status": "CANCELLED", "detail": "cancelled"}), JobError)


def test_sync_client_roundtrip(h: Harness, tmp_path: Path) -> None:
    client = Client("http://testserver", h.token_a, http_client=h.client)
    job = client.submit(tiny_problem(1), backend="exact", time_limit=1.0, idempotency_key="k1")
    assert isinstance(job, Job) and job.status == "QUEUED" and not job.done
    again = client.submit(tiny_problem(1), backend="exact", time_limit=1.0, idempotency_key="k1")
    assert again.id == job.id
    with pytest.raises(JobError, match="Idempotency-Key"):  # 422: the key was used for another body
        client.submit(tiny_problem(2), backend="exact", time_limit=1.0, idempotency_key="k1")
    with pytest.raises(JobError, match="no result yet"):
        client.result(job.id, wait=False)
    _finish_next(h, -4.0)
    result = client.result(job.id)
    assert isinstance(result, Result) and result.objective == -4.0
    assert client.status(job.id).done
    lp = tmp_path / "m.lp"
    lp.write_text("Minimize\n obj: x + y\nSubject To\n c: x + y >= 1\nBinary\n x y\nEnd\n")
    uploaded = client.submit(lp, backend="exact")
    assert uploaded.raw["num_constraints"] == 1 and uploaded.raw["problem_name"] == "m"
    assert [j.id for j in client.jobs(limit=10, page_size=1)] == [uploaded.id, job.id]
    assert [j.id for j in client.jobs(status="SUCCEEDED")] == [job.id]
    cancelled = client.cancel(uploaded.id)
    assert cancelled.status == "CANCELLED"
    with pytest.raises(JobError):
        client.result(uploaded.id)
    assert client.usage(period="all")["total_runs"] == 1
    assert client.project()["name"] == "alpha"
    with pytest.raises(JobError):  # B's token cannot see A's job
        Client("http://testserver", h.token_b, http_client=h.client).status(job.id)


def test_result_wait_times_out(h: Harness) -> None:
    client = Client("http://testserver", h.token_a, http_client=h.client)
    job = client.submit(tiny_problem(0), backend="exact")
    with pytest.raises(JobError):
        client.result(job.id, timeout=0.3)


def test_async_client_roundtrip(h: Harness) -> None:
    app = h.client.app

    async def go() -> tuple[str, float | None, list[str]]:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        async with AsyncClient("http://testserver", h.token_a, http_client=http) as client:
            job = await client.submit(tiny_problem(3), backend="exact")
            await asyncio.to_thread(_finish_next, h, -2.5)
            result = await client.result(job.id)
            events = [e["event"] async for e in client.events(job.id)]
            with pytest.raises(AuthError):
                await AsyncClient("http://testserver", "kh_nope", http_client=http).jobs()
            return (await client.status(job.id)).status, result.objective, events

    status, objective, events = asyncio.run(go())
    assert status == "SUCCEEDED" and objective == -2.5
    assert events == ["queued", "running", "succeeded"]


def test_unreachable_service_is_a_job_error() -> None:
    with (
        Client("http://127.0.0.1:9", "kh_x", timeout=2.0) as client,
        pytest.raises(JobError, match="cannot reach"),
    ):
        client.status("job_x")


def test_job_from_dict_parses_times() -> None:
    job = Job.from_dict(
        {"id": "job_1", "status": "FAILED", "created_at": "2026-01-02T03:04:05Z", "error": "e"}
    )
    assert job.done and job.created_at is not None and job.created_at.year == 2026
    assert json.loads(json.dumps(job.raw))["error"] == "e"
