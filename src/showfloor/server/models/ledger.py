"""Credit ledger tables. Only ``showfloor.server.ledger`` writes them (see docs/ledger.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class CreditGrant(Base):
    """Credits put into an account in one bucket: subscription, addon or gift."""

    __tablename__ = "credit_grants"
    __table_args__ = (Index("ix_credit_grants_account_spend", "account_id", "bucket", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    bucket: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set when the expiry sweep has written this grant's ``expire`` entry.
    expired_swept_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class LedgerOperation(Base):
    """One ledger mutation (a grant, a charge, a hold, a capture …), idempotent by ``op_key``."""

    __tablename__ = "ledger_operations"
    # hold_id and ref_operation_id are NULL on most operations: partial indexes skip those rows.
    __table_args__ = (
        UniqueConstraint("account_id", "op_key"),
        # An account's operations over a period (the console's spend chart; migration 0014).
        Index("ix_ledger_operations_account_created", "account_id", "created_at"),
        Index(
            "ix_ledger_operations_hold_id",
            "hold_id",
            postgresql_where=text("hold_id IS NOT NULL"),
            sqlite_where=text("hold_id IS NOT NULL"),
        ),
        Index(
            "ix_ledger_operations_ref_operation_id",
            "ref_operation_id",
            postgresql_where=text("ref_operation_id IS NOT NULL"),
            sqlite_where=text("ref_operation_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    op_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    call_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    business_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resource_type: Mapped[str | None] = mapped_column(String(50), nullable=True)
    resource_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("credit_holds.id"), nullable=True)
    # A refund points at the debit or capture it gives back.
    ref_operation_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_operations.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LedgerEntry(Base):
    """Append-only: one row per grant an operation touched. ``amount`` is signed (into the grant > 0)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account_id_desc", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("ledger_operations.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("credit_grants.id"), nullable=True, index=True)
    bucket: Mapped[str | None] = mapped_column(String(16), nullable=True)
    type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CreditHold(Base):
    """Credits set aside for asynchronous work; ends captured (in part or whole) and released (the rest)."""

    __tablename__ = "credit_holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger, default=0)
    released: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class HoldAllocation(Base):
    """The part of a hold taken from one grant (held credits keep the grant they came from)."""

    __tablename__ = "hold_allocations"
    __table_args__ = (UniqueConstraint("hold_id", "grant_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("credit_holds.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("credit_grants.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger, default=0)
    released: Mapped[int] = mapped_column(BigInteger, default=0)
