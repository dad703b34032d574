"""Operations: ``/healthz`` (process up), ``/readyz`` (database reachable, schema at head), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text

from kakehashi.service import metrics
from kakehashi.service.api.deps import StateDep
from kakehashi.service.api.schemas import Health
from kakehashi.service.problems import HttpProblem
from kakehashi.service.store.migrate import current_revision, head_revision


def build_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=Health, summary="Liveness")
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz", response_model=Health, summary="Readiness", responses={503: {"description": "Not ready"}}
    )
    async def readyz(state: StateDep) -> Health:
        def check() -> str | None:
            with state.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return current_revision(state.db)

        try:
            revision = await run_in_threadpool(check)
        except Exception as exc:
            raise HttpProblem(503, "not-ready", f"database unreachable: {type(exc).__name__}") from exc
        head = head_revision()
        if revision != head:
            raise HttpProblem(503, "not-ready", f"database schema at {revision}, expected {head}")
        return Health(status="ready", revision=revision)

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        responses={
            200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Metrics"}
        },
    )
    async def prometheus(state: StateDep) -> Response:
        body = await run_in_threadpool(metrics.render, state.db)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    return router
