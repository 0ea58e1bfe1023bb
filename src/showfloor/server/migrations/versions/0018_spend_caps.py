"""Spend controls: per-key spend caps and their per-period counters; per-account balance alerts.

``ledger_spend`` (new results: the cap refusal and the caps a spend reached) and ``ledger_settle`` (a
release gives the key's cap back) are installed again from their files; the downgrade restores the
previous text from ``migrations/previous/``.

Revision ID: 0018
Revises: 0019_agent_quotes (chained after main's migrations to merge caps into console2; the lead re-chains)
Create Date: 2026-12-03
"""

from __future__ import annotations

from importlib.resources import files

import sqlalchemy as sa
from alembic import op

from showfloor.server.db import sql_functions
from showfloor.server.db.base import BigId, UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

SPEND = "ledger_spend(text, bigint, bigint, text, timestamptz, bigint, text, text, text, text, boolean)"


def _api_key_fk(table: str) -> sa.Column[int]:
    return sa.Column(
        "api_key_id",
        BigId,
        sa.ForeignKey("api_keys.id", name=op.f(f"fk_{table}_api_key_id_api_keys")),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "api_key_spend_caps",
        _api_key_fk("api_key_spend_caps"),
        sa.Column("daily_cap", sa.BigInteger, nullable=True),
        sa.Column("monthly_cap", sa.BigInteger, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "api_key_spend_counters",
        _api_key_fk("api_key_spend_counters"),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("spent", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "balance_alerts",
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("accounts.id", name=op.f("fk_balance_alerts_account_id_accounts")),
            primary_key=True,
        ),
        sa.Column("threshold", sa.BigInteger, primary_key=True),
        sa.Column("low", sa.Boolean, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SPEND}")  # its results change: no CREATE OR REPLACE
        sql_functions.install(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SPEND}")
        previous = files("showfloor.server.migrations").joinpath("previous")
        for name in ("ledger_spend", "ledger_settle"):
            op.get_bind().exec_driver_sql(previous.joinpath(f"0018_{name}.sql").read_text(encoding="utf-8"))
    op.drop_table("balance_alerts")
    op.drop_table("api_key_spend_counters")
    op.drop_table("api_key_spend_caps")
