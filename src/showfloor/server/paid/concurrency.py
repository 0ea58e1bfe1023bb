"""Per-account caps on concurrent requests (exhibitor event search: 1, personnel events by name: 10).

Slots are rows in ``concurrency_slots`` so the cap holds across server processes. Taking a slot locks
the account row (the same lock every credit mutation takes first), frees expired slots, counts, and
inserts. A slot expires after ``SLOT_LEASE`` so a crashed request cannot hold it for ever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from showfloor.server.db.uow import Database
from showfloor.server.ledger.service import lock_account
from showfloor.server.models import ConcurrencySlot
from showfloor.server.paid.errors import ConcurrencyLimitExceeded

SLOT_LEASE = timedelta(seconds=120)


@dataclass(frozen=True)
class ConcurrencyLimit:
    scope: str
    limit: int


EXHIBITOR_EVENT_SEARCH = ConcurrencyLimit("exhibitor_event_search", 1)
PERSONNEL_EVENTS_BY_NAME = ConcurrencyLimit("personnel_events_by_name", 10)


async def acquire(db: Database, account_id: int, limit: ConcurrencyLimit) -> int:
    """Take a slot or raise ``ConcurrencyLimitExceeded``; returns the slot id to release."""
    now = datetime.now(UTC)
    async with db.write() as session:
        await lock_account(session, account_id)
        await session.execute(
            delete(ConcurrencySlot).where(
                ConcurrencySlot.account_id == account_id,
                ConcurrencySlot.scope == limit.scope,
                ConcurrencySlot.expires_at <= now,
            )
        )
        in_flight = await session.scalar(
            select(func.count())
            .select_from(ConcurrencySlot)
            .where(ConcurrencySlot.account_id == account_id, ConcurrencySlot.scope == limit.scope)
        )
        if int(in_flight or 0) >= limit.limit:
            raise ConcurrencyLimitExceeded()
        slot = ConcurrencySlot(
            account_id=account_id, scope=limit.scope, created_at=now, expires_at=now + SLOT_LEASE
        )
        session.add(slot)
        await session.flush()
        return slot.id


async def release(db: Database, slot_id: int) -> None:
    async with db.write() as session:
        await session.execute(delete(ConcurrencySlot).where(ConcurrencySlot.id == slot_id))


@asynccontextmanager
async def concurrency_slot(
    db: Database, account_id: int, limit: ConcurrencyLimit | None
) -> AsyncIterator[None]:
    """Hold a slot of ``limit`` for the duration of the block (no-op when ``limit`` is None)."""
    if limit is None:
        yield
        return
    slot_id = await acquire(db, account_id, limit)
    try:
        yield
    finally:
        await release(db, slot_id)
