"""Tables of the paid actions: stored responses of ``Idempotency-Key`` requests and concurrency slots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class IdempotencyRecord(Base):
    """One ``Idempotency-Key`` of one account: the request's fingerprint and, once done, its response.

    ``state`` is ``running`` while the first request holds the key (until ``locked_until``) and ``done``
    once its final response is stored (in the same transaction as any charge it made).
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # "running" | "done"
    # Random token of the request that holds a running key (a takeover after a crash changes it).
    owner_token: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ConcurrencySlot(Base):
    """A request in flight on an endpoint with a per-account concurrency cap (leased; expired slots free)."""

    __tablename__ = "concurrency_slots"
    __table_args__ = (Index("ix_concurrency_slots_account_scope", "account_id", "scope"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    scope: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
