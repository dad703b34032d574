"""What every dashboard page needs: the template environment, :func:`render`, the caller from
the session cookie, and POSTed forms read whole with their CSRF token checked.

Templates are Jinja2 with autoescape on, so every problem name, label and file name is text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import UploadFile

from kakehashi.exceptions import AuthError
from kakehashi.service.api.deps import State
from kakehashi.service.web import sessions
from kakehashi.service.web.sessions import WebUser

TEMPLATES = Path(__file__).parent / "templates"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
env.filters["num"] = lambda v, d=4: "" if v is None else (f"{v:.{d}g}" if isinstance(v, float) else str(v))
env.filters["pct"] = lambda v: "" if v is None else f"{100 * v:.0f}%"


class SignInRequired(Exception):
    """No valid session: pages answer with a redirect to the sign-in page."""


class Forbidden(AuthError):
    """A project session asked for an admin page (403)."""


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``templates/name`` with the signed-in user (if any) and its CSRF token."""
    user: WebUser | None = getattr(request.state, "web_user", None)
    html = env.get_template(name).render(
        user=user, csrf=user.csrf_token if user else "", path=request.url.path, **context
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(sessions.SESSION_COOKIE)


async def user_of(request: Request, state: State) -> WebUser:
    user = await run_in_threadpool(sessions.lookup, state.db, session_cookie(request))
    if user is None:
        raise SignInRequired
    request.state.web_user = user
    return user


async def project_user(request: Request, state: State) -> tuple[WebUser, str]:
    user = await user_of(request, state)
    if user.project_id is None:
        raise Forbidden("this page belongs to a project: sign in with the project's token")
    return user, user.project_id


async def admin_user(request: Request, state: State) -> WebUser:
    user = await user_of(request, state)
    if not user.is_admin:
        raise Forbidden("operator pages need an admin session (sign in with the admin token)")
    return user


@dataclass(frozen=True)
class Form:
    """A POSTed form read whole: its text fields and at most one uploaded file (name, bytes)."""

    fields: dict[str, str]
    file: tuple[str, bytes] | None = None

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


async def read_form(request: Request, user: WebUser | None, *, expected: str | None = None) -> Form:
    """The POSTed form, after its CSRF token is checked against the session's (or ``expected``).
    Bodies are already bounded by :class:`~kakehashi.service.api.body.BoundedBody`."""
    async with request.form(max_files=1, max_fields=40) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
        file = None if upload is None or not upload.filename else (upload.filename, await upload.read())
    sessions.check_csrf(expected if user is None else user.csrf_token, fields.get("csrf"))
    return Form(fields, file)
