"""What an account has bought access to: event layers and individual contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class EventUnlock(Base):
    """One access layer of one event for one account: ``base`` (exhibitors + personnel) or ``visitor``."""

    __tablename__ = "event_unlocks"
    __table_args__ = (UniqueConstraint("account_id", "event_id", "layer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    layer: Mapped[str] = mapped_column(String(16))
    # The ledger operation that paid for it (null when it cost nothing).
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_operations.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ContactUnlock(Base):
    """A contact's email or phone delivered to an account. Never charged twice: unique per kind."""

    __tablename__ = "contact_unlocks"
    __table_args__ = (UniqueConstraint("account_id", "personnel_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    personnel_id: Mapped[int] = mapped_column(ForeignKey("personnel.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "email" | "phone"
    # The value delivered, kept so the account still sees it if the catalog row changes later.
    value: Mapped[str | None] = mapped_column(String(320), nullable=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_operations.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LinkedinActivityUnlock(Base):
    """LinkedIn activity analysis started for a person by an account (idempotent per person)."""

    __tablename__ = "linkedin_activity_unlocks"
    __table_args__ = (UniqueConstraint("account_id", "personnel_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    personnel_id: Mapped[int] = mapped_column(ForeignKey("personnel.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # "processing" | "ready" | "failed"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
