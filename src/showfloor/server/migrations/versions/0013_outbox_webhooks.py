"""The transactional outbox (``outbox_events``), webhook endpoints and their deliveries.

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import BigId, UtcDateTime

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.Column[int]:
    target_table = target.split(".", 1)[0]
    return sa.Column(
        column,
        BigId,
        sa.ForeignKey(target, name=op.f(f"fk_{table}_{column}_{target_table}")),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", BigId, primary_key=True),
        _fk("webhook_endpoints", "account_id", "accounts.id"),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.Column("event_types", sa.JSON(), nullable=True),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100), nullable=True),
        sa.Column("previous_secret_until", UtcDateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("disabled_reason", sa.String(16), nullable=True),
        sa.Column("failing_since", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index(op.f("ix_webhook_endpoints_account_id"), "webhook_endpoints", ["account_id"])

    op.create_table(
        "outbox_events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        _fk("outbox_events", "account_id", "accounts.id"),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("dispatched_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("public_id", name=op.f("uq_outbox_events_public_id")),
        sa.UniqueConstraint("account_id", "dedup_key", name=op.f("uq_outbox_events_account_id_dedup_key")),
    )
    op.create_index(
        "ix_outbox_events_undispatched",
        "outbox_events",
        ["id"],
        postgresql_where=sa.text("dispatched_at IS NULL"),
        sqlite_where=sa.text("dispatched_at IS NULL"),
    )
    op.create_index("ix_outbox_events_created_at", "outbox_events", ["created_at"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, primary_key=True),
        _fk("webhook_deliveries", "event_id", "outbox_events.id"),
        _fk("webhook_deliveries", "endpoint_id", "webhook_endpoints.id"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("give_up_at", UtcDateTime, nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("last_attempt_at", UtcDateTime, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("delivered_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint(
            "event_id", "endpoint_id", name=op.f("uq_webhook_deliveries_event_id_endpoint_id")
        ),
    )
    op.create_index("ix_webhook_deliveries_claim", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_endpoint_id", "webhook_deliveries", ["endpoint_id", "id"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("outbox_events")
    op.drop_table("webhook_endpoints")
