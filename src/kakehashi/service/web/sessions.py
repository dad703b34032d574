"""Dashboard sessions: sign in with an API token (or the admin token), a server-side record, CSRF.

The browser holds only a random session secret in an ``HttpOnly; SameSite=Strict`` cookie; the
database (``web_sessions``) holds its sha256, the project (or admin), the session's CSRF token
and an absolute expiry. The API token itself is checked once at sign-in and never stored, put in
a page, a URL or a log line. Signing out deletes the row, so a copied cookie stops working.
Every form carries the session's CSRF token (the sign-in form, before a session exists, a
double-submit token from its own cookie); a POST without the right one is refused (403).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete, select

from kakehashi.exceptions import AuthError
from kakehashi.service import tenancy
from kakehashi.service.store.db import Database
from kakehashi.service.store.models import Project, WebSession

#: Cookie holding the session secret.
SESSION_COOKIE = "kh_session"
#: Cookie holding the sign-in form's double-submit CSRF token (before any session exists).
SIGNIN_CSRF_COOKIE = "kh_signin_csrf"
#: A session ends this many seconds after sign-in (8 hours), whatever its use.
SESSION_SECONDS = 8 * 3600.0


class CsrfError(AuthError):
    """A form arrived without its session's CSRF token (answered 403)."""


@dataclass(frozen=True)
class WebUser:
    """Who a signed-in browser is: a project's member or the operator (``is_admin``)."""

    project_id: str | None
    project_name: str | None
    is_admin: bool
    csrf_token: str
    expires_at: float


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii", "replace")).hexdigest()


def sign_in(
    db: Database, admin_token: str | None, token: str, *, lifetime: float = SESSION_SECONDS
) -> tuple[str, WebUser]:
    """Check ``token`` (a project's API token or the admin token) and open a session.

    Returns ``(session secret for the cookie, user)``; :class:`AuthError` for a wrong token.
    Expired sessions are swept here (sign-in is rare; no background task needed).
    """
    token = token.strip()
    project: Project | None = None
    is_admin = tenancy.is_admin(admin_token, token)
    if not is_admin:
        project = tenancy.authenticate(db, token)
    secret = secrets.token_urlsafe(32)
    now = time.time()
    row = WebSession(
        id_hash=_hash(secret),
        project_id=None if project is None else project.id,
        is_admin=is_admin,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    with db.write() as s:
        s.execute(delete(WebSession).where(WebSession.expires_at <= now))
        s.add(row)
    user = WebUser(
        project_id=row.project_id,
        project_name=None if project is None else project.name,
        is_admin=is_admin,
        csrf_token=row.csrf_token,
        expires_at=row.expires_at,
    )
    return secret, user


def lookup(db: Database, secret: str | None) -> WebUser | None:
    """The user of a session cookie, or None (no cookie, unknown, signed out or expired)."""
    if not secret or len(secret) > 100 or not secret.isascii():
        return None
    with db.read() as s:
        found = s.execute(
            select(WebSession, Project)
            .outerjoin(Project, Project.id == WebSession.project_id)
            .where(WebSession.id_hash == _hash(secret))
        ).first()
    if found is None:
        return None
    row, project = found
    if row.expires_at <= time.time():
        return None
    if not row.is_admin and project is None:
        return None
    return WebUser(
        project_id=row.project_id,
        project_name=None if project is None else project.name,
        is_admin=row.is_admin,
        csrf_token=row.csrf_token,
        expires_at=row.expires_at,
    )


def sign_out(db: Database, secret: str | None) -> None:
    """Delete the session of this cookie (nothing when there is none)."""
    if secret and secret.isascii():
        with db.write() as s:
            s.execute(delete(WebSession).where(WebSession.id_hash == _hash(secret)))


def check_csrf(expected: str | None, presented: str | None) -> None:
    """:class:`CsrfError` unless the form's CSRF token equals the session's (constant time)."""
    if not expected or not presented or not presented.isascii():
        raise CsrfError("missing or wrong CSRF token: reload the page and send the form again")
    if not hmac.compare_digest(expected.encode("ascii"), presented.encode("ascii")):
        raise CsrfError("missing or wrong CSRF token: reload the page and send the form again")


def new_signin_csrf() -> str:
    """A fresh double-submit token for the sign-in form."""
    return secrets.token_urlsafe(24)
