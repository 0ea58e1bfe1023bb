"""Access: event unlocks (base and visitor layers) and per-account contact unlocks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import BigId, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _account_fk(table: str) -> sa.Column[int]:
    return sa.Column(
        "account_id",
        BigId,
        sa.ForeignKey("accounts.id", name=op.f(f"fk_{table}_account_id_accounts")),
        nullable=False,
    )


def _personnel_fk(table: str) -> sa.Column[int]:
    return sa.Column(
        "personnel_id",
        BigId,
        sa.ForeignKey("personnel.id", name=op.f(f"fk_{table}_personnel_id_personnel")),
        nullable=False,
    )


def _operation_fk(table: str) -> sa.Column[int]:
    return sa.Column(
        "operation_id",
        BigId,
        sa.ForeignKey("ledger_operations.id", name=op.f(f"fk_{table}_operation_id_ledger_operations")),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "event_unlocks",
        sa.Column("id", BigId, primary_key=True),
        _account_fk("event_unlocks"),
        sa.Column(
            "event_id",
            BigId,
            sa.ForeignKey("events.id", name=op.f("fk_event_unlocks_event_id_events")),
            nullable=False,
        ),
        sa.Column("layer", sa.String(16), nullable=False),
        _operation_fk("event_unlocks"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint(
            "account_id", "event_id", "layer", name=op.f("uq_event_unlocks_account_id_event_id_layer")
        ),
    )
    op.create_index(op.f("ix_event_unlocks_event_id"), "event_unlocks", ["event_id"])
    op.create_table(
        "contact_unlocks",
        sa.Column("id", BigId, primary_key=True),
        _account_fk("contact_unlocks"),
        _personnel_fk("contact_unlocks"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(320), nullable=True),
        _operation_fk("contact_unlocks"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint(
            "account_id", "personnel_id", "kind", name=op.f("uq_contact_unlocks_account_id_personnel_id_kind")
        ),
    )
    op.create_index(op.f("ix_contact_unlocks_personnel_id"), "contact_unlocks", ["personnel_id"])
    op.create_table(
        "linkedin_activity_unlocks",
        sa.Column("id", BigId, primary_key=True),
        _account_fk("linkedin_activity_unlocks"),
        _personnel_fk("linkedin_activity_unlocks"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint(
            "account_id",
            "personnel_id",
            name=op.f("uq_linkedin_activity_unlocks_account_id_personnel_id"),
        ),
    )
    op.create_index(
        op.f("ix_linkedin_activity_unlocks_personnel_id"), "linkedin_activity_unlocks", ["personnel_id"]
    )


def downgrade() -> None:
    for table in ("linkedin_activity_unlocks", "contact_unlocks", "event_unlocks"):
        op.drop_table(table)
