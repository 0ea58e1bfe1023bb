"""The periodic purge of idempotency records past their retention (kept at least 24 hours)."""

from __future__ import annotations

from datetime import UTC, datetime

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.idempotency.service import purge_expired
from showfloor.server.jobs.background import PERIODIC_JOBS


async def purge_idempotency_records(db: Database, settings: Settings) -> None:
    async with db.write() as session:
        await purge_expired(session, datetime.now(UTC))


if purge_idempotency_records not in PERIODIC_JOBS:
    PERIODIC_JOBS.append(purge_idempotency_records)
