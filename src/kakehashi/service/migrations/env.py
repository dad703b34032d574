"""Alembic environment: run programmatically by :func:`kakehashi.service.store.migrate.upgrade`.

The caller passes an open connection in ``config.attributes["connection"]``; there is no
``alembic.ini``. Offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context

from kakehashi.service.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
