"""The testbed's web dashboard, served by the API process at ``/``.

:func:`install` adds the pages (:mod:`.routes`), the static files (``/static``: one CSS and one
hand-written JS file, no front-end build) and HTML problem pages for errors on dashboard paths.
API paths (``/v1``, ``/docs``, ``/openapi.json``, ops) keep their problem+json answers.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kakehashi.exceptions import KakehashiError
from kakehashi.service.problems import HttpProblem, status_for
from kakehashi.service.quotas import QuotaExceededError
from kakehashi.service.web import page, routes
from kakehashi.service.web.sessions import CsrfError

log = logging.getLogger("kakehashi.web")
STATIC = Path(__file__).parent / "static"
_API_PREFIXES = ("/v1", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz", "/metrics")


def is_dashboard_path(path: str) -> bool:
    """True for the dashboard's own paths (answered with HTML error pages)."""
    return not path.startswith(_API_PREFIXES)


def _status(exc: Exception) -> tuple[int, str]:
    """HTTP status and a one-line message for an error on a dashboard page."""
    if isinstance(exc, CsrfError | page.Forbidden):
        return 403, str(exc)
    if isinstance(exc, QuotaExceededError):
        return exc.status, str(exc)
    if isinstance(exc, KakehashiError):
        return status_for(exc)[0], str(exc)
    if isinstance(exc, HttpProblem):
        return exc.status, exc.detail
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, "no such page" if exc.status_code == 404 else str(exc.detail)
    if isinstance(exc, RequestValidationError):
        return 422, "; ".join(str(e.get("msg", "")) for e in exc.errors()) or "invalid request"
    return 500, "internal server error; the operator's log has the details"


def _problem_page(request: Request, exc: Exception) -> Response:
    status, detail = _status(exc)
    if status >= 500:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    field = getattr(exc, "field", None)
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return page.render(
        request, "problem.html", status=status, code=status, title=title, detail=detail, field=field
    )


def install(app: FastAPI) -> None:
    """Add the dashboard to the API ``app`` (call after the API's own error handlers)."""
    app.include_router(routes.build_router())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def sign_in(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/signin", status_code=303)

    app.add_exception_handler(page.SignInRequired, sign_in)
    for cls in (
        KakehashiError,
        QuotaExceededError,
        HttpProblem,
        StarletteHTTPException,
        RequestValidationError,
        Exception,
    ):
        api_handler = app.exception_handlers.get(cls)
        app.add_exception_handler(cls, _either(api_handler))


def _either(api_handler: Any) -> Any:
    """An exception handler answering HTML on dashboard paths and the API's own elsewhere."""

    async def handler(request: Request, exc: Exception) -> Any:
        if is_dashboard_path(request.url.path) or api_handler is None:
            return _problem_page(request, exc)
        return await api_handler(request, exc)

    return handler
