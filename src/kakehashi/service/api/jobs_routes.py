"""``/v1/jobs`` and ``/v1/usage``: submit, status, result, domain answer, cancel, list, events, usage."""

import asyncio
import base64
import binascii
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import WithJsonSchema

from kakehashi.exceptions import ModelError
from kakehashi.service import jobs, metering, pool_state, quotas, scheduling
from kakehashi.service.api import numbers, submission
from kakehashi.service.api.body import PARSED_JSON
from kakehashi.service.api.deps import ProjectDep, State, StateDep
from kakehashi.service.api.schemas import (
    DomainAnswer,
    DomainSubmitRequest,
    IsoDateTime,
    JobOut,
    JobPage,
    SubmitRequest,
    UsageOut,
)
from kakehashi.service.config import ServiceConfig
from kakehashi.service.jobs import TERMINAL, JobStatus
from kakehashi.service.problems import HttpProblem
from kakehashi.service.store.models import Job, Project

#: Long-poll intervals (seconds): fast when a job is likely to finish soon, slow otherwise.
FAST_POLL_SECONDS = 0.005
SLOW_POLL_SECONDS = 0.05
EVENT_POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0

_SUBMIT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    SubmitRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
                    DomainSubmitRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
                ]
            }
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "format": {
                        "type": "string",
                        "enum": ["lp", "mps", "json", "qubo", "ising", "gset", "tsp", "vrp", "csv", "orlib"],
                    },
                    "app": {
                        "type": "string",
                        "enum": ["routing", "portfolio", "unit-commitment"],
                        "description": "The file is this app's domain input (see DomainSubmitRequest).",
                    },
                    "options": {"type": "string", "description": "The app's options as a JSON object."},
                    "backend": {"type": "string"},
                    "time_limit": {"type": "number"},
                    "seed": {"type": "integer"},
                    "priority": {"type": "integer"},
                    "name": {"type": "string"},
                },
            }
        },
        "text/plain": {"schema": {"type": "string"}},
    },
}


#: Event ids are int64: ASCII digits up to 9,199,999,999,999,999,999 (a regex the schema can state).
LAST_EVENT_ID_PATTERN = r"^(?:[0-9]{1,18}|[1-8][0-9]{18}|9[01][0-9]{17})$"


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` response (so the OpenAPI document says so, not JSON)."""

    media_type = "text/event-stream"


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("s"):
            raise ValueError(raw)
        return numbers.int64(raw[1:], "cursor")
    except (ValueError, binascii.Error, UnicodeDecodeError, ModelError) as exc:
        raise ModelError("invalid cursor; pass next_cursor from the previous page", field="cursor") from exc


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 past ``limit`` bytes (:class:`~kakehashi.service.api.body.BoundedBody`
    already refused larger bodies, with or without a Content-Length; this is the route's own guard)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpProblem(
                413,
                "body-too-large",
                f"request body exceeds the limit of {limit} bytes",
                kind="ModelError",
                limit=limit,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _utf8(data: bytes, field: str) -> str:
    """An uploaded file as text: UTF-8 or 422 naming the first bad byte (never silently replaced)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(f"invalid UTF-8 at byte {exc.start}; upload files as UTF-8 text", field=field) from exc


def _poll_interval(status: str, started_at: float | None, time_limit: float) -> float:
    """How long a result long-poll sleeps: fast right after a job starts (trivial jobs) and near
    its time limit (solvers that use their budget), slow in between; a queued job in between."""
    if status == JobStatus.RUNNING and started_at is not None:
        elapsed = time.time() - started_at
        if elapsed < 0.5 or elapsed > 0.8 * time_limit:
            return FAST_POLL_SECONDS
        return SLOW_POLL_SECONDS
    return 4 * FAST_POLL_SECONDS


def _ts(dt: datetime | None, field: str) -> float | None:
    """UNIX seconds of a query datetime (naive means UTC); 422 for out-of-range dates."""
    if dt is None:
        return None
    try:
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    except (OverflowError, ValueError, OSError) as exc:
        raise ModelError(f"date out of range: {dt}", field=field) from exc


def admit_and_submit(
    state: State,
    project: Project,
    spec: jobs.JobSpec,
    idempotency_key: str | None,
    token_id: str | None = None,
) -> tuple[Job, bool]:
    """Check the job against the pool (422 when it can never run) and submit it with the atomic
    quota check (402/429) inside the inserting transaction."""
    now = time.time()
    with state.db.read() as s:
        proj = s.get(Project, project.id)
        config, down = pool_state.live_config(s, state.pool, proj, now)
    scheduling.check_submission(
        config,
        project.name,
        spec.backend,
        spec.alternatives,
        spec.time_limit,
        deadline=spec.deadline,
        cost_cap_yen=spec.cost_cap_yen,
        down=down,
        now=now,
        local_only=bool(proj is not None and proj.data_stays),
    )
    return jobs.submit(
        state.db,
        project.id,
        spec,
        idempotency_key=idempotency_key,
        max_attempts=state.config.max_attempts,
        admit=quotas.admit(config),
        token_id=token_id,
    )


def _app_record(state: State, project_id: str, job_id: str) -> dict[str, Any] | None:
    """The ``metadata["app"]`` record of the job's Problem (404 for another project's job)."""
    import json

    from kakehashi.service import domain

    job = jobs.get(state.db, project_id, job_id)
    try:
        metadata = json.loads(job.problem_json).get("metadata") or {}
    except (ValueError, AttributeError):
        return None
    return domain.app_of(metadata) if isinstance(metadata, dict) else None


def build_router(config: ServiceConfig) -> APIRouter:
    """The job routes; ``config`` sets the documented page-size limit."""
    router = APIRouter(prefix="/v1", tags=["jobs"])
    default_limit = min(50, config.max_page_size)

    @router.post(
        "/jobs",
        status_code=201,
        response_model=JobOut,
        summary="Submit a job",
        openapi_extra={"requestBody": _SUBMIT_BODY},
        responses={
            200: {"model": JobOut, "description": "Replay of an earlier submission (same Idempotency-Key)."}
        },
    )
    async def submit_job(
        request: Request,
        state: StateDep,
        project: ProjectDep,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
        ] = None,
        format: Annotated[
            str | None, Query(description="File format of a text/plain body.", max_length=16)
        ] = None,
        backend: Annotated[
            str | None, Query(description="Backend for a text/plain body.", max_length=500)
        ] = None,
        time_limit: Annotated[float | None, Query(description="Seconds, for a text/plain body.")] = None,
        seed: Annotated[int | None, Query(description="Seed, for a text/plain body.")] = None,
        priority: Annotated[int | None, Query(description="Priority, for a text/plain body.")] = None,
    ) -> JSONResponse:
        """Submit a problem. The job is committed to the database before this answers 201.

        Send the same ``Idempotency-Key`` to retry safely: the same body returns the same job
        (200), a different body is 422.
        """
        config = state.config
        mtype, mparams = submission.media_type(request.headers.get("content-type"))
        submission.check_media_type(mtype)
        body = await _read_body(request, config.max_body_bytes)
        if mtype == "application/json":
            parsed = request.scope.get(PARSED_JSON, submission._UNPARSED)
            spec = await run_in_threadpool(submission.from_json, config, body, parsed)
        elif mtype == "multipart/form-data":
            request._body = body  # let Starlette parse the bytes already read
            async with request.form(max_files=1, max_fields=20) as form:
                upload = form.get("file")
                if upload is None or isinstance(upload, str):
                    raise ModelError("multipart body lacks a 'file' part", field="file")
                text = _utf8(await upload.read(), "file")
                fields = {k: v for k, v in form.items() if isinstance(v, str)}
            name = fields.get("name") or (upload.filename or "upload").split(".")[0]
            if fields.get("app"):
                fields["filename"] = upload.filename or ""
                spec = await run_in_threadpool(submission.from_domain_upload, config, text, fields, name)
            else:
                spec = await run_in_threadpool(
                    submission.from_text, config, text, fields.get("format"), fields, name
                )
        else:
            fmt = (
                format
                or mparams.get("format")
                or {
                    "application/x-mps": "mps",
                    "text/x-mps": "mps",
                    "application/x-lp": "lp",
                    "text/x-lp": "lp",
                }.get(mtype)
            )
            options = {"backend": backend, "time_limit": time_limit, "seed": seed, "priority": priority}
            text = _utf8(body, "body")
            spec = await run_in_threadpool(submission.from_text, config, text, fmt, options, None)
        job, created = await run_in_threadpool(
            lambda: admit_and_submit(state, project, spec, idempotency_key, getattr(request.state, "token_id", None))
        )
        return JSONResponse(
            JobOut.of(job).model_dump(mode="json"),
            status_code=201 if created else 200,
            headers={"Location": f"/v1/jobs/{job.id}"},
        )

    @router.get("/jobs", response_model=JobPage, summary="List jobs")
    async def list_jobs(
        state: StateDep,
        project: ProjectDep,
        status: Annotated[list[JobStatus] | None, Query(description="Filter by state (repeatable).")] = None,
        backend: Annotated[str | None, Query(max_length=500)] = None,
        created_after: Annotated[IsoDateTime | None, Query(description="ISO 8601, inclusive.")] = None,
        created_before: Annotated[IsoDateTime | None, Query(description="ISO 8601, exclusive.")] = None,
        cursor: Annotated[
            str | None,
            Query(max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the last page."),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=config.max_page_size, description="Page size.")] = default_limit,
    ) -> JobPage:
        """The project's jobs, newest first, one page at a time."""
        before = _decode_cursor(cursor) if cursor else None
        rows = await run_in_threadpool(
            lambda: jobs.list_jobs(
                state.db,
                project.id,
                status=[s.value for s in status or []],
                backend=backend,
                created_after=_ts(created_after, "created_after"),
                created_before=_ts(created_before, "created_before"),
                before_seq=before,
                limit=limit + 1,
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return JobPage(
            jobs=[JobOut.of(j) for j in rows],
            next_cursor=_encode_cursor(rows[-1].seq) if more and rows else None,
        )

    @router.get("/jobs/{job_id}", response_model=JobOut, summary="Get a job's status")
    async def get_job(job_id: str, state: StateDep, project: ProjectDep) -> JobOut:
        return JobOut.of(await run_in_threadpool(jobs.get, state.db, project.id, job_id))

    @router.get(
        "/jobs/{job_id}/result",
        summary="Get a job's result",
        responses={
            200: {
                "description": "The Result (the same JSON as Result.to_dict()).",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def get_result(
        job_id: str,
        state: StateDep,
        project: ProjectDep,
        wait: Annotated[
            float, Query(ge=0, le=60, description="Seconds to wait for the job to finish.")
        ] = 0.0,
    ) -> Response:
        """The job's Result. 409 while it is not finished (``wait`` long-polls up to 60 s), and
        409 with the reason when it failed or was cancelled without a result."""
        deadline = time.monotonic() + wait
        while True:
            job, result = await run_in_threadpool(jobs.get_result, state.db, project.id, job_id)
            if result is not None:
                return Response(result, media_type="application/json")
            if job.status in TERMINAL:
                raise HttpProblem(
                    409,
                    "job-failed" if job.status == JobStatus.FAILED else "job-cancelled",
                    f"job {job_id} is {job.status}: {job.error or 'no result'}",
                    kind="JobError",
                    job_status=job.status,
                    job_error=job.error,
                )
            if time.monotonic() >= deadline:
                raise HttpProblem(
                    409,
                    "job-not-finished",
                    f"job {job_id} is {job.status}; retry later",
                    kind="JobError",
                    job_status=job.status,
                )
            await asyncio.sleep(_poll_interval(job.status, job.started_at, job.time_limit))

    @router.get("/jobs/{job_id}/answer", response_model=DomainAnswer, summary="Get a domain job's answer")
    async def get_answer(
        job_id: str,
        state: StateDep,
        project: ProjectDep,
        wait: Annotated[
            float, Query(ge=0, le=60, description="Seconds to wait for the job to finish.")
        ] = 0.0,
    ) -> DomainAnswer:
        """The domain answer of a job submitted as an app's input: the app's interpretation of the
        Result (routes / weights / schedule, cost) and its own ``validate()`` outcome. 409 while
        the job has no result (as ``/result``) and for a job that was not submitted as domain input."""
        from kakehashi.result import Result
        from kakehashi.service import domain

        record = await run_in_threadpool(_app_record, state, project.id, job_id)
        if record is None:
            raise HttpProblem(
                409,
                "not-a-domain-job",
                f"job {job_id} was not submitted as an app's domain input; use /v1/jobs/{job_id}/result",
                kind="JobError",
            )
        response = await get_result(job_id, state, project, wait)
        result = Result.from_json(bytes(response.body).decode())
        return DomainAnswer.model_validate(await run_in_threadpool(domain.answer, record, result))

    @router.post("/jobs/{job_id}/cancel", response_model=JobOut, summary="Cancel a job")
    async def cancel_job(job_id: str, state: StateDep, project: ProjectDep) -> JobOut:
        """A queued job is cancelled at once; a running one is stopped by its worker within
        a heartbeat (seconds). 409 for a job that already finished."""
        return JobOut.of(await run_in_threadpool(jobs.cancel, state.db, project.id, job_id))

    @router.get(
        "/jobs/{job_id}/events",
        summary="Follow a job (server-sent events)",
        response_class=EventStreamResponse,
        responses={
            200: {
                "description": "text/event-stream of the job's events until it finishes.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        },
    )
    async def job_events(
        job_id: str,
        state: StateDep,
        project: ProjectDep,
        last_event_id: Annotated[
            str | None,
            # documented as a plain string (not nullable): absent means "from the start"
            WithJsonSchema({"type": "string", "pattern": LAST_EVENT_ID_PATTERN, "maxLength": 19}),
            Header(
                alias="Last-Event-ID",
                max_length=19,
                pattern=LAST_EVENT_ID_PATTERN,
                description="The id of the last event received (ASCII digits, below 9.2e18).",
            ),
        ] = None,
        timeout: Annotated[
            float, Query(ge=0, le=3600, description="Close the stream after this many s.")
        ] = 600,
    ) -> EventStreamResponse:
        """Server-sent events: ``queued``, ``running``, ``progress``, ``succeeded``... each with
        JSON data. The stream ends after the terminal event (or ``timeout`` seconds)."""
        after = numbers.int64(last_event_id, "Last-Event-ID") if last_event_id else 0
        job, first = await run_in_threadpool(jobs.events_after, state.db, project.id, job_id, after)

        async def stream() -> AsyncIterator[bytes]:
            nonlocal after
            deadline = time.monotonic() + timeout
            last_sent = time.monotonic()
            batch, status = first, job.status
            while True:
                for ev in batch:
                    after = ev.id
                    yield f"id: {ev.id}\nevent: {ev.kind}\ndata: {ev.data_json}\n\n".encode()
                    last_sent = time.monotonic()
                if status in TERMINAL or time.monotonic() >= deadline:
                    return
                if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                    yield b": keep-alive\n\n"
                    last_sent = time.monotonic()
                await asyncio.sleep(EVENT_POLL_SECONDS)
                current, batch = await run_in_threadpool(
                    jobs.events_after, state.db, project.id, job_id, after
                )
                status = current.status

        return EventStreamResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.get("/usage", response_model=UsageOut, summary="Use and cost of this project", tags=["usage"])
    async def usage(
        state: StateDep,
        project: ProjectDep,
        start: Annotated[IsoDateTime | None, Query(description="ISO 8601, inclusive.")] = None,
        end: Annotated[IsoDateTime | None, Query(description="ISO 8601, exclusive.")] = None,
        period: Annotated[Literal["day", "month", "all"], Query()] = "day",
    ) -> UsageOut:
        """Machine-seconds and cost (yen) from the ledger, by period and backend: list price,
        the project's discount and what was charged, plus the quota with what remains."""

        def build() -> dict[str, Any]:
            report = metering.usage(
                state.db, project.id, start=_ts(start, "start"), end=_ts(end, "end"), period=period
            ).to_dict()
            with state.db.read() as s:
                proj = s.get(Project, project.id)
                assert proj is not None
                base = state.pool.base(s, time.time())
                terms = quotas.terms_of(proj, base)
                report["tier"] = terms.tier.value
                report["discount_rate"] = quotas.discount_rate(terms, base)
                report["quota"] = quotas.quota_status(s, project.id)
            return report

        return UsageOut.model_validate(await run_in_threadpool(build))

    @router.get("/project", summary="The caller's project", tags=["projects"])
    async def whoami(project: ProjectDep) -> dict[str, str]:
        return {"id": project.id, "name": project.name}

    return router
