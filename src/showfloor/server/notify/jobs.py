"""Notify's periodic jobs, registered with the background jobs when this module is imported: expiry
notices, the outbox purge, and (where the embedded worker runs) webhook delivery inside the server.
Importing it also registers the webhook gauges of ``/metrics``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.jobs.background import PERIODIC_JOBS
from showfloor.server.notify import metrics as _metrics  # noqa: F401  (registers the webhook gauges)
from showfloor.server.notify import outbox
from showfloor.server.notify.notices import send_expiring_notices
from showfloor.server.notify.worker import embedded_delivery


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


for _job in (send_expiring_notices, purge_outbox, embedded_delivery):
    if _job not in PERIODIC_JOBS:
        PERIODIC_JOBS.append(_job)
