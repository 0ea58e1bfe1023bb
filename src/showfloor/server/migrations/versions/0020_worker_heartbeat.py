"""Worker heartbeats: one row per live unlock worker, so ``/readyz`` can tell pending unlock items
with no live worker.

Revision ID: 0020_worker_heartbeat
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import UtcDateTime

revision = "0020_worker_heartbeat"
down_revision = "0019_agent_quotes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(120), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("seen_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
