"""Request dependencies: the service state, the caller's project, the admin check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kakehashi.exceptions import AuthError
from kakehashi.service import tenancy
from kakehashi.service.config import ServiceConfig
from kakehashi.service.pool_state import PoolSource
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Project

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


async def current_project(
    state: Annotated[State, Depends(get_state)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Project:
    """The project of the bearer token; 401 (problem+json) when missing, unknown or revoked."""
    secret = creds.credentials if creds is not None else None
    return await run_in_threadpool(tenancy.authenticate, state.db, secret)


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
