"""Paid actions: idempotency records and per-account concurrency slots.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import BigId, UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("accounts.id", name=op.f("fk_idempotency_records_account_id_accounts")),
            nullable=False,
        ),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner_token", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("locked_until", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("account_id", "key", name=op.f("uq_idempotency_records_account_id_key")),
    )
    op.create_index(
        op.f("ix_idempotency_records_expires_at"), "idempotency_records", ["expires_at"], unique=False
    )
    op.create_table(
        "concurrency_slots",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("accounts.id", name=op.f("fk_concurrency_slots_account_id_accounts")),
            nullable=False,
        ),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_concurrency_slots_account_scope", "concurrency_slots", ["account_id", "scope"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_concurrency_slots_account_scope", table_name="concurrency_slots")
    op.drop_table("concurrency_slots")
    op.drop_index(op.f("ix_idempotency_records_expires_at"), table_name="idempotency_records")
    op.drop_table("idempotency_records")
