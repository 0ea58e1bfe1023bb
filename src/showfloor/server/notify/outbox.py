"""The delivery worker's database steps, each a short transaction of its own (no network I/O inside):

- ``dispatch``: fan events not yet dispatched out to the account's enabled endpoints that subscribe to
  their type (one delivery per event and endpoint). An endpoint only ever receives its own account's
  events: the match is by the event's account.
- ``claim``: take due deliveries under a lease (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite's write
  unit holds the database lock) and read what their attempts need.
- ``record``: the attempt's outcome — delivered, retried later with backoff and jitter, or failed once
  its 24 hours of retries are over; an endpoint failing for 3 days is disabled and the owner told.

A claimed delivery stays ``pending`` with ``next_attempt_at`` at the end of its lease: if its worker
dies, the lease expires and another worker sends it again with the same ``webhook-id`` (at least once).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.locking import for_update
from showfloor.server.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from showfloor.server.notify.events import WEBHOOK_ENDPOINT_DISABLED, emit
from showfloor.server.notify.sender import Attempt, Outcome

RETRY_WINDOW = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=3)


def event_body(public_id: str, event_type: str, created_at: datetime, data: dict[str, Any]) -> bytes:
    """The JSON every endpoint receives for one event (the Standard Webhooks payload shape)."""
    timestamp = created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {"id": public_id, "type": event_type, "timestamp": timestamp, "data": data}
    return json.dumps(body, separators=(",", ":")).encode()


async def dispatch(session: AsyncSession, now: datetime, limit: int = 200) -> int:
    """Fan out up to ``limit`` undispatched events; returns how many events were dispatched."""
    undispatched = (
        select(OutboxEvent.id)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    ids = list((await session.scalars(for_update(session, undispatched, skip_locked=True))).all())
    events = [
        (int(event_id), int(account_id), str(event_type))
        for event_id, account_id, event_type in (
            await session.execute(
                select(OutboxEvent.id, OutboxEvent.account_id, OutboxEvent.type).where(
                    OutboxEvent.id.in_(ids)
                )
            )
        ).all()
    ]
    if not events:
        return 0
    endpoints = (
        await session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.account_id.in_({account for _, account, _ in events}),
                WebhookEndpoint.status == "enabled",
            )
        )
    ).all()
    rows = [
        {
            "event_id": event_id,
            "endpoint_id": endpoint.id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "give_up_at": now + RETRY_WINDOW,
            "created_at": now,
        }
        for event_id, account_id, event_type in events
        for endpoint in endpoints
        if endpoint.account_id == account_id
        and (endpoint.event_types is None or event_type in endpoint.event_types)
    ]
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_([event_id for event_id, _, _ in events]))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    return len(events)


async def claim(
    session: AsyncSession, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[Attempt]:
    """Take up to ``limit`` due deliveries of enabled endpoints under a lease of ``lease_seconds``."""
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.status == "enabled")
    due = for_update(
        session,
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.endpoint_id.in_(enabled.scalar_subquery()),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit),
        skip_locked=True,
    )
    ids = list((await session.scalars(due)).all())
    if not ids:
        return []
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .values(
            attempts=WebhookDelivery.attempts + 1,
            next_attempt_at=now + timedelta(seconds=lease_seconds),
            lease_owner=worker_id,
        )
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(
        select(
            WebhookDelivery.id,
            WebhookDelivery.attempts,
            OutboxEvent.public_id,
            OutboxEvent.type,
            OutboxEvent.created_at,
            OutboxEvent.payload,
            WebhookEndpoint,
        )
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.id)
    )
    return [
        Attempt(
            delivery_id=delivery_id,
            endpoint_id=endpoint.id,
            account_id=endpoint.account_id,
            attempt=attempts,
            event_id=public_id,
            url=endpoint.url,
            body=event_body(public_id, event_type, created_at, payload),
            secrets=signing_secrets(endpoint, now),
        )
        for delivery_id, attempts, public_id, event_type, created_at, payload, endpoint in rows
    ]


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the one rotated out while its grace period lasts."""
    out = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        out.append(endpoint.previous_secret)
    return out


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential (base × 2^(attempt−1), at most ``cap``) with jitter, so a failed burst spreads out."""
    delay: float = min(cap, base * 2.0 ** min(attempt - 1, 32))
    return delay * random.uniform(0.5, 1.0)


async def record(
    session: AsyncSession,
    attempt: Attempt,
    outcome: Outcome,
    now: datetime,
    worker_id: str,
    *,
    retry_base: float,
    retry_cap: float,
) -> str | None:
    """Write the attempt's outcome; returns the delivery's new state, or None when the lease was lost
    (another worker took the delivery over: its attempt is the one that counts)."""
    mine = (
        (WebhookDelivery.id == attempt.delivery_id)
        & (WebhookDelivery.state == "pending")
        & (WebhookDelivery.lease_owner == worker_id)
        & (WebhookDelivery.attempts == attempt.attempt)
    )
    common = {"last_attempt_at": now, "last_status": outcome.status, "lease_owner": None}
    if outcome.ok:
        values: dict[str, Any] = {**common, "state": "delivered", "delivered_at": now, "last_error": None}
    else:
        give_up_at = await session.scalar(select(WebhookDelivery.give_up_at).where(mine))
        if give_up_at is None:
            return None
        retry_at = now + timedelta(seconds=backoff_seconds(attempt.attempt, retry_base, retry_cap))
        values = {**common, "last_error": (outcome.error or "failed")[:500]}
        if now >= give_up_at:
            values["state"] = "failed"
        else:
            values.update(state="pending", next_attempt_at=min(retry_at, give_up_at))
    done = await session.execute(
        update(WebhookDelivery).where(mine).values(**values).execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        return None
    await _endpoint_health(session, attempt, outcome.ok, now)
    return str(values["state"])


async def _endpoint_health(session: AsyncSession, attempt: Attempt, ok: bool, now: datetime) -> None:
    """A success clears the failing streak; a failure starts or extends it, and after 3 days of it the
    endpoint is disabled and a ``webhook_endpoint.disabled`` event goes to the account's other ones."""
    if ok:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == attempt.endpoint_id, WebhookEndpoint.failing_since.is_not(None))
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
        return
    endpoint = (
        await session.execute(
            for_update(
                session, select(WebhookEndpoint).where(WebhookEndpoint.id == attempt.endpoint_id)
            ).execution_options(populate_existing=True)
        )
    ).scalar_one()
    if endpoint.status != "enabled":
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if now - endpoint.failing_since >= DISABLE_AFTER:
        endpoint.status, endpoint.disabled_reason, endpoint.updated_at = "disabled", "failing", now
        await emit(
            session, endpoint.account_id, WEBHOOK_ENDPOINT_DISABLED, disabled_notice(endpoint), now=now
        )
    await session.flush()


def disabled_notice(endpoint: WebhookEndpoint) -> dict[str, Any]:
    failing_since = endpoint.failing_since
    return {
        "endpointId": str(endpoint.id),
        "url": endpoint.url,
        "reason": "failing",
        "failingSince": None if failing_since is None else int(failing_since.timestamp() * 1000),
    }


async def purge(session: AsyncSession, before: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` events created before ``before`` (their deliveries go with them)."""
    ids = list(
        (
            await session.scalars(
                select(OutboxEvent.id)
                .where(OutboxEvent.created_at < before)
                .order_by(OutboxEvent.id)
                .limit(limit)
            )
        ).all()
    )
    if not ids:
        return 0
    await session.execute(
        delete(WebhookDelivery)
        .where(WebhookDelivery.event_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(OutboxEvent).where(OutboxEvent.id.in_(ids)).execution_options(synchronize_session=False)
    )
    return len(ids)
