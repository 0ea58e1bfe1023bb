"""The work-claim query: take up to N claimable unlock items under a lease, in one short transaction.

Claimable: ``pending`` items whose retry time has come, and ``processing`` items whose lease expired
(their worker died). On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets many workers claim at once without
waiting on or taking each other's rows; on SQLite the write unit already holds the database lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.locking import for_update
from showfloor.server.models import Personnel, UnlockTask, UnlockTaskItem
from showfloor.server.unlocks.providers.base import Person


@dataclass(frozen=True)
class ClaimedItem:
    item_id: int
    task_id: int
    attempts: int  # including this one
    person: Person


async def claim_items(
    session: AsyncSession, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    stmt = (
        select(UnlockTaskItem.id)
        .where(UnlockTaskItem.status.in_(("pending", "processing")), UnlockTaskItem.available_at <= now)
        .order_by(UnlockTaskItem.available_at, UnlockTaskItem.id)
        .limit(limit)
    )
    ids = list((await session.scalars(for_update(session, stmt, skip_locked=True))).all())
    if not ids:
        return []
    await session.execute(
        update(UnlockTaskItem)
        .where(UnlockTaskItem.id.in_(ids))
        .values(
            status="processing",
            available_at=now + timedelta(seconds=lease_seconds),
            attempts=UnlockTaskItem.attempts + 1,
            lease_owner=worker_id,
        )
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(
        select(UnlockTaskItem.id, UnlockTaskItem.task_id, UnlockTaskItem.attempts, UnlockTask.kind, Personnel)
        .join(UnlockTask, UnlockTask.id == UnlockTaskItem.task_id)
        .join(Personnel, Personnel.id == UnlockTaskItem.personnel_id)
        .where(UnlockTaskItem.id.in_(ids))
        .order_by(UnlockTaskItem.id)
    )
    return [
        ClaimedItem(
            item_id,
            task_id,
            attempts,
            Person(
                personnel_id=person.id,
                kind=kind,
                full_name=person.full_name,
                company_name=person.company_name,
                title=person.title,
                linkedin_url=person.linkedin_url,
                email=person.email,
                phone=person.phone,
                opted_out=bool(person.opted_out),
            ),
        )
        for item_id, task_id, attempts, kind, person in rows
    ]


async def reschedule(
    session: AsyncSession, item_id: int, worker_id: str, not_before: datetime, error_code: str
) -> None:
    """Hand a transiently failed item back for a later attempt (only while this worker still owns it)."""
    await session.execute(
        update(UnlockTaskItem)
        .where(
            UnlockTaskItem.id == item_id,
            UnlockTaskItem.status == "processing",
            UnlockTaskItem.lease_owner == worker_id,
        )
        .values(status="pending", available_at=not_before, error_code=error_code)
        .execution_options(synchronize_session=False)
    )
