"""The operator's pages (admin sessions only): machines down/up, prices, quotas, tiers, projects,
tokens and the audit log. Every change goes through the same audited service functions as
``/v1/admin`` (:mod:`kakehashi.service.quotas`, :mod:`~kakehashi.service.api.admin_routes`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from kakehashi.exceptions import ModelError
from kakehashi.pool.config import Tier
from kakehashi.service import jobs, quotas, tenancy
from kakehashi.service.api import admin_routes, submission
from kakehashi.service.api.deps import State, get_state
from kakehashi.service.web import views
from kakehashi.service.web.page import Form, admin_user, read_form, render


def add_routes(router: APIRouter) -> None:
    """The operator's pages: projects, tokens, prices, quotas, terms, machines, audit log."""

    @router.get("/admin")
    async def admin_page(request: Request) -> Response:
        state = get_state(request)
        await admin_user(request, state)
        return render(request, "admin.html", **await run_in_threadpool(_admin_data, state), issued=None)

    @router.post("/admin/{action}")
    async def admin_action(request: Request, action: str) -> Response:
        state = get_state(request)
        user = await admin_user(request, state)
        form = await read_form(request, user)
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
