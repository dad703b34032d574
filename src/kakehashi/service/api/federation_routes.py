"""``/v1/ledger``: a project's ledger rows of one month (what a peer site reads to settle)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from kakehashi.service import settlement
from kakehashi.service.api.deps import ProjectDep, StateDep


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["usage"])

    @router.get("/ledger", summary="This project's ledger rows of one month")
    async def ledger(
        request: Request,
        state: StateDep,
        project: ProjectDep,
        period: Annotated[str, Query(pattern=settlement.PERIOD_PATTERN, description="A UTC month, YYYY-MM.")],
    ) -> dict[str, Any]:
        """Every billed attempt of the project in the month: job id, attempt, idempotency key,
        machine-seconds, list price, discount and charge (yen). A peer site's token sees only the
        jobs it submitted (the peer settles against them: ``kakehashi admin settlement``)."""
        token_id = request.state.token_id if getattr(request.state, "token_scope", "") == "peer" else None
        rows = await run_in_threadpool(
            lambda: settlement.ledger_rows(state.db, project.id, period, token_id=token_id)
        )
        return {"project": project.name, "period": period, "rows": rows}

    return router
