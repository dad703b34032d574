"""Pool, scheduler and quotas: project terms, job scheduling fields, ledger discounts, quotas,
machine states, price overrides and the audit log.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as b:
        b.add_column(sa.Column("tier", sa.String(20), nullable=True))
        b.add_column(sa.Column("discount", sa.Float, nullable=True))
        b.add_column(sa.Column("shares", sa.Float, nullable=True))
    with op.batch_alter_table("jobs") as b:
        b.add_column(sa.Column("alternatives_json", sa.Text, nullable=False, server_default="[]"))
        b.add_column(sa.Column("deadline", sa.Float, nullable=True))
        b.add_column(sa.Column("cost_cap_yen", sa.Float, nullable=True))
        b.add_column(sa.Column("hold_yen", sa.Float, nullable=False, server_default="0"))
        b.add_column(sa.Column("hold_machine_seconds", sa.Float, nullable=False, server_default="0"))
        b.add_column(sa.Column("placement_json", sa.Text, nullable=True))
        b.add_column(sa.Column("wait_reason", sa.Text, nullable=True))
    op.create_index("ix_jobs_project_status", "jobs", ["project_id", "status"])
    with op.batch_alter_table("ledger") as b:
        b.add_column(sa.Column("list_yen", sa.Float, nullable=False, server_default="0"))
        b.add_column(sa.Column("discount_rate", sa.Float, nullable=False, server_default="0"))
        b.add_column(sa.Column("discount_yen", sa.Float, nullable=False, server_default="0"))
        b.add_column(sa.Column("machine", sa.String(100), nullable=True))
    op.execute("UPDATE ledger SET list_yen = cost_yen")
    op.create_table(
        "project_quotas",
        sa.Column("project_id", sa.String(40), sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("limit", sa.Float, nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "machine_states",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("up", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "price_overrides",
        sa.Column("subject", sa.String(100), primary_key=True),
        sa.Column("price_yen_per_second", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("old_json", sa.Text, nullable=False),
        sa.Column("new_json", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_subject", "audit_log", ["subject", "id"])


def downgrade() -> None:
    for table in ("audit_log", "price_overrides", "machine_states", "project_quotas"):
        op.drop_table(table)
    op.drop_index("ix_jobs_project_status", "jobs")
    with op.batch_alter_table("ledger") as b:
        for col in ("machine", "discount_yen", "discount_rate", "list_yen"):
            b.drop_column(col)
    with op.batch_alter_table("jobs") as b:
        for col in (
            "wait_reason",
            "placement_json",
            "hold_machine_seconds",
            "hold_yen",
            "cost_cap_yen",
            "deadline",
            "alternatives_json",
        ):
            b.drop_column(col)
    with op.batch_alter_table("projects") as b:
        for col in ("shares", "discount", "tier"):
            b.drop_column(col)
