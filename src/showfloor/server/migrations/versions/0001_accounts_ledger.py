"""Accounts, API keys, plans and the credit ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import BigId, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("name", name=op.f("uq_plans_name")),
    )
    op.create_table(
        "plan_prices",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "plan_id",
            BigId,
            sa.ForeignKey("plans.id", ondelete="CASCADE", name=op.f("fk_plan_prices_plan_id_plans")),
            nullable=False,
        ),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.UniqueConstraint("plan_id", "action", name=op.f("uq_plan_prices_plan_id_action")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unlimited", sa.Boolean(), nullable=False),
        sa.Column(
            "plan_id", BigId, sa.ForeignKey("plans.id", name=op.f("fk_accounts_plan_id_plans")), nullable=True
        ),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("accounts.id", name=op.f("fk_api_keys_account_id_accounts")),
            nullable=False,
        ),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_account_id"), "api_keys", ["account_id"])
    op.create_table(
        "credit_grants",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("accounts.id", name=op.f("fk_credit_grants_account_id_accounts")),
            nullable=False,
        ),
        sa.Column("bucket", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("voided_at", UtcDateTime, nullable=True),
        sa.Column("expired_swept_at", UtcDateTime, nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
    )
    op.create_index("ix_credit_grants_account_spend", "credit_grants", ["account_id", "bucket", "expires_at"])
    op.create_table(
        "credit_holds",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("accounts.id", name=op.f("fk_credit_holds_account_id_accounts")),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("closed_at", UtcDateTime, nullable=True),
    )
    op.create_index(op.f("ix_credit_holds_account_id"), "credit_holds", ["account_id"])
    op.create_table(
        "hold_allocations",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "hold_id",
            BigId,
            sa.ForeignKey("credit_holds.id", name=op.f("fk_hold_allocations_hold_id_credit_holds")),
            nullable=False,
        ),
        sa.Column(
            "grant_id",
            BigId,
            sa.ForeignKey("credit_grants.id", name=op.f("fk_hold_allocations_grant_id_credit_grants")),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("hold_id", "grant_id", name=op.f("uq_hold_allocations_hold_id_grant_id")),
    )
    op.create_index(op.f("ix_hold_allocations_grant_id"), "hold_allocations", ["grant_id"])
    op.create_table(
        "ledger_operations",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("accounts.id", name=op.f("fk_ledger_operations_account_id_accounts")),
            nullable=False,
        ),
        sa.Column("op_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "api_key_id",
            BigId,
            sa.ForeignKey("api_keys.id", name=op.f("fk_ledger_operations_api_key_id_api_keys")),
            nullable=True,
        ),
        sa.Column("call_source", sa.String(16), nullable=True),
        sa.Column("business_code", sa.String(100), nullable=True),
        sa.Column("resource_type", sa.String(50), nullable=True),
        sa.Column("resource_id", sa.String(100), nullable=True),
        sa.Column(
            "hold_id",
            BigId,
            sa.ForeignKey("credit_holds.id", name=op.f("fk_ledger_operations_hold_id_credit_holds")),
            nullable=True,
        ),
        sa.Column(
            "ref_operation_id",
            BigId,
            sa.ForeignKey(
                "ledger_operations.id", name=op.f("fk_ledger_operations_ref_operation_id_ledger_operations")
            ),
            nullable=True,
        ),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("account_id", "op_key", name=op.f("uq_ledger_operations_account_id_op_key")),
    )
    op.create_index(op.f("ix_ledger_operations_hold_id"), "ledger_operations", ["hold_id"])
    op.create_index(op.f("ix_ledger_operations_ref_operation_id"), "ledger_operations", ["ref_operation_id"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "operation_id",
            BigId,
            sa.ForeignKey(
                "ledger_operations.id", name=op.f("fk_ledger_entries_operation_id_ledger_operations")
            ),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("accounts.id", name=op.f("fk_ledger_entries_account_id_accounts")),
            nullable=False,
        ),
        sa.Column(
            "grant_id",
            BigId,
            sa.ForeignKey("credit_grants.id", name=op.f("fk_ledger_entries_grant_id_credit_grants")),
            nullable=True,
        ),
        sa.Column("bucket", sa.String(16), nullable=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index(op.f("ix_ledger_entries_operation_id"), "ledger_entries", ["operation_id"])
    op.create_index(op.f("ix_ledger_entries_grant_id"), "ledger_entries", ["grant_id"])
    op.create_index("ix_ledger_entries_account_id_desc", "ledger_entries", ["account_id", "id"])


def downgrade() -> None:
    for table in (
        "ledger_entries",
        "ledger_operations",
        "hold_allocations",
        "credit_holds",
        "credit_grants",
        "api_keys",
        "accounts",
        "plan_prices",
        "plans",
    ):
        op.drop_table(table)
