"""Spend controls (docs/spend-controls.md): per-key spend caps with their per-period counters, and
per-account balance alerts with their per-threshold state.

Only ``ledger/`` writes the counters and alert states, inside the spend path under the account lock.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, UtcDateTime


class ApiKeySpendCap(Base):
    """An API key's caps in credits per UTC day and per UTC calendar month (NULL: no cap for that period)."""

    __tablename__ = "api_key_spend_caps"

    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    daily_cap: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    monthly_cap: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKeySpendCounter(Base):
    """What a capped key spent in one period: debits and holds taken in it, minus what was released of
    those holds. Kept only while the key has a cap (set-cap fills the current periods from the ledger)."""

    __tablename__ = "api_key_spend_counters"

    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # day | month
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    spent: Mapped[int] = mapped_column(BigInteger)


class BalanceAlert(Base):
    """One alert threshold of an account (0: the "depleted" alert) and whether the available balance is
    below it now (``low``), as the last balance change evaluated under the account lock left it."""

    __tablename__ = "balance_alerts"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    threshold: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    low: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
