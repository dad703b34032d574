"""Benchmark results per project (``/v1/benchmarks``) and their leaderboard rows.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benchmark_results",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("project_id", sa.String(40), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("suite", sa.String(100), nullable=False),
        sa.Column("problem_class", sa.String(100), nullable=False, server_default=""),
        sa.Column("sense", sa.String(3), nullable=False),
        sa.Column("kakehashi_version", sa.String(64), nullable=False, server_default=""),
        sa.Column("git_commit", sa.String(64), nullable=False, server_default=""),
        sa.Column("machine_kinds", sa.String(200), nullable=False, server_default=""),
        sa.Column("via_service", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("result_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_benchmark_results_project_suite", "benchmark_results", ["project_id", "suite", "seq"])
    op.create_table(
        "benchmark_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("result_id", sa.String(40), sa.ForeignKey("benchmark_results.id"), nullable=False),
        sa.Column("project_id", sa.String(40), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("suite", sa.String(100), nullable=False),
        sa.Column("backend", sa.String(100), nullable=False),
        sa.Column("machine_kind", sa.String(40), nullable=False),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("instances", sa.Integer, nullable=False),
        sa.Column("feasible_rate", sa.Float, nullable=False),
        sa.Column("success_rate", sa.Float, nullable=True),
        sa.Column("median_gap", sa.Float, nullable=True),
        sa.Column("machine_seconds", sa.Float, nullable=False),
        sa.Column("cost_yen", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_benchmark_entries_result_id", "benchmark_entries", ["result_id"])
    op.create_index("ix_benchmark_entries_board", "benchmark_entries",
                    ["project_id", "suite", "backend", "machine_kind"])


def downgrade() -> None:
    op.drop_index("ix_benchmark_entries_board", "benchmark_entries")
    op.drop_index("ix_benchmark_entries_result_id", "benchmark_entries")
    op.drop_table("benchmark_entries")
    op.drop_index("ix_benchmark_results_project_suite", "benchmark_results")
    op.drop_table("benchmark_results")
