"""Notify's periodic job: the outbox purge (``periodic.PERIODIC_JOBS`` lists it with the expiry notices)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.notify import outbox


async def purge_outbox(db: Database, settings: Settings) -> None:
    """Events (and their deliveries) older than the retention. A ``credits.expiring`` notice must outlive
    its grant's notice window, or a second notice could be written for the same grant."""
    days = max(settings.webhook_retention_days, settings.credits_expiring_notice_days + 1)
    before = datetime.now(UTC) - timedelta(days=days)
    while True:
        async with db.write() as session:
            purged = await outbox.purge(session, before)
        if purged == 0:
            return
