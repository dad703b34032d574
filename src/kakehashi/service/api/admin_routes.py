"""``/v1/admin``: projects, tokens, prices, quotas, terms, machines, the audit trail and the worker
pool (operator's admin token only)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from kakehashi.backends.base import HardwareKind
from kakehashi.service import pool_state, quotas, scheduling, tenancy
from kakehashi.service.api.deps import State, StateDep, require_admin
from kakehashi.service.api.schemas import (
    AuditOut,
    MachineStateSet,
    PoolOut,
    PriceSet,
    PricesOut,
    ProjectCreate,
    ProjectOut,
    QuotaSet,
    QuotaStatusOut,
    TermsOut,
    TermsSet,
    TokenCreate,
    TokenOut,
    WorkerOut,
)
from kakehashi.service.pool_state import MachineNotFoundError
from kakehashi.service.store.models import Project, WorkerRecord


def _project(p: Project) -> ProjectOut:
    return ProjectOut(id=p.id, name=p.name, created_at=datetime.fromtimestamp(p.created_at, tz=UTC))


def terms_of(state: State, project: str) -> TermsOut:
    p = tenancy.find_project(state.db, project)
    with state.db.read() as s:
        proj = s.get(Project, p.id)
        assert proj is not None
        pool = state.pool.base(s, time.time())
        terms = quotas.terms_of(proj, pool)
        quota = quotas.quota_status(s, p.id)
    return TermsOut(
        project=p.name,
        tier=terms.tier.value,
        discount_rate=quotas.discount_rate(terms, pool),
        shares=terms.shares,
        quota=None if quota is None else QuotaStatusOut.model_validate(quota),
    )


def set_price_audited(state: State, subject: str, price: float | None, reason: str) -> None:
    """Override the unit price (yen per machine-second) of a pool machine or hardware kind (None
    removes it), auditing the old value; :class:`MachineNotFoundError` for an unknown subject."""
    with state.db.read() as s:
        pool = state.pool.base(s, time.time())
        old_overrides = quotas.price_overrides(s)
    machine = next((m for m in pool.machines if m.name == subject), None)
    if machine is not None and not quotas.is_default_pool(pool):
        old: float | None = machine.price_yen_per_second
    elif subject in state.config.prices or subject in {k.value for k in HardwareKind}:
        old = state.config.prices.get(subject)
    elif machine is not None:
        old = state.config.price(machine.kind.value)
    else:
        raise MachineNotFoundError(f"no machine or hardware kind {subject!r} in the pool")
    old = old_overrides.get(subject, old)
    quotas.set_price(state.db, subject, price, old=old, reason=reason)


def set_machine(state: State, name: str, up: bool, reason: str) -> dict[str, Any]:
    with state.db.read() as s:
        pool = state.pool.base(s, time.time())
    quotas.set_machine_state(state.db, pool, name, up, reason=reason)
    with state.db.read() as s:
        snap = pool_state.snapshot(s, state.pool)
    return scheduling.pool_view(snap, scheduling.run_pass(snap, full=True))


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
        def overrides() -> dict[str, float]:
            with state.db.read() as s:
                return quotas.price_overrides(s)

        return PricesOut(
            currency="JPY",
            unit="yen per machine-second",
            prices=dict(state.config.prices),
            overrides=await run_in_threadpool(overrides),
        )

    @router.put("/prices/{subject}", response_model=PricesOut, summary="Set a unit price (audited)")
    async def set_price(subject: str, body: PriceSet, state: StateDep) -> PricesOut:
        """Override the price (yen per machine-second) of a pool machine or a hardware kind; null
        removes the override. Every change is written to the audit trail."""

        await run_in_threadpool(set_price_audited, state, subject, body.price_yen_per_second, body.reason)
        return await prices(state)

    @router.put(
        "/projects/{project}/quota", response_model=TermsOut, summary="Set a project's quota (audited)"
    )
    async def set_quota(project: str, body: QuotaSet, state: StateDep) -> TermsOut:
        """A hard cap per period in yen (charged, after discount) or machine-seconds; submissions
        beyond it get 402 (yen) or 429 (machine-seconds). ``limit`` null removes the quota."""
        await run_in_threadpool(
            lambda: quotas.set_quota(
                state.db, project, body.limit, unit=body.unit, period=body.period, reason=body.reason
            )
        )
        return await run_in_threadpool(terms_of, state, project)

    @router.put(
        "/projects/{project}/terms", response_model=TermsOut, summary="Set a project's terms (audited)"
    )
    async def set_terms(project: str, body: TermsSet, state: StateDep) -> TermsOut:
        """Tier (research, academic, contributor, commercial: sets the discount), an explicit
        discount rate overriding the tier's, and the fair-share weight. Only the fields sent change."""
        changes: dict[str, Any] = {
            k: getattr(body, k) for k in ("tier", "discount", "shares") if k in body.model_fields_set
        }
        await run_in_threadpool(lambda: quotas.set_terms(state.db, project, reason=body.reason, **changes))
        return await run_in_threadpool(terms_of, state, project)

    @router.get("/projects/{project}/terms", response_model=TermsOut, summary="A project's terms and quota")
    async def get_terms(project: str, state: StateDep) -> TermsOut:
        return await run_in_threadpool(terms_of, state, project)

    @router.post("/machines/{name}/down", response_model=PoolOut, summary="Mark a machine down (audited)")
    async def machine_down(name: str, body: MachineStateSet, state: StateDep) -> dict[str, Any]:
        """Take a pool machine out of service now: jobs needing it wait, or run on an alternative
        their submitter allowed; running jobs finish."""
        return await run_in_threadpool(set_machine, state, name, False, body.reason)

    @router.post("/machines/{name}/up", response_model=PoolOut, summary="Mark a machine up (audited)")
    async def machine_up(name: str, body: MachineStateSet, state: StateDep) -> dict[str, Any]:
        return await run_in_threadpool(set_machine, state, name, True, body.reason)

    @router.get(
        "/audit", response_model=list[AuditOut], summary="Audit trail of quota, price and term changes"
    )
    async def audit(
        state: StateDep,
        subject: Annotated[
            str | None, Query(max_length=200, description="e.g. project:NAME, price:KIND")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditOut]:
        rows = await run_in_threadpool(lambda: quotas.audit_log(state.db, subject=subject, limit=limit))
        return [
            AuditOut(
                id=r.id,
                at=datetime.fromtimestamp(r.at, tz=UTC),
                actor=r.actor,
                subject=r.subject,
                field=r.field,
                old=json.loads(r.old_json),
                new=json.loads(r.new_json),
                reason=r.reason,
            )
            for r in rows
        ]

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
