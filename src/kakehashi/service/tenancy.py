"""Projects and API tokens.

A token is ``kh_`` plus 256 random bits (URL-safe base64), shown once at creation. Only its
sha256 is stored: for a high-entropy secret a plain hash is as good as a slow one and makes
look-up a single indexed query. Revoked tokens stop working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kakehashi.exceptions import AuthError, JobError, ModelError
from kakehashi.service.store.db import Database
from kakehashi.service.store.ids import new_id
from kakehashi.service.store.models import ApiToken, Project

TOKEN_PREFIX = "kh_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ProjectNotFoundError(JobError):
    """No such project (admin routes and commands)."""


class ProjectExistsError(JobError):
    """A project with this name already exists."""


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token: ``secret`` is shown once and never stored."""

    id: str
    project_id: str
    project_name: str
    secret: str
    prefix: str


def hash_token(secret: str) -> str:
    """sha256 hex digest of a token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_project(db: Database, name: str) -> Project:
    """Create a project named ``name`` (letters, digits, ``_.-``; at most 100 characters)."""
    if not _NAME.match(name):
        raise ModelError(f"invalid project name {name!r}: use letters, digits, '_', '.', '-'", field="name")
    project = Project(id=new_id("prj"), name=name, created_at=time.time())
    try:
        with db.write() as s:
            s.add(project)
    except IntegrityError as exc:
        raise ProjectExistsError(f"project {name!r} already exists") from exc
    return project


def find_project(db: Database, name_or_id: str) -> Project:
    """A project by name or id."""
    with db.read() as s:
        project = s.scalars(
            select(Project).where((Project.name == name_or_id) | (Project.id == name_or_id))
        ).first()
    if project is None:
        raise ProjectNotFoundError(f"no project {name_or_id!r}")
    return project


def list_projects(db: Database) -> list[Project]:
    with db.read() as s:
        return list(s.scalars(select(Project).order_by(Project.created_at)))


#: Token scopes: ``full`` (every project route) or ``peer`` (a peer site's token: submit jobs,
#: read and cancel the jobs it submitted, the pool, its own ledger rows; see docs/federation.md).
SCOPES = ("full", "peer")


def create_token(db: Database, project: str, label: str = "", *, scope: str = "full") -> IssuedToken:
    """Issue a new token for ``project`` (name or id) with ``scope`` (:data:`SCOPES`)."""
    if scope not in SCOPES:
        raise ModelError(f"token scope must be one of {SCOPES}, got {scope!r}", field="scope")
    proj = find_project(db, project)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=new_id("tok"),
        project_id=proj.id,
        token_hash=hash_token(secret),
        prefix=secret[:10],
        label=label[:100],
        created_at=time.time(),
        scope=scope,
    )
    with db.write() as s:
        s.add(token)
    return IssuedToken(
        id=token.id, project_id=proj.id, project_name=proj.name, secret=secret, prefix=token.prefix
    )


def revoke_token(db: Database, token_id: str, project_id: str | None = None) -> None:
    """Revoke a token by id (within ``project_id`` when given)."""
    cond = ApiToken.id == token_id
    if project_id is not None:
        cond = cond & (ApiToken.project_id == project_id)
    with db.write() as s:
        done = s.execute(update(ApiToken).where(cond).values(revoked_at=time.time()))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise ProjectNotFoundError(f"no token {token_id!r}")


def list_tokens(db: Database, project: str) -> list[ApiToken]:
    proj = find_project(db, project)
    with db.read() as s:
        return list(s.scalars(select(ApiToken).where(ApiToken.project_id == proj.id)))


def authenticate(db: Database, secret: str | None) -> Project:
    """The project a bearer token belongs to; :class:`AuthError` for missing/unknown/revoked."""
    return authenticate_token(db, secret)[1]


def authenticate_token(db: Database, secret: str | None) -> tuple[ApiToken, Project]:
    """The token record and its project; :class:`AuthError` for missing/unknown/revoked."""
    if not secret:
        raise AuthError("missing bearer token: send 'Authorization: Bearer <token>'")
    if _token_bytes(secret) is None:
        raise AuthError("unknown or revoked token")
    with db.read() as s:
        row = s.execute(
            select(ApiToken, Project)
            .join(Project, Project.id == ApiToken.project_id)
            .where(ApiToken.token_hash == hash_token(secret))
        ).first()
    if row is None or row[0].revoked_at is not None:
        raise AuthError("unknown or revoked token")
    return row[0], row[1]


def _token_bytes(secret: str | None) -> bytes | None:
    """A presented token as bytes, or None when it is empty, over 512 characters or not
    printable ASCII (no token kakehashi issues is; such a header is simply a wrong token)."""
    if not secret or len(secret) > 512 or not secret.isascii() or not secret.isprintable():
        return None
    return secret.encode("ascii")


def is_admin(configured: str | None, secret: str | None) -> bool:
    """True when ``secret`` equals the operator's admin token (constant-time compare of bytes,
    after an ASCII check: ``hmac.compare_digest`` refuses non-ASCII str with a TypeError)."""
    presented = _token_bytes(secret)
    if not configured or presented is None:
        return False
    return hmac.compare_digest(configured.encode("utf-8"), presented)
