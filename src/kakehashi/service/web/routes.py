"""The dashboard's pages: sign-in, jobs, a job, submit, usage, pool, admin, benchmarks.

Pages are server-rendered Jinja2 (autoescape on: every problem name, label and file name is
text). Every route takes its caller from the session cookie (:mod:`.sessions`); every POST
checks the session's CSRF token first. Job queries go through :mod:`kakehashi.service.jobs`
with the session's project, so another project's job is 404 here as in the API. Admin pages
need an admin session (403 for a project session; see :mod:`.admin_pages`). Nothing here solves or schedules: a
submission is the same :func:`~kakehashi.service.api.jobs_routes.admit_and_submit` the API uses.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from kakehashi.exceptions import AuthError, ModelError
from kakehashi.service import jobs, tenancy
from kakehashi.service.api import jobs_routes, pool_routes, submission
from kakehashi.service.api.deps import State, get_state
from kakehashi.service.jobs import TERMINAL, JobStatus
from kakehashi.service.web import admin_pages, bench_view, sessions, views
from kakehashi.service.web.page import Form, project_user, read_form, render, session_cookie, user_of

#: Upload formats offered on the submit page (value, label); "" lets the reader guess.
FORMATS = [
    ("", "from the file name"),
    ("lp", "LP"),
    ("mps", "MPS"),
    ("json", "kakehashi JSON"),
    ("qubo", "QUBO JSON"),
    ("gset", "Gset graph (max-cut)"),
]
#: Domain apps whose input a file may be (value, label): TSPLIB/CVRPLIB, portfolio CSV, UC JSON.
APPS = [
    ("", "none: the file is a model"),
    ("routing", "routing (TSPLIB, CVRPLIB)"),
    ("portfolio", "portfolio (CSV)"),
    ("unit-commitment", "unit commitment (JSON)"),
]


def _date(value: str, field: str) -> float | None:
    """UNIX seconds of a ``YYYY-MM-DD`` filter (UTC); 422 naming the field otherwise."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError as exc:
        raise ModelError(f"expected a date YYYY-MM-DD, got {value[:40]!r}", field=field) from exc


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def home(request: Request) -> Response:
        state = get_state(request)
        user = await run_in_threadpool(sessions.lookup, state.db, session_cookie(request))
        if user is None:
            return RedirectResponse("/signin", status_code=303)
        return RedirectResponse("/jobs" if user.project_id else "/pool", status_code=303)

    @router.get("/signin")
    async def signin_page(request: Request) -> Response:
        token = sessions.new_signin_csrf()
        response = render(request, "signin.html", signin_csrf=token, error=None)
        _set_signin_cookie(response, token)
        return response

    @router.post("/signin")
    async def signin(request: Request) -> Response:
        state = get_state(request)
        form = await read_form(request, None, expected=request.cookies.get(sessions.SIGNIN_CSRF_COOKIE))
        try:
            secret, _ = await run_in_threadpool(
                sessions.sign_in, state.db, state.config.admin_token, form.get("token")
            )
        except AuthError:
            token = sessions.new_signin_csrf()
            refused = render(
                request,
                "signin.html",
                status=401,
                signin_csrf=token,
                error="That token is unknown or revoked. Check it and try again.",
            )
            _set_signin_cookie(refused, token)
            return refused
        # a fresh secret at every sign-in; the browser's previous session (if any) ends
        await run_in_threadpool(sessions.sign_out, state.db, session_cookie(request))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            sessions.SESSION_COOKIE,
            secret,
            max_age=int(sessions.SESSION_SECONDS),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        response.delete_cookie(sessions.SIGNIN_CSRF_COOKIE, path="/signin")
        return response

    @router.post("/signout")
    async def signout(request: Request) -> Response:
        state = get_state(request)
        user = await user_of(request, state)
        await read_form(request, user)
        await run_in_threadpool(sessions.sign_out, state.db, session_cookie(request))
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(sessions.SESSION_COOKIE, path="/")
        return response

    @router.get("/jobs")
    async def jobs_page(request: Request, backend: str = "", since: str = "", until: str = "") -> Response:
        state = get_state(request)
        _, project_id = await project_user(request, state)
        statuses = [s for s in request.query_params.getlist("state") if s]
        for s in statuses:
            if s not in JobStatus.__members__:
                raise ModelError(f"unknown state {s[:20]!r}: use one of {list(JobStatus)}", field="state")
        after, before = _date(since, "since"), _date(until, "until")
        rows = await run_in_threadpool(
            lambda: jobs.list_jobs(
                state.db,
                project_id,
                status=statuses,
                backend=backend[:100] or None,
                created_after=after,
                created_before=None if before is None else before + 86400,
                limit=100,
            )
        )
        return render(
            request,
            "jobs.html",
            jobs=[views.job_row(j) for j in rows],
            states=list(JobStatus),
            filters={"state": statuses, "backend": backend, "since": since, "until": until},
        )

    @router.get("/jobs/states.json")
    async def job_states(request: Request) -> Response:
        """The current rows of the listed jobs (the list page polls this once a second)."""
        state = get_state(request)
        _, project_id = await project_user(request, state)
        ids = request.query_params.getlist("id")[:100]

        def rows() -> list[dict[str, Any]]:
            out = []
            for job_id in ids:
                try:
                    out.append(views.job_row(jobs.get(state.db, project_id, job_id)))
                except jobs.JobNotFoundError:
                    continue
            return out

        return JSONResponse({"jobs": await run_in_threadpool(rows)}, headers={"Cache-Control": "no-store"})

    @router.get("/jobs/{job_id}")
    async def job_page(request: Request, job_id: str) -> Response:
        state = get_state(request)
        _, project_id = await project_user(request, state)
        detail = await run_in_threadpool(views.job_detail, state, project_id, job_id)
        return render(request, "job.html", d=detail, terminal=detail["job"]["status"] in TERMINAL)

    @router.get("/jobs/{job_id}/events")
    async def job_events(request: Request, job_id: str) -> Response:
        """Server-sent state changes of one job for the job page (session-authenticated twin of
        ``/v1/jobs/{id}/events``); ends after the terminal event or 10 minutes."""
        state = get_state(request)
        _, project_id = await project_user(request, state)
        job, first = await run_in_threadpool(jobs.events_after, state.db, project_id, job_id, 0)

        async def stream() -> AsyncIterator[bytes]:
            after, batch, status = 0, first, job.status
            deadline = time.monotonic() + 600
            while True:
                for ev in batch:
                    after = ev.id
                    yield f"id: {ev.id}\nevent: {ev.kind}\ndata: {ev.data_json}\n\n".encode()
                if status in TERMINAL or time.monotonic() >= deadline:
                    yield f"event: end\ndata: {json.dumps({'status': status})}\n\n".encode()
                    return
                await asyncio.sleep(jobs_routes.EVENT_POLL_SECONDS)
                current, batch = await run_in_threadpool(
                    jobs.events_after, state.db, project_id, job_id, after
                )
                status = current.status

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.post("/jobs/{job_id}/cancel")
    async def cancel(request: Request, job_id: str) -> Response:
        state = get_state(request)
        user, project_id = await project_user(request, state)
        await read_form(request, user)
        await run_in_threadpool(jobs.cancel, state.db, project_id, job_id)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @router.get("/submit")
    async def submit_page(request: Request) -> Response:
        state = get_state(request)
        await project_user(request, state)
        return render(request, "submit.html", formats=FORMATS, apps=APPS, backends=_backends(), error=None)

    @router.post("/submit")
    async def submit_estimate(request: Request) -> Response:
        """Read the upload and show the estimate; nothing is submitted until it is confirmed."""
        state = get_state(request)
        user, _ = await project_user(request, state)
        form = await read_form(request, user)
        if form.file is None:
            raise ModelError("choose a file to upload", field="file")
        text = jobs_routes._utf8(form.file[1], "file")
        fields = _fields(form, form.file[0])
        spec, problem = await run_in_threadpool(_spec, state, text, fields)
        rows = await run_in_threadpool(
            pool_routes.estimate_rows, state, problem, user.project_name or "", spec.time_limit
        )
        return render(
            request,
            "confirm.html",
            source=text,
            fields=fields,
            spec=spec,
            estimates=rows,
            summary=views.problem_summary(spec.problem_json),
            idempotency_key=secrets.token_urlsafe(16),
        )

    @router.post("/submit/confirm")
    async def submit_confirm(request: Request) -> Response:
        state = get_state(request)
        user, project_id = await project_user(request, state)
        form = await read_form(request, user)
        fields = _fields(form, form.get("filename"))
        spec, _ = await run_in_threadpool(_spec, state, form.get("source"), fields)
        project = await run_in_threadpool(tenancy.find_project, state.db, project_id)
        job, _ = await run_in_threadpool(
            jobs_routes.admit_and_submit, state, project, spec, form.get("idempotency_key") or None
        )
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @router.get("/usage")
    async def usage_page(request: Request, period: str = "day") -> Response:
        state = get_state(request)
        _, project_id = await project_user(request, state)
        if period not in ("day", "month", "all"):
            raise ModelError("period must be day, month or all", field="period")
        p: Literal["day", "month", "all"] = period  # type: ignore[assignment]
        data = await run_in_threadpool(views.usage, state, project_id, p)
        return render(request, "usage.html", u=data)

    @router.get("/pool")
    async def pool_page(request: Request) -> Response:
        state = get_state(request)
        user = await user_of(request, state)
        data = await run_in_threadpool(views.pool, state, user.project_id)
        return render(request, "pool.html", pool=data)

    @router.get("/benchmarks")
    async def benchmarks_page(request: Request) -> Response:
        state = get_state(request)
        await user_of(request, state)
        return render(request, "benchmarks.html", suites=await run_in_threadpool(bench_view.leaderboards))

    @router.get("/benchmarks/{directory}/report.png")
    async def benchmark_chart(request: Request, directory: str) -> Response:
        state = get_state(request)
        await user_of(request, state)
        png = await run_in_threadpool(bench_view.report_png, directory)
        if png is None:
            raise jobs.JobNotFoundError(f"no stored report chart for {directory[:100]!r}")
        return FileResponse(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    admin_pages.add_routes(router)
    return router


def _backends() -> list[str]:
    from kakehashi.backends.registry import backend_names

    return ["auto", *backend_names()]


def _fields(form: Form, filename: str) -> dict[str, str]:
    """The submit form's options as the API's multipart fields (strings)."""
    fields = {k: form.get(k) for k in ("format", "app", "backend", "time_limit", "seed", "name")}
    fields["filename"] = filename[:200]
    return {k: v for k, v in fields.items() if v != ""}


def _spec(state: State, text: str, fields: dict[str, str]) -> tuple[jobs.JobSpec, Any]:
    """The job the form describes (same readers and checks as ``POST /v1/jobs`` multipart)."""
    from kakehashi.model.problem import Problem

    name = fields.get("name") or (fields.get("filename") or "upload").rsplit(".", 1)[0]
    fmt = fields.get("format")
    if not fmt and not fields.get("app") and "." in fields.get("filename", ""):
        ext = fields["filename"].rsplit(".", 1)[-1].lower()
        fmt = {"txt": "gset", "lp": "lp", "mps": "mps", "json": "json", "gset": "gset"}.get(ext)
    if fields.get("app"):
        spec = submission.from_domain_upload(state.config, text, fields, name)
    else:
        spec = submission.from_text(state.config, text, fmt, fields, name)
    return spec, Problem.from_dict(json.loads(spec.problem_json), source="upload")


def _set_signin_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        sessions.SIGNIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/signin"
    )
