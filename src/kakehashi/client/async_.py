"""``AsyncClient``: the asyncio SDK for the kakehashi service (httpx); mirrors ``Client``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from kakehashi.client._common import (
    Job,
    benchmark_document,
    connection_error,
    domain_request,
    job_failure,
    new_idempotency_key,
    raise_for_problem,
    submit_request,
)
from kakehashi.client._retry import RetryPolicy
from kakehashi.client.sync import LONG_POLL_SECONDS
from kakehashi.exceptions import JobError
from kakehashi.model.problem import Problem
from kakehashi.result import Result


class AsyncClient:
    """Talk to a kakehashi service from asyncio code (same methods as :class:`Client`, awaited).

    Args:
        url: the service, e.g. ``http://127.0.0.1:8000``.
        token: an API token of your project (``kakehashi admin token create PROJECT``).
        timeout: seconds per HTTP request (long polls add their wait to it).
        retry: when and how long to retry through outages (default :class:`RetryPolicy`: idempotent
            calls and submits, which carry an Idempotency-Key, for up to 120 s, announced on stderr).
        http_client: an ``httpx.AsyncClient`` to use instead of creating one (tests, proxies).

    Example::

        async with AsyncClient("http://127.0.0.1:8000", token) as client:
            job = await client.submit(problem, backend="auto", time_limit=5)
            result = await client.result(job.id)
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http = http_client or httpx.AsyncClient(base_url=self.url, timeout=timeout)
        self._headers = {"Authorization": f"Bearer {token}"}
        self.retry = retry or RetryPolicy()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying it through outages as :attr:`retry` allows."""
        headers = {**self._headers, **kwargs.pop("headers", {})}
        policy = self.retry
        start = time.monotonic()
        retry = 0
        while True:
            response: httpx.Response | None = None
            error: httpx.TransportError | None = None
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                error = exc
            wait = policy.next_wait(self.url, retry, time.monotonic() - start, method, path, headers,
                                    response, error)
            if wait is None:
                if error is not None:
                    raise connection_error(self.url, error) from error
                assert response is not None
                return response
            await asyncio.sleep(wait)
            retry += 1

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._request(method, path, **kwargs)
        raise_for_problem(response)
        return response.json()

    # -------------------------------------------------------------------- jobs
    async def submit(
        self,
        problem: Problem | str | Path,
        *,
        backend: str | list[str] = "auto",
        time_limit: float = 10.0,
        seed: int | None = None,
        priority: int = 0,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        alternatives: list[str] | None = None,
        deadline: datetime | None = None,
        cost_cap_yen: float | None = None,
    ) -> Job:
        """Submit a Problem (or upload an LP/MPS/JSON file by path); returns the queued Job.

        With ``idempotency_key``, retrying the same submission returns the same job; without one
        the client makes a fresh key, so its own retries through an outage create one job.
        ``alternatives``: backends allowed when the asked ones' machines are down; ``deadline``
        and ``cost_cap_yen``: rejected at once (ModelError) when the pool cannot meet them. A
        quota the job would exceed raises QuotaError (its ``limit`` and ``remaining`` in the message).
        """
        kwargs = submit_request(
            problem,
            backend=backend,
            time_limit=time_limit,
            seed=seed,
            priority=priority,
            params=params,
            idempotency_key=idempotency_key or new_idempotency_key(),
            alternatives=alternatives,
            deadline=deadline,
            cost_cap_yen=cost_cap_yen,
        )
        return Job.from_dict(await self._json("POST", "/v1/jobs", **kwargs))

    async def status(self, job_id: str) -> Job:
        """The job's current state."""
        return Job.from_dict(await self._json("GET", f"/v1/jobs/{job_id}"))

    get = status

    async def result(self, job_id: str, *, wait: bool = True, timeout: float | None = None) -> Result:
        """The job's Result (the same type :func:`kakehashi.solve` returns).

        With ``wait`` (default) block until the job finishes or ``timeout`` seconds pass
        (JobError). A job that failed raises the solver's error (e.g. BackendUnavailable) or
        JobError; a cancelled job raises JobError.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = LONG_POLL_SECONDS if deadline is None else max(0.0, deadline - time.monotonic())
            poll = min(LONG_POLL_SECONDS, remaining) if wait else 0.0
            response = await self._request(
                "GET", f"/v1/jobs/{job_id}/result", params={"wait": poll}, timeout=self.timeout + poll
            )
            if response.status_code == 200:
                return Result.from_dict(response.json())
            body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
            if response.status_code == 409 and isinstance(body, dict):
                if body.get("job_status") in ("FAILED", "CANCELLED"):
                    raise job_failure(body)
                if not wait or (deadline is not None and time.monotonic() >= deadline):
                    raise JobError(f"job {job_id} is {body.get('job_status')}; no result yet")
                if not poll:
                    await asyncio.sleep(0.2)
                continue
            raise_for_problem(response)

    async def submit_app(
        self,
        app: str,
        data: dict[str, Any] | str | Path,
        *,
        options: dict[str, Any] | None = None,
        format: str | None = None,
        name: str | None = None,
        backend: str | list[str] = "auto",
        time_limit: float = 10.0,
        seed: int | None = None,
        priority: int = 0,
        idempotency_key: str | None = None,
    ) -> Job:
        """Submit an app's domain input (``app``: routing, portfolio or unit-commitment).

        ``data`` is the input as a JSON object or a file path (TSPLIB/CVRPLIB/CSV, OR-Library/CSV,
        UC JSON); ``options`` the app's options (e.g. ``{"capacity": 60}``, ``{"k": 4, "lambda": 0.5}``).
        The service validates the input with the app's own rules (ModelError naming the record).
        Fetch the domain answer with :meth:`answer`.
        """
        kwargs = domain_request(
            app,
            data,
            options=options,
            format=format,
            name=name,
            backend=backend,
            time_limit=time_limit,
            seed=seed,
            priority=priority,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        return Job.from_dict(await self._json("POST", "/v1/jobs", **kwargs))

    async def answer(self, job_id: str, *, wait: bool = True, timeout: float | None = None) -> dict[str, Any]:
        """The domain answer of a job submitted with :meth:`submit_app`: ``app``, ``cost``, ``unit``,
        ``valid``, ``violations`` (the app's own validation) and ``answer`` (routes / weights /
        schedule). Waits for the job like :meth:`result`."""
        await self.result(job_id, wait=wait, timeout=timeout)
        body = await self._json("GET", f"/v1/jobs/{job_id}/answer")
        return dict(body)

    async def cancel(self, job_id: str) -> Job:
        """Cancel a job (a running one stops within seconds)."""
        return Job.from_dict(await self._json("POST", f"/v1/jobs/{job_id}/cancel"))

    async def jobs(
        self,
        *,
        status: str | list[str] | None = None,
        backend: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        limit: int = 50,
        page_size: int = 100,
    ) -> list[Job]:
        """Up to ``limit`` of the project's jobs, newest first (follows the cursor)."""
        params: dict[str, Any] = {}
        if status:
            params["status"] = [status] if isinstance(status, str) else list(status)
        if backend:
            params["backend"] = backend
        if created_after:
            params["created_after"] = created_after.isoformat()
        if created_before:
            params["created_before"] = created_before.isoformat()
        out: list[Job] = []
        cursor: str | None = None
        while len(out) < limit:
            page = await self._json(
                "GET",
                "/v1/jobs",
                params={
                    **params,
                    "limit": min(page_size, limit - len(out)),
                    **({"cursor": cursor} if cursor else {}),
                },
            )
            out.extend(Job.from_dict(j) for j in page["jobs"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return out

    async def events(self, job_id: str, *, timeout: float = 600.0) -> AsyncIterator[dict[str, Any]]:
        """The job's events (server-sent), each ``{"id", "event", "data"}``, until it finishes."""
        try:
            async with self._http.stream(
                "GET",
                f"/v1/jobs/{job_id}/events",
                headers=self._headers,
                params={"timeout": timeout},
                timeout=timeout + self.timeout,
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise_for_problem(response)
                event: dict[str, Any] = {}
                async for line in response.aiter_lines():
                    if not line:
                        if "data" in event:
                            yield event
                        event = {}
                    elif line.startswith("id: "):
                        event["id"] = int(line[4:])
                    elif line.startswith("event: "):
                        event["event"] = line[7:]
                    elif line.startswith("data: "):
                        event["data"] = json.loads(line[6:])
        except httpx.TransportError as exc:
            raise connection_error(self.url, exc) from exc

    async def usage(
        self, *, start: datetime | None = None, end: datetime | None = None, period: str = "day"
    ) -> dict[str, Any]:
        """Use and cost (yen) of the project by period and backend."""
        params: dict[str, Any] = {"period": period}
        if start:
            params["start"] = start.isoformat()
        if end:
            params["end"] = end.isoformat()
        return dict(await self._json("GET", "/v1/usage", params=params))

    async def pool(self) -> dict[str, Any]:
        """The machine pool now: each machine's state, busy and free slots, queued jobs; your queued
        jobs and why they wait."""
        return dict(await self._json("GET", "/v1/pool"))

    async def estimate(self, problem: Problem, *, time_limit: float = 10.0) -> list[dict[str, Any]]:
        """Expected queue wait and run time (s) and cost (yen) of ``problem`` per backend of the pool."""
        body = {"problem": problem.to_dict(), "time_limit": time_limit}
        return list((await self._json("POST", "/v1/estimate", json=body))["estimates"])

    # -------------------------------------------------------------- benchmarks
    async def publish_benchmark(self, result: dict[str, Any] | str | Path) -> dict[str, Any]:
        """Store a ``kakehashi bench run`` result (a document, or the path of a result.json or its
        folder) in this project; returns the stored summary with its ``id`` and leaderboard entries."""
        doc = benchmark_document(result)
        return dict(await self._json("POST", "/v1/benchmarks", json=doc))

    async def benchmarks(self, *, suite: str | None = None, machine_kind: str | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
        """The project's stored benchmark results, newest first (summaries, without the documents)."""
        params: dict[str, Any] = {"limit": limit}
        if suite:
            params["suite"] = suite
        if machine_kind:
            params["machine_kind"] = machine_kind
        return list((await self._json("GET", "/v1/benchmarks", params=params))["benchmarks"])

    async def benchmark(self, result_id: str) -> dict[str, Any]:
        """One stored result: its summary, entries and ``result`` (the document as submitted)."""
        return dict(await self._json("GET", f"/v1/benchmarks/{result_id}"))

    async def leaderboard(self, suite: str, *, machine_kind: str | None = None) -> list[dict[str, Any]]:
        """Per (backend, machine kind) the project's best stored entry for ``suite``, best first."""
        params = {"suite": suite, **({"machine_kind": machine_kind} if machine_kind else {})}
        return list((await self._json("GET", "/v1/benchmarks/leaderboard", params=params))["rows"])

    async def project(self) -> dict[str, str]:
        """The project this client's token belongs to."""
        return dict(await self._json("GET", "/v1/project"))
