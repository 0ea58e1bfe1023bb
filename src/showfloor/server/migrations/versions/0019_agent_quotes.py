"""Agent quotes (the MCP server's stored, single-use, approved quotes) and each API key's agent policy:
a daily agent budget and the MCP-only scope.

Revision ID: 0019_agent_quotes
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import BigId, UtcDateTime

revision = "0019_agent_quotes"
down_revision = "0018"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, *, nullable: bool = False) -> sa.Column[int]:
    target_table = target.split(".", 1)[0]
    return sa.Column(
        column,
        BigId,
        sa.ForeignKey(target, name=op.f(f"fk_{table}_{column}_{target_table}")),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "agent_quotes",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("public_id", sa.String(40), nullable=False),
        _fk("agent_quotes", "account_id", "accounts.id"),
        _fk("agent_quotes", "api_key_id", "api_keys.id"),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approved_via", sa.String(16), nullable=True),
        _fk("agent_quotes", "approved_by_key_id", "api_keys.id", nullable=True),
        sa.Column("approved_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("executed_at", UtcDateTime, nullable=True),
        sa.Column("charged", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.UniqueConstraint("public_id", name=op.f("uq_agent_quotes_public_id")),
    )
    op.create_index("ix_agent_quotes_account_id", "agent_quotes", ["account_id"])
    op.create_index(
        "ix_agent_quotes_key_budget_day", "agent_quotes", ["api_key_id", "approved_via", "executed_at"]
    )
    op.add_column("api_keys", sa.Column("agent_daily_budget", sa.Integer(), nullable=True))
    op.add_column("api_keys", sa.Column("mcp_only", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # Plain ALTER on both backends (SQLite >= 3.35): a batch copy of api_keys would trip its foreign keys.
    op.execute("ALTER TABLE api_keys DROP COLUMN mcp_only")
    op.execute("ALTER TABLE api_keys DROP COLUMN agent_daily_budget")
    op.drop_table("agent_quotes")
