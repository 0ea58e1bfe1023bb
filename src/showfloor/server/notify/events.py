"""The outbox: ``emit`` writes an event in the caller's transaction, so it exists iff the change did.

Every emission site calls ``emit`` (directly or through ``notify.hooks``) inside the unit of work that
makes the change; nothing is sent here. The delivery worker (``notify.worker``) later fans events out
to the account's webhook endpoints and delivers them with no transaction open.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.prepared import PreparedQuery, flush_pending
from showfloor.server.models import OutboxEvent

CREDITS_GRANTED = "credits.granted"
CREDITS_EXPIRING = "credits.expiring"
CREDITS_EXPIRED = "credits.expired"
CREDITS_BALANCE_ALERT = "credits.balance_alert"
SPEND_CAP_REACHED = "spend_cap.reached"
EVENT_UNLOCKED = "event.unlocked"
UNLOCK_TASK_COMPLETED = "unlock_task.completed"
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"

# Every type an endpoint may subscribe to (docs/webhooks.md describes each payload).
EVENT_TYPES = (
    CREDITS_GRANTED,
    CREDITS_EXPIRING,
    CREDITS_EXPIRED,
    CREDITS_BALANCE_ALERT,
    SPEND_CAP_REACHED,
    EVENT_UNLOCKED,
    UNLOCK_TASK_COMPLETED,
    WEBHOOK_ENDPOINT_DISABLED,
)


def new_event_id() -> str:
    """``evt_`` + 32 hex: the event's public id, sent as ``webhook-id`` on every attempt."""
    return f"evt_{secrets.token_hex(16)}"


def _insert(dedup: bool) -> PreparedQuery:
    """The outbox insert, built once per form: every paid action writes one, so it skips SQLAlchemy's
    per-execution statement machinery (AGENTS.md, prepared queries). With a dedup key a repeat writes
    nothing (``ON CONFLICT DO NOTHING``, each dialect's own construct)."""
    values: dict[str, Any] = {
        name: bindparam(name)
        for name in ("public_id", "account_id", "type", "payload", "dedup_key", "created_at")
    }

    def build(insert: Any) -> Any:
        stmt = insert(OutboxEvent).values(**values)
        if dedup:
            stmt = stmt.on_conflict_do_nothing(index_elements=["account_id", "dedup_key"])
        return stmt.returning(OutboxEvent.id)

    return PreparedQuery(build(postgresql.insert), sqlite=build(sqlite.insert))


_INSERT = {False: _insert(False), True: _insert(True)}


async def emit(
    session: AsyncSession,
    account_id: int,
    event_type: str,
    data: dict[str, Any],
    *,
    dedup_key: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """Write one event for ``account_id`` in the caller's transaction; returns its ``evt_…`` id.

    With ``dedup_key`` the event is written at most once per account and key, whoever emits it and
    however often (the database's unique constraint decides): a repeat returns None and writes nothing.
    ``data`` must be JSON (it is stored as given and becomes the payload's ``data``).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    public_id = new_event_id()
    values: dict[str, Any] = {
        "public_id": public_id,
        "account_id": account_id,
        "type": event_type,
        "payload": data,
        "dedup_key": dedup_key,
        "created_at": now or datetime.now(UTC),
    }
    if session.get_bind().dialect.name == "postgresql":
        await flush_pending(session)  # the insert bypasses the unit of work
        values["payload"] = json.dumps(data)  # the prepared path sends JSON as text (no type processing)
    written = await _INSERT[dedup_key is not None].first(session, values)
    return public_id if written is not None else None
