"""``/v1/admin``: projects, tokens, prices and the worker pool (operator's admin token only)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from kakehashi.service import tenancy
from kakehashi.service.api.deps import StateDep, require_admin
from kakehashi.service.api.schemas import (
    PricesOut,
    ProjectCreate,
    ProjectOut,
    TokenCreate,
    TokenOut,
    WorkerOut,
)
from kakehashi.service.store.models import Project, WorkerRecord


def _project(p: Project) -> ProjectOut:
    return ProjectOut(id=p.id, name=p.name, created_at=datetime.fromtimestamp(p.created_at, tz=UTC))


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])

    @router.post("/projects", status_code=201, response_model=ProjectOut, summary="Create a project")
    async def create_project(body: ProjectCreate, state: StateDep) -> ProjectOut:
        return _project(await run_in_threadpool(tenancy.create_project, state.db, body.name))

    @router.get("/projects", response_model=list[ProjectOut], summary="List projects")
    async def list_projects(state: StateDep) -> list[ProjectOut]:
        return [_project(p) for p in await run_in_threadpool(tenancy.list_projects, state.db)]

    @router.post(
        "/projects/{project}/tokens", status_code=201, response_model=TokenOut, summary="Issue a token"
    )
    async def create_token(project: str, body: TokenCreate, state: StateDep) -> TokenOut:
        """A new API token for ``project`` (name or id). The secret is in this answer only."""
        t = await run_in_threadpool(tenancy.create_token, state.db, project, body.label)
        return TokenOut(
            id=t.id, project_id=t.project_id, project=t.project_name, token=t.secret, prefix=t.prefix
        )

    @router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
    async def revoke_token(token_id: str, state: StateDep) -> Response:
        await run_in_threadpool(tenancy.revoke_token, state.db, token_id)
        return Response(status_code=204)

    @router.get("/prices", response_model=PricesOut, summary="Unit prices per hardware kind")
    async def prices(state: StateDep) -> PricesOut:
        return PricesOut(currency="JPY", unit="yen per machine-second", prices=dict(state.config.prices))

    @router.get("/workers", response_model=list[WorkerOut], summary="The worker pool")
    async def workers(state: StateDep) -> list[WorkerOut]:
        def rows() -> list[WorkerRecord]:
            with state.db.read() as s:
                return list(s.scalars(select(WorkerRecord).where(WorkerRecord.stopped_at.is_(None))))

        now = time.time()
        return [
            WorkerOut(
                id=w.id,
                host=w.host,
                pid=w.pid,
                started_at=datetime.fromtimestamp(w.started_at, tz=UTC),
                last_seen=datetime.fromtimestamp(w.last_seen, tz=UTC),
                alive=now - w.last_seen < 30.0,
            )
            for w in await run_in_threadpool(rows)
        ]

    return router
