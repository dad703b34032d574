"""Every API error as ``application/problem+json`` (RFC 9457).

A problem document::

    {"type": "https://kakehashi.dev/problems/not-found", "title": "Not Found", "status": 404,
     "detail": "no job 'job_...' in this project", "kind": "JobNotFoundError"}

``kind`` names the kakehashi error class so the SDK can raise the same class on the client
side. Errors of the kakehashi tree map to statuses here, in one place.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kakehashi.exceptions import (
    AuthError,
    BackendError,
    CompileError,
    JobError,
    KakehashiError,
    ModelError,
    QuotaError,
)
from kakehashi.service.jobs import IdempotencyConflictError, JobConflictError, JobNotFoundError
from kakehashi.service.pool_state import MachineNotFoundError
from kakehashi.service.quotas import QuotaExceededError
from kakehashi.service.store.benchmarks import BenchmarkNotFoundError
from kakehashi.service.tenancy import ProjectExistsError, ProjectNotFoundError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://kakehashi.dev/problems/"
log = logging.getLogger("kakehashi.api")

#: Most specific first: the error class → (HTTP status, problem type slug).
ERROR_STATUS: list[tuple[type[KakehashiError], int, str]] = [
    (JobNotFoundError, 404, "not-found"),
    (BenchmarkNotFoundError, 404, "not-found"),
    (ProjectNotFoundError, 404, "not-found"),
    (MachineNotFoundError, 404, "not-found"),
    (IdempotencyConflictError, 422, "idempotency-key-reused"),
    (JobConflictError, 409, "conflict"),
    (ProjectExistsError, 409, "conflict"),
    (ModelError, 422, "invalid-problem"),
    (CompileError, 422, "compile-error"),
    (BackendError, 422, "backend-error"),
    (QuotaError, 429, "quota-exceeded"),
    (AuthError, 401, "unauthorized"),
    (JobError, 409, "job-error"),
    (KakehashiError, 400, "bad-request"),
]


class HttpProblem(Exception):
    """Raise to answer with a problem document: ``status``, a ``slug`` for the type, ``detail``."""

    def __init__(self, status: int, slug: str, detail: str, *, kind: str = "", **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.kind = kind
        self.extra = extra


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    kind: str = "",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A ``JSONResponse`` with media type ``application/problem+json``."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    if kind:
        body["kind"] = kind
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(exc: KakehashiError) -> tuple[int, str]:
    """HTTP status and problem slug for a kakehashi error."""
    for cls, status, slug in ERROR_STATUS:
        if isinstance(exc, cls):
            return status, slug
    return 400, "bad-request"  # pragma: no cover - KakehashiError is the last entry


def _kind(exc: KakehashiError) -> str:
    """The public class name to report: service-internal subclasses report their tree parent."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "kakehashi.exceptions":
            return cls.__name__
    return "KakehashiError"  # pragma: no cover


def allowed_methods(request: Request) -> str:
    """Every method any route of the app answers on this path (Starlette's own 405 names only
    the first matching route's methods: ``POST`` for ``/v1/jobs``, omitting ``GET``)."""

    def flat(routes: Any) -> Any:
        for route in routes:
            inner = getattr(route, "original_router", None)  # FastAPI's included routers
            if inner is not None:
                yield from flat(inner.routes)
            else:
                yield route

    path = request.url.path
    methods: set[str] = set()
    for route in flat(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(KakehashiError)
    async def _kakehashi(_request: Request, exc: KakehashiError) -> JSONResponse:
        status, slug = status_for(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, ModelError):
            extra = {k: v for k, v in {"field": exc.field, "line": exc.line}.items() if v is not None}
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem_response(status, slug, str(exc), kind=_kind(exc), headers=headers, **extra)

    @app.exception_handler(QuotaExceededError)
    async def _quota(_request: Request, exc: QuotaExceededError) -> JSONResponse:
        body = {k: v for k, v in exc.body().items() if k not in ("type", "title", "status", "detail")}
        return problem_response(exc.status, "quota-exceeded", str(exc), kind="QuotaError", **body)

    @app.exception_handler(HttpProblem)
    async def _http_problem(_request: Request, exc: HttpProblem) -> JSONResponse:
        return problem_response(exc.status, exc.slug, exc.detail, kind=exc.kind, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return problem_response(exc.status_code, slug, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(x) for x in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
        return problem_response(422, "validation-error", detail, kind="ModelError", errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            500, "internal-error", "internal server error; the operator's log has the details"
        )


def problem_schema() -> dict[str, Any]:
    """JSON schema of a problem document (for the OpenAPI description)."""
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "kind": {"type": "string"},
        },
        "additionalProperties": True,
    }
