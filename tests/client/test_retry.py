"""The SDK retries outages (503, refused connections) only where a resend is safe, up to a deadline."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from kakehashi.client import AsyncClient, Client
from kakehashi.client._retry import RetryPolicy
from kakehashi.exceptions import JobError, KakehashiError
from tests.service.support import tiny_problem

JOB = {"id": "job_1", "status": "QUEUED", "backend": "exact", "attempt": 0}


def _flaky(failures: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers 503 (Retry-After: 0) to the first ``failures`` requests, then 201 / 200."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= failures:
            body = {
                "type": "x/database-unavailable",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "db",
            }
            return httpx.Response(503, json=body, headers={"Retry-After": "0"})
        if request.url.path == "/v1/estimate":
            return httpx.Response(200, json={"estimates": []})
        return httpx.Response(201 if request.method == "POST" else 200, json=JOB)

    return httpx.MockTransport(handler)


def _policy(lines: list[str], deadline: float = 30.0) -> RetryPolicy:
    return RetryPolicy(
        deadline_seconds=deadline,
        base_seconds=0.01,
        cap_seconds=0.02,
        notify=lines.append,
        rng=random.Random(0),
    )


def test_submit_is_retried_with_one_idempotency_key_and_says_so() -> None:
    seen: list[httpx.Request] = []
    lines: list[str] = []
    http = httpx.Client(base_url="http://svc", transport=_flaky(3, seen))
    with Client("http://svc", "tok", http_client=http, retry=_policy(lines)) as client:
        job = client.submit(tiny_problem(), backend="exact")
    assert job.id == "job_1" and len(seen) == 4
    keys = {r.headers["Idempotency-Key"] for r in seen}
    assert len(keys) == 1 and next(iter(keys))  # the SDK's own key, the same on every resend
    assert len(lines) == 3 and all("HTTP 503" in line and "retrying in" in line for line in lines)


def test_status_get_is_retried_and_an_unkeyed_post_is_not() -> None:
    seen: list[httpx.Request] = []
    lines: list[str] = []
    http = httpx.Client(base_url="http://svc", transport=_flaky(2, seen))
    with Client("http://svc", "tok", http_client=http, retry=_policy(lines)) as client:
        assert client.status("job_1").status == "QUEUED"
        assert len(seen) == 3
        seen.clear()
        with pytest.raises(KakehashiError, match="HTTP 503"):  # POST /v1/estimate has no key: not resent
            client.estimate(tiny_problem())
        assert len(seen) == 1


def test_retries_stop_at_the_deadline() -> None:
    seen: list[httpx.Request] = []
    lines: list[str] = []
    http = httpx.Client(base_url="http://svc", transport=_flaky(10**6, seen))
    client = Client("http://svc", "tok", http_client=http, retry=_policy(lines, deadline=0.3))
    with client, pytest.raises(KakehashiError, match="HTTP 503"):
        client.status("job_1")
    assert 2 <= len(seen) < 10**6 and lines


def test_refused_connection_is_retried_then_reported() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("connection refused", request=request)

    lines: list[str] = []
    http = httpx.Client(base_url="http://svc", transport=httpx.MockTransport(handler))
    client = Client("http://svc", "tok", http_client=http, retry=_policy(lines, deadline=0.2))
    with client, pytest.raises(JobError, match="cannot reach"):
        client.submit(tiny_problem())
    assert calls >= 2 and "ConnectError" in lines[0]


def test_async_client_retries_the_same_way() -> None:
    seen: list[httpx.Request] = []
    lines: list[str] = []

    async def go() -> str:
        http = httpx.AsyncClient(base_url="http://svc", transport=_flaky(2, seen))
        async with AsyncClient("http://svc", "tok", http_client=http, retry=_policy(lines)) as client:
            job = await client.submit(tiny_problem())
            return job.id

    assert asyncio.run(go()) == "job_1"
    assert len(seen) == 3 and len({r.headers["Idempotency-Key"] for r in seen}) == 1 and len(lines) == 2
