"""The FastAPI application: routes under ``/v1``, problem+json errors, JSON access logs."""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import kakehashi
from kakehashi.service import problems
from kakehashi.service.api import (
    admin_routes,
    benchmarks_routes,
    federation_routes,
    jobs_routes,
    ops_routes,
    pool_routes,
    problem_schema,
)
from kakehashi.service.api.body import BoundedBody
from kakehashi.service.api.deps import State
from kakehashi.service.config import ServiceConfig, load_config
from kakehashi.service.pool_state import PoolSource
from kakehashi.service.store.db import OUTAGE_ERRORS, Database, is_outage
from kakehashi.service.store.migrate import upgrade

access_log = logging.getLogger("kakehashi.api.access")
log = logging.getLogger("kakehashi.api")

#: Seconds a client is told to wait (``Retry-After``) when the database cannot be reached.
OUTAGE_RETRY_AFTER_SECONDS = 2


class AccessLog:
    """Pure ASGI middleware: one JSON log line per request (method, path, status, duration)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status_code": status,
                    "duration_ms": round(1000 * (time.perf_counter() - t0), 2),
                },
            )


def _error_codes(path: str, method: str) -> set[int]:
    codes = {422}
    if path.startswith("/v1"):
        codes.add(401)
    if "{" in path:
        codes.add(404)
    if method in ("post", "put", "patch"):
        codes |= {400, 413}  # a malformed Content-Length; a body over the route's limit (BoundedBody)
    if path == "/v1/jobs" and method == "post":
        codes |= {402, 415, 429}
    if path.endswith(("/cancel", "/result", "/answer")) or path.startswith("/v1/admin/projects"):
        codes.add(409)
    codes.add(503)  # the database cannot be reached now (Retry-After says when to try again)
    return codes


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = problems.problem_schema()
    problem_schema.install(schema)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            for code in sorted(_error_codes(path, method)):
                responses[str(code)] = {
                    "description": HTTPStatus(code).phrase,
                    "content": {problems.PROBLEM_JSON: {"schema": ref}},
                }
    app.openapi_schema = schema
    return schema


def _install_outage_handler(app: FastAPI) -> None:
    """Answer a request that could not reach the database with 503 and ``Retry-After``.

    A known infrastructure error: one warning line (no traceback); the job store is untouched,
    so the same request (with the same Idempotency-Key for a submit) is safe to send again.
    """

    async def outage(request: Request, exc: Exception) -> JSONResponse:
        if not is_outage(exc):  # another driver error: a bug, answered 500 with its traceback
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
            return problems.problem_response(
                500, "internal-error", "internal server error; the operator's log has the details"
            )
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        log.warning(
            "database unavailable on %s %s: %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            first[0] if first else "",
        )
        return problems.problem_response(
            503,
            "database-unavailable",
            "the job database cannot be reached right now; retry after a few seconds "
            "(a submit with the same Idempotency-Key creates one job)",
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
        )

    for cls in (*OUTAGE_ERRORS, DBAPIError):
        app.add_exception_handler(cls, outage)


def create_app(
    config: ServiceConfig | None = None, db: Database | None = None, *, migrate: bool = True
) -> FastAPI:
    """The API application for ``config`` (default: :func:`load_config`).

    ``migrate`` brings the database schema to head first (safe with several processes).
    """
    config = config or load_config()
    db = db or Database(config.database_url)
    if migrate:
        upgrade(db)
    app = FastAPI(
        title="kakehashi",
        version=kakehashi.__version__,
        description="Durable solver jobs over HTTP: submit problems, follow them, fetch results, see usage.",
    )
    app.state.kakehashi = State(config=config, db=db, pool=PoolSource.from_config(config))
    problems.install(app)
    _install_outage_handler(app)
    app.include_router(jobs_routes.build_router(config))
    app.include_router(pool_routes.build_router())
    app.include_router(federation_routes.build_router())
    app.include_router(benchmarks_routes.build_router(config.max_page_size))
    app.include_router(admin_routes.build_router())
    app.include_router(ops_routes.build_router())
    from kakehashi.service import web  # here: web imports the route modules of this package

    web.install(app)  # the dashboard at / (HTML error pages on its paths only)
    app.add_middleware(BoundedBody, config=config)
    app.add_middleware(AccessLog)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory kakehashi.service.api.app:app_from_env``."""
    from kakehashi.service.logs import configure_logging

    config = load_config()
    configure_logging(config.log_level)
    return create_app(config)
