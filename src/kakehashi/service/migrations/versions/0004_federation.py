"""Federation: peer sites, their last known state, forwarded attempts, token scopes, job
submitters and the per-project data-residency flag.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("token_env", sa.String(100), nullable=True),
        sa.Column("token_cipher", sa.Text, nullable=True),
        sa.Column("offers_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "peer_states",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("reachable", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("remote_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("checked_at", sa.Float, nullable=False),
    )
    op.create_table(
        "forwards",
        sa.Column("job_id", sa.String(40), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("peer", sa.String(100), nullable=False),
        sa.Column("machine", sa.String(100), nullable=False, server_default=""),
        sa.Column("remote_job_id", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_forwards_peer_time", "forwards", ["peer", "created_at"])
    # plain ADD COLUMN (no table copy: other tables hold foreign keys to these)
    op.add_column("projects", sa.Column("data_stays", sa.Boolean, nullable=False, server_default=sa.text("false")))
    op.add_column("api_tokens", sa.Column("scope", sa.String(16), nullable=False, server_default="full"))
    op.add_column("jobs", sa.Column("token_id", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as b:
        b.drop_column("token_id")
    with op.batch_alter_table("api_tokens") as b:
        b.drop_column("scope")
    with op.batch_alter_table("projects") as b:
        b.drop_column("data_stays")
    op.drop_index("ix_forwards_peer_time", "forwards")
    op.drop_table("forwards")
    op.drop_table("peer_states")
    op.drop_table("peers")
