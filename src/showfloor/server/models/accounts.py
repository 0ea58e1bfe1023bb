"""Accounts (API key owners), their API keys, and pricing plans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class Plan(Base):
    """A named price list. Prices a plan does not name fall back to the built-in defaults."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PlanPrice(Base):
    __tablename__ = "plan_prices"
    __table_args__ = (UniqueConstraint("plan_id", "action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(64))
    credits: Mapped[int] = mapped_column(Integer)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unlimited: Mapped[bool] = mapped_column(Boolean, default=False)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # First characters of the key, safe to show and log (e.g. "sk_1a2b3c4d").
    prefix: Mapped[str] = mapped_column(String(32))
    # SHA-256 of the whole key; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Noted in memory on each request and written at most once a minute per process (accounts/key_use.py).
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Agent policy (docs/agents.md): credits per UTC day this key's agent quotes may spend without a
    # human approval (None: every quote needs one), and whether its paid REST routes are closed (403).
    agent_daily_budget: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mcp_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
