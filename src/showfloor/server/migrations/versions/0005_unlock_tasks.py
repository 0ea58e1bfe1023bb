"""Asynchronous contact unlock tasks and their items.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import BigId, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, *, nullable: bool) -> sa.Column[int]:
    target_table = target.split(".", 1)[0]
    return sa.Column(
        column,
        BigId,
        sa.ForeignKey(target, name=op.f(f"fk_{table}_{column}_{target_table}")),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "unlock_tasks",
        sa.Column("id", BigId, primary_key=True),
        _fk("unlock_tasks", "account_id", "accounts.id", nullable=False),
        _fk("unlock_tasks", "api_key_id", "api_keys.id", nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        _fk("unlock_tasks", "event_id", "events.id", nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("call_source", sa.String(16), nullable=False),
        sa.Column("business_code", sa.String(100), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("items_left", sa.Integer(), nullable=False),
        _fk("unlock_tasks", "hold_id", "credit_holds.id", nullable=True),
        sa.Column("open_intent_key", sa.String(64), nullable=True),
        sa.Column("submission", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("open_intent_key", name=op.f("uq_unlock_tasks_open_intent_key")),
    )
    op.create_index("ix_unlock_tasks_account_id_status", "unlock_tasks", ["account_id", "status"])
    op.create_table(
        "unlock_task_items",
        sa.Column("id", BigId, primary_key=True),
        _fk("unlock_task_items", "task_id", "unlock_tasks.id", nullable=False),
        _fk("unlock_task_items", "personnel_id", "personnel.id", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("available_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("value", sa.String(320), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        _fk("unlock_task_items", "operation_id", "ledger_operations.id", nullable=True),
        sa.Column("settled_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint(
            "task_id", "personnel_id", name=op.f("uq_unlock_task_items_task_id_personnel_id")
        ),
    )
    op.create_index(op.f("ix_unlock_task_items_personnel_id"), "unlock_task_items", ["personnel_id"])
    op.create_index("ix_unlock_task_items_claim", "unlock_task_items", ["status", "available_at"])


def downgrade() -> None:
    op.drop_table("unlock_task_items")
    op.drop_table("unlock_tasks")
