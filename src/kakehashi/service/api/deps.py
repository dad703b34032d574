"""Request dependencies: the service state, the caller's project, the admin check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from kakehashi.exceptions import AuthError
from kakehashi.service import tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.jobs import JobNotFoundError
from kakehashi.service.pool_state import PoolSource
from kakehashi.service.problems import HttpProblem
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Job, Project

bearer = HTTPBearer(auto_error=False, description="An API token (kakehashi admin token create PROJECT).")


@dataclass
class State:
    """What every route needs: the configuration and the database."""

    config: ServiceConfig
    db: Database
    pool: PoolSource = field(default_factory=PoolSource)


def get_state(request: Request) -> State:
    state: State = request.app.state.kakehashi
    return state


#: What a ``peer``-scoped token may call: (method, route path).
PEER_ROUTES = frozenset(
    {
        ("POST", "/v1/jobs"),
        ("GET", "/v1/jobs/{job_id}"),
        ("GET", "/v1/jobs/{job_id}/result"),
        ("GET", "/v1/jobs/{job_id}/events"),
        ("POST", "/v1/jobs/{job_id}/cancel"),
        ("GET", "/v1/pool"),
        ("GET", "/v1/ledger"),
        ("GET", "/v1/project"),
    }
)


def _peer_may(db: Database, token_id: str, request: Request) -> None:
    """403 for a route a peer token may not call; 404 for a job it did not submit."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    if (request.method, path) not in PEER_ROUTES:
        raise HttpProblem(
            403,
            "token-scope",
            f"a peer token may not call {request.method} {path}",
            kind="AuthError",
        )
    job_id = request.path_params.get("job_id")
    if job_id is not None:
        with db.read() as s:
            owner = s.scalars(select(Job.token_id).where(Job.id == job_id)).first()
        if owner != token_id:  # another token's job is indistinguishable from a missing one
            raise JobNotFoundError(f"no job {job_id!r}")


async def current_project(
    request: Request,
    state: Annotated[State, Depends(get_state)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Project:
    """The project of the bearer token; 401 (problem+json) when missing, unknown or revoked.

    The token's id and scope are kept on ``request.state``; a ``peer`` token is held to
    :data:`PEER_ROUTES` and to the jobs it submitted."""
    secret = creds.credentials if creds is not None else None
    token, project = await run_in_threadpool(tenancy.authenticate_token, state.db, secret)
    request.state.token_id = token.id
    request.state.token_scope = token.scope
    if token.scope == "peer":
        await run_in_threadpool(_peer_may, state.db, token.id, request)
    return project


async def require_admin(
    state: Annotated[State, Depends(get_state)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """401 unless the bearer token is the operator's admin token."""
    if state.config.admin_token is None:
        raise AuthError("the admin API is disabled: set KAKEHASHI_ADMIN_TOKEN (or use 'kakehashi admin')")
    if not tenancy.is_admin(state.config.admin_token, creds.credentials if creds else None):
        raise AuthError("admin token required")


StateDep = Annotated[State, Depends(get_state)]
ProjectDep = Annotated[Project, Depends(current_project)]
