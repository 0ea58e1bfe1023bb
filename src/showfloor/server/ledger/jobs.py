"""The periodic expiry sweep, registered with the background jobs when this module is imported."""

from __future__ import annotations

from datetime import UTC, datetime

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.jobs.background import PERIODIC_JOBS
from showfloor.server.ledger.expiry import expire_due

SWEEP_BATCH = 200  # grants per transaction, so one sweep never holds many account locks for long


async def sweep_expired(db: Database, settings: Settings) -> None:
    now = datetime.now(UTC)
    while True:
        async with db.write() as session:
            swept = await expire_due(session, now, limit=SWEEP_BATCH)
        if swept < SWEEP_BATCH:
            return


if sweep_expired not in PERIODIC_JOBS:
    PERIODIC_JOBS.append(sweep_expired)
