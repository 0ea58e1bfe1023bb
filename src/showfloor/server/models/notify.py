"""The transactional outbox and webhook delivery (see ``showfloor.server.notify`` and docs/webhooks.md).

An ``OutboxEvent`` is written in the same transaction as the change it reports, so it exists if and only
if that change committed. A worker later fans each event out to the account's matching endpoints (one
``WebhookDelivery`` per event and endpoint) and delivers them with no transaction open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The event types this endpoint receives; NULL: every type.
    event_types: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # ``whsec_…``, kept as issued because signing needs it (threat model in docs/webhooks.md).
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret also signs until ``previous_secret_until`` (receivers switch over).
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # enabled | disabled
    disabled_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # owner | failing
    # First failed attempt since the last successful one; NULL while the endpoint answers.
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        # A notice that must go out once (e.g. "grant 7 expires soon") carries a key: a second emit of
        # the same key writes nothing, whoever runs it.
        UniqueConstraint("account_id", "dedup_key"),
        # The fan-out reads only events not yet dispatched.
        Index(
            "ix_outbox_events_undispatched",
            "id",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
        Index("ix_outbox_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # evt_…, the webhook-id header
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedup_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_claim", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A pending delivery is claimable from this time: its retry time, or while an attempt is in flight
    # the end of that attempt's lease (a worker that died leaves a lease that expires).
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    give_up_at: Mapped[datetime] = mapped_column(UtcDateTime)  # failed after this (24 h of retries)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
