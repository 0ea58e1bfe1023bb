"""Webhook gauges for ``/metrics``, read from the database at scrape time (registered on import)."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.metrics import GAUGE_REFRESHERS
from showfloor.server.models import OutboxEvent, WebhookDelivery

DELIVERIES = Gauge(
    "showfloor_webhook_deliveries",
    "Webhook deliveries waiting (pending) or given up (failed, within the retention).",
    ["state"],
    multiprocess_mode="mostrecent",
)
UNDISPATCHED = Gauge(
    "showfloor_outbox_events_undispatched",
    "Events not yet fanned out to webhook endpoints (growing: no delivery worker is running).",
    multiprocess_mode="mostrecent",
)


async def refresh_webhook_gauges(session: AsyncSession) -> None:
    counts = dict(
        (
            await session.execute(
                select(WebhookDelivery.state, func.count())
                .where(WebhookDelivery.state.in_(("pending", "failed")))
                .group_by(WebhookDelivery.state)
            )
        ).all()
    )
    for state in ("pending", "failed"):
        DELIVERIES.labels(state).set(float(counts.get(state, 0)))
    waiting = await session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
    )
    UNDISPATCHED.set(float(waiting or 0))


if refresh_webhook_gauges not in GAUGE_REFRESHERS:
    GAUGE_REFRESHERS.append(refresh_webhook_gauges)
