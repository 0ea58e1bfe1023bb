"""The owner's console: console users, one-time setup links, sessions, failed sign-ins; the last use of
each API key; an index on an account's ledger operations by time (the spend chart).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import BigId, UtcDateTime

revision = "0014"
down_revision = "0013"
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
        "console_users",
        sa.Column("id", BigId, primary_key=True),
        _fk("console_users", "account_id", "accounts.id"),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("password_set_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("email", name=op.f("uq_console_users_email")),
    )
    op.create_index("ix_console_users_account_id", "console_users", ["account_id"])
    op.create_table(
        "console_links",
        sa.Column("id", BigId, primary_key=True),
        _fk("console_links", "user_id", "console_users.id"),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_links_token_hash")),
    )
    op.create_index("ix_console_links_user_id", "console_links", ["user_id"])
    op.create_table(
        "console_sessions",
        sa.Column("id", BigId, primary_key=True),
        _fk("console_sessions", "user_id", "console_users.id"),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sessions_token_hash")),
    )
    op.create_index("ix_console_sessions_user_id", "console_sessions", ["user_id"])
    op.create_table(
        "console_login_failures",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_console_login_failures_subject", "console_login_failures", ["scope", "subject", "created_at"]
    )
    op.add_column("api_keys", sa.Column("last_used_at", UtcDateTime, nullable=True))
    op.create_index("ix_ledger_operations_account_created", "ledger_operations", ["account_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_operations_account_created", table_name="ledger_operations")
    # Plain ALTER on both backends (SQLite >= 3.35): a batch copy of api_keys would trip its foreign keys.
    op.execute("ALTER TABLE api_keys DROP COLUMN last_used_at")
    op.drop_table("console_login_failures")
    op.drop_table("console_sessions")
    op.drop_table("console_links")
    op.drop_table("console_users")
