"""The dashboard's pages: sign-in, jobs, a job, submit, usage, pool, admin, benchmarks.

Pages are server-rendered Jinja2 (autoescape on: every problem name, label and file name is
text). Every route takes its caller from the session cookie (:mod:`.sessions`); every POST
checks the session's CSRF token first. Job queries go through :mod:`kakehashi.service.jobs`
with the session's project, so another project's job is 404 here as in the API. Admin pages
need an admin session (403 for a project session). Nothing here solves or schedules: a
submission is the same :func:`~kakehashi.service.api.jobs_routes.admit_and_submit` the API uses.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import UploadFile

from kakehashi.exceptions import AuthError, ModelError
from kakehashi.pool.config import Tier
from kakehashi.service import jobs, quotas, tenancy
from kakehashi.service.api import admin_routes, jobs_routes, pool_routes, submission
from kakehashi.service.api.deps import State, get_state
from kakehashi.service.jobs import TERMINAL, JobStatus
from kakehashi.service.web import bench_view, sessions, views
from kakehashi.service.web.sessions import WebUser

TEMPLATES = Path(__file__).parent / "templates"
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
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
env.filters["num"] = lambda v, d=4: "" if v is None else (f"{v:.{d}g}" if isinstance(v, float) else str(v))
env.filters["pct"] = lambda v: "" if v is None else f"{100 * v:.0f}%"


class SignInRequired(Exception):
    """No valid session: pages answer with a redirect to the sign-in page."""


class Forbidden(AuthError):
    """A project session asked for an admin page (403)."""


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``templates/name`` with the signed-in user (if any) and its CSRF token."""
    user: WebUser | None = getattr(request.state, "web_user", None)
    html = env.get_template(name).render(
        user=user, csrf=user.csrf_token if user else "", path=request.url.path, **context
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _cookie(request: Request) -> str | None:
    return request.cookies.get(sessions.SESSION_COOKIE)


async def _user(request: Request, state: State) -> WebUser:
    user = await run_in_threadpool(sessions.lookup, state.db, _cookie(request))
    if user is None:
        raise SignInRequired
    request.state.web_user = user
    return user


async def _project_user(request: Request, state: State) -> tuple[WebUser, str]:
    user = await _user(request, state)
    if user.project_id is None:
        raise Forbidden("this page belongs to a project: sign in with the project's token")
    return user, user.project_id


async def _admin_user(request: Request, state: State) -> WebUser:
    user = await _user(request, state)
    if not user.is_admin:
        raise Forbidden("operator pages need an admin session (sign in with the admin token)")
    return user


@dataclass(frozen=True)
class Form:
    """A POSTed form read whole: its text fields and at most one uploaded file (name, bytes)."""

    fields: dict[str, str]
    file: tuple[str, bytes] | None = None

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


async def _form(request: Request, user: WebUser | None, *, expected: str | None = None) -> Form:
    """The POSTed form, after its CSRF token is checked against the session's (or ``expected``).
    Bodies are already bounded by :class:`~kakehashi.service.api.body.BoundedBody`."""
    async with request.form(max_files=1, max_fields=40) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
        file = None if upload is None or not upload.filename else (upload.filename, await upload.read())
    sessions.check_csrf(expected if user is None else user.csrf_token, fields.get("csrf"))
    return Form(fields, file)


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
        user = await run_in_threadpool(sessions.lookup, state.db, _cookie(request))
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
        form = await _form(request, None, expected=request.cookies.get(sessions.SIGNIN_CSRF_COOKIE))
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
        user = await _user(request, state)
        await _form(request, user)
        await run_in_threadpool(sessions.sign_out, state.db, _cookie(request))
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(sessions.SESSION_COOKIE, path="/")
        return response

    @router.get("/jobs")
    async def jobs_page(request: Request, backend: str = "", since: str = "", until: str = "") -> Response:
        state = get_state(request)
        _, project_id = await _project_user(request, state)
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
        _, project_id = await _project_user(request, state)
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
        _, project_id = await _project_user(request, state)
        detail = await run_in_threadpool(views.job_detail, state, project_id, job_id)
        return render(request, "job.html", d=detail, terminal=detail["job"]["status"] in TERMINAL)

    @router.get("/jobs/{job_id}/events")
    async def job_events(request: Request, job_id: str) -> Response:
        """Server-sent state changes of one job for the job page (session-authenticated twin of
        ``/v1/jobs/{id}/events``); ends after the terminal event or 10 minutes."""
        state = get_state(request)
        _, project_id = await _project_user(request, state)
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
        user, project_id = await _project_user(request, state)
        await _form(request, user)
        await run_in_threadpool(jobs.cancel, state.db, project_id, job_id)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @router.get("/submit")
    async def submit_page(request: Request) -> Response:
        state = get_state(request)
        await _project_user(request, state)
        return render(request, "submit.html", formats=FORMATS, apps=APPS, backends=_backends(), error=None)

    @router.post("/submit")
    async def submit_estimate(request: Request) -> Response:
        """Read the upload and show the estimate; nothing is submitted until it is confirmed."""
        state = get_state(request)
        user, _ = await _project_user(request, state)
        form = await _form(request, user)
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
        user, project_id = await _project_user(request, state)
        form = await _form(request, user)
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
        _, project_id = await _project_user(request, state)
        if period not in ("day", "month", "all"):
            raise ModelError("period must be day, month or all", field="period")
        p: Literal["day", "month", "all"] = period  # type: ignore[assignment]
        data = await run_in_threadpool(views.usage, state, project_id, p)
        return render(request, "usage.html", u=data)

    @router.get("/pool")
    async def pool_page(request: Request) -> Response:
        state = get_state(request)
        user = await _user(request, state)
        data = await run_in_threadpool(views.pool, state, user.project_id)
        return render(request, "pool.html", pool=data)

    @router.get("/benchmarks")
    async def benchmarks_page(request: Request) -> Response:
        state = get_state(request)
        await _user(request, state)
        return render(request, "benchmarks.html", suites=await run_in_threadpool(bench_view.leaderboards))

    _admin_routes(router)
    return router


def _admin_routes(router: APIRouter) -> None:
    """The operator's pages: projects, tokens, prices, quotas, terms, machines, audit log."""

    @router.get("/admin")
    async def admin_page(request: Request) -> Response:
        state = get_state(request)
        await _admin_user(request, state)
        return render(request, "admin.html", **await run_in_threadpool(_admin_data, state), issued=None)

    @router.post("/admin/{action}")
    async def admin_action(request: Request, action: str) -> Response:
        state = get_state(request)
        user = await _admin_user(request, state)
        form = await _form(request, user)
        issued = await run_in_threadpool(_admin_do, state, action, form)
        if issued is not None:  # a new token is shown once, on this answer only (never stored)
            return render(request, "admin.html", **await run_in_threadpool(_admin_data, state), issued=issued)
        return RedirectResponse("/admin", status_code=303)


def _admin_data(state: State) -> dict[str, Any]:
    projects = []
    for p in tenancy.list_projects(state.db):
        terms = admin_routes.terms_of(state, p.id)
        projects.append(
            {
                "id": p.id,
                "name": p.name,
                "terms": terms,
                "tokens": [t for t in tenancy.list_tokens(state.db, p.id)],
            }
        )
    with state.db.read() as s:
        overrides = quotas.price_overrides(s)
    return {
        "projects": projects,
        "prices": dict(state.config.prices),
        "overrides": overrides,
        "pool": views.pool(state, None),
        "audit": [
            {
                "at": views.iso(r.at),
                "actor": r.actor,
                "subject": r.subject,
                "field": r.field,
                "old": r.old_json,
                "new": r.new_json,
                "reason": r.reason,
            }
            for r in quotas.audit_log(state.db, limit=50)
        ],
        "tiers": [t.value for t in Tier],
    }


def _number(form: Form, key: str) -> float | None:
    raw = form.get(key).strip()
    if raw == "":
        return None
    if not submission._ASCII_NUMBER.fullmatch(raw):
        raise ModelError(f"expected a number, got {raw[:40]!r}", field=key)
    return float(raw)


def _admin_do(state: State, action: str, form: Form) -> dict[str, str] | None:
    """Run one admin form; returns the issued token (shown once) for ``token-create``."""
    reason = form.get("reason")[:500]
    if action in ("machine-down", "machine-up"):
        admin_routes.set_machine(state, form.get("machine"), action == "machine-up", reason)
    elif action == "price":
        admin_routes.set_price_audited(state, form.get("subject"), _number(form, "price"), reason)
    elif action == "quota":
        quotas.set_quota(
            state.db,
            form.get("project"),
            _number(form, "limit"),
            unit=form.get("unit", "yen"),
            period=form.get("period", "month"),
            reason=reason,
        )
    elif action == "terms":
        quotas.set_terms(state.db, form.get("project"), tier=form.get("tier") or None, reason=reason)
    elif action == "project-create":
        tenancy.create_project(state.db, form.get("name"))
    elif action == "token-create":
        t = tenancy.create_token(state.db, form.get("project"), form.get("label"))
        return {"project": t.project_name, "secret": t.secret, "prefix": t.prefix}
    elif action == "token-revoke":
        tenancy.revoke_token(state.db, form.get("token_id"))
    else:
        raise jobs.JobNotFoundError(f"no admin action {action[:40]!r}")
    return None


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
