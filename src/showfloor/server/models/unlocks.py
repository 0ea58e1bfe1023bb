"""Asynchronous contact unlock tasks (email or phone) and their items.

A task holds ``unit_price × item_count`` credits (``hold_id``) from the moment it is created; each item
is settled on its own (captured when delivered, released otherwise) and the task closes when every item
is settled. Workers claim items with leases (see ``showfloor.server.unlocks.claim``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class UnlockTask(Base):
    __tablename__ = "unlock_tasks"
    __table_args__ = (Index("ix_unlock_tasks_account_id_status", "account_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # "email" | "phone"
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), nullable=True)
    # "open" while items remain; then "completed" or "failed" (every item failed on provider errors).
    status: Mapped[str] = mapped_column(String(16))
    call_source: Mapped[str] = mapped_column(String(16))
    business_code: Mapped[str] = mapped_column(String(100))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    item_count: Mapped[int] = mapped_column(Integer)
    # Items not yet settled; decremented (row-locked) by each settlement, so exactly one closes the task.
    items_left: Mapped[int] = mapped_column(Integer)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("credit_holds.id"), nullable=True)
    # Hash of account + kind + event + the submitted ids while the task is open; NULL once finished.
    # Unique, so one intent can never have two open tasks, even under concurrent submissions.
    open_intent_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # The submission's skipped ids and reasons, replayed when the same intent is submitted again.
    submission: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class UnlockTaskItem(Base):
    __tablename__ = "unlock_task_items"
    __table_args__ = (
        UniqueConstraint("task_id", "personnel_id"),
        Index("ix_unlock_task_items_claim", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("unlock_tasks.id"))
    personnel_id: Mapped[int] = mapped_column(ForeignKey("personnel.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | processing | unlocked | failed
    # Claimable from this time: for a "pending" item the retry backoff, for a "processing" item the
    # lease expiry (a worker that died leaves an expired lease another worker takes over).
    available_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    value: Mapped[str | None] = mapped_column(String(320), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The capture that paid for it (NULL when released or free).
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_operations.id"), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WorkerHeartbeat(Base):
    """One row per live unlock worker (``showfloor worker`` or the embedded worker of ``serve``),
    refreshed every ``worker_heartbeat_seconds``; ``/readyz`` reads it (``unlocks.heartbeat``)."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "process" | "embedded"
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
