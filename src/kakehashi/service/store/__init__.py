"""Persistence: SQLAlchemy models, engine set-up and Alembic migrations."""

from kakehashi.service.store.db import Database
from kakehashi.service.store.migrate import current_revision, head_revision, upgrade

__all__ = ["Database", "current_revision", "head_revision", "upgrade"]
