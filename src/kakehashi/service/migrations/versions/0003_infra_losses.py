"""Attempts count what the job did: infrastructure losses apart from job faults, back-off, the
workers that died running a job (poison detection), and each worker's boot id.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as b:
        b.add_column(sa.Column("infra_losses", sa.Integer, nullable=False, server_default="0"))
        b.add_column(sa.Column("job_faults", sa.Integer, nullable=False, server_default="0"))
        b.add_column(sa.Column("suspect_workers_json", sa.Text, nullable=False, server_default="[]"))
        b.add_column(sa.Column("not_before", sa.Float, nullable=True))
    with op.batch_alter_table("workers") as b:
        b.add_column(sa.Column("boot_id", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_workers_host", "workers", ["host", "stopped_at"])


def downgrade() -> None:
    op.drop_index("ix_workers_host", "workers")
    with op.batch_alter_table("workers") as b:
        b.drop_column("boot_id")
    with op.batch_alter_table("jobs") as b:
        for col in ("not_before", "suspect_workers_json", "job_faults", "infra_losses"):
            b.drop_column(col)
