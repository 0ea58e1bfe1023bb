"""Webhook endpoints of an account, as the API manages them (``/external/webhooks``, docs/webhooks.md).

Every function takes the caller's account: an endpoint or delivery of another account is NotFound,
exactly like one that does not exist. Services never commit; the request's unit of work does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.catalog.identifiers import parse_numeric_id
from showfloor.server.db.locking import for_update
from showfloor.server.errors import Conflict, InvalidRequest, NotFound, Unprocessable
from showfloor.server.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from showfloor.server.notify.events import EVENT_TYPES
from showfloor.server.notify.hooks import epoch_ms
from showfloor.server.notify.outbox import RETRY_WINDOW
from showfloor.server.notify.signing import new_secret
from showfloor.server.notify.targets import validate_url

MAX_ENDPOINTS = 20  # per account: each one multiplies the account's outbound traffic
ROTATION_GRACE = timedelta(hours=24)  # a rotated-out secret keeps signing this long


def _event_types(types: Sequence[str] | None) -> list[str] | None:
    if types is None:
        return None
    unknown = sorted({t for t in types if t not in EVENT_TYPES})
    if unknown:
        raise InvalidRequest(
            f"Unknown event type(s): {', '.join(unknown)}",
            field="event_types",
            allowed=list(EVENT_TYPES),
        )
    if not types:
        raise InvalidRequest("event_types must name at least one type (omit it to receive every type)")
    return [t for t in EVENT_TYPES if t in types]  # de-duplicated, in a stable order


async def create_endpoint(
    session: AsyncSession,
    account_id: int,
    *,
    url: str,
    event_types: Sequence[str] | None,
    description: str | None,
    allow_private: bool,
    now: datetime,
) -> dict[str, Any]:
    """A new enabled endpoint; the answer carries its signing secret (shown this once)."""
    url = validate_url(url, allow_private=allow_private)
    types = _event_types(event_types)
    count = await session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id)
    )
    if (count or 0) >= MAX_ENDPOINTS:
        raise Unprocessable(f"An account may have at most {MAX_ENDPOINTS} webhook endpoints")
    endpoint = WebhookEndpoint(
        account_id=account_id,
        url=url,
        description=description,
        event_types=types,
        secret=new_secret(),
        status="enabled",
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return {**endpoint_view(endpoint), "secret": endpoint.secret}


async def list_endpoints(
    session: AsyncSession, account_id: int, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    mine = WebhookEndpoint.account_id == account_id
    total = int(await session.scalar(select(func.count()).select_from(WebhookEndpoint).where(mine)) or 0)
    rows = await session.scalars(
        select(WebhookEndpoint)
        .where(mine)
        .order_by(WebhookEndpoint.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return [endpoint_view(e) for e in rows.all()], total


async def get_endpoint(session: AsyncSession, account_id: int, endpoint_ref: str) -> dict[str, Any]:
    return endpoint_view(await _endpoint(session, account_id, endpoint_ref))


async def set_enabled(
    session: AsyncSession, account_id: int, endpoint_ref: str, enabled: bool, now: datetime
) -> dict[str, Any]:
    """Disable (the owner's choice) or enable again; enabling forgets a failing streak, and deliveries
    still pending resume."""
    endpoint = await _endpoint(session, account_id, endpoint_ref, lock=True)
    if enabled:
        endpoint.status, endpoint.disabled_reason, endpoint.failing_since = "enabled", None, None
    elif endpoint.status == "enabled":
        endpoint.status, endpoint.disabled_reason = "disabled", "owner"
    endpoint.updated_at = now
    await session.flush()
    return endpoint_view(endpoint)


async def rotate_secret(
    session: AsyncSession, account_id: int, endpoint_ref: str, now: datetime
) -> dict[str, Any]:
    """A new secret (shown this once). The old one keeps signing, beside it, for 24 hours."""
    endpoint = await _endpoint(session, account_id, endpoint_ref, lock=True)
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, now + ROTATION_GRACE
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    await session.flush()
    return {**endpoint_view(endpoint), "secret": endpoint.secret}


async def delete_endpoint(session: AsyncSession, account_id: int, endpoint_ref: str) -> None:
    """Remove the endpoint and its deliveries (the events stay, for the account's other endpoints).
    Deliveries first, then the endpoint: the order a worker recording an attempt locks them in."""
    endpoint = await _endpoint(session, account_id, endpoint_ref)
    await session.execute(
        delete(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .execution_options(synchronize_session=False)
    )
    await session.delete(endpoint)
    await session.flush()


async def list_deliveries(
    session: AsyncSession,
    account_id: int,
    endpoint_ref: str,
    page: int,
    page_size: int,
    state: str | None,
) -> tuple[list[dict[str, Any]], int]:
    """The endpoint's deliveries, newest first (optionally only those in ``state``)."""
    endpoint = await _endpoint(session, account_id, endpoint_ref)
    where = [WebhookDelivery.endpoint_id == endpoint.id]
    if state is not None:
        where.append(WebhookDelivery.state == state)
    total = int(await session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where)) or 0)
    rows = await session.execute(
        select(WebhookDelivery, OutboxEvent.public_id, OutboxEvent.type)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(*where)
        .order_by(WebhookDelivery.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return [delivery_view(d, event_id, event_type) for d, event_id, event_type in rows.all()], total


async def redeliver(
    session: AsyncSession, account_id: int, endpoint_ref: str, delivery_ref: str, now: datetime
) -> dict[str, Any]:
    """Send a delivery again (same ``webhook-id``), whatever its state, with a new 24 hours of retries."""
    endpoint = await _endpoint(session, account_id, endpoint_ref)
    pk = parse_numeric_id(delivery_ref)
    found = (
        await session.execute(
            select(WebhookDelivery, OutboxEvent.public_id, OutboxEvent.type)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id == pk, WebhookDelivery.endpoint_id == endpoint.id)
        )
    ).first()
    if pk is None or found is None:
        raise NotFound(f"Webhook delivery not found: {delivery_ref}")
    if endpoint.status != "enabled":
        raise Conflict("The endpoint is disabled; enable it before redelivering")
    delivery, event_id, event_type = found
    delivery.state, delivery.next_attempt_at, delivery.give_up_at = "pending", now, now + RETRY_WINDOW
    delivery.lease_owner = None
    await session.flush()
    return delivery_view(delivery, event_id, event_type)


async def _endpoint(
    session: AsyncSession, account_id: int, endpoint_ref: str, *, lock: bool = False
) -> WebhookEndpoint:
    pk = parse_numeric_id(endpoint_ref)
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == pk, WebhookEndpoint.account_id == account_id)
    if lock:
        stmt = for_update(session, stmt)
    endpoint = (await session.scalars(stmt)).first() if pk is not None else None
    if endpoint is None:
        raise NotFound(f"Webhook endpoint not found: {endpoint_ref}")
    return endpoint


def endpoint_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "description": endpoint.description,
        "eventTypes": endpoint.event_types,
        "status": endpoint.status,
        "disabledReason": endpoint.disabled_reason,
        "failingSince": epoch_ms(endpoint.failing_since),
        "createdAt": epoch_ms(endpoint.created_at),
        "updatedAt": epoch_ms(endpoint.updated_at),
    }


def delivery_view(delivery: WebhookDelivery, event_id: str, event_type: str) -> dict[str, Any]:
    return {
        "id": str(delivery.id),
        "eventId": event_id,
        "eventType": event_type,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "nextAttemptAt": epoch_ms(delivery.next_attempt_at) if delivery.state == "pending" else None,
        "lastAttemptAt": epoch_ms(delivery.last_attempt_at),
        "lastStatus": delivery.last_status,
        "lastError": delivery.last_error,
        "deliveredAt": epoch_ms(delivery.delivered_at),
        "createdAt": epoch_ms(delivery.created_at),
    }
