"""The work-claim query: take up to N claimable unlock items under a lease, in one short transaction.

Claimable: ``pending`` items whose retry time has come, and ``processing`` items whose lease expired
(their worker died). On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets many workers claim at once without
waiting on or taking each other's rows; on SQLite the write unit already holds the database lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.locking import for_update
from showfloor.server.db.prepared import PreparedQuery, Row
from showfloor.server.db.uow import Database
from showfloor.server.models import Personnel, UnlockTask, UnlockTaskItem
from showfloor.server.unlocks.providers.base import Person


@dataclass(frozen=True)
class ClaimedItem:
    item_id: int
    task_id: int
    attempts: int  # including this one
    person: Person


ITEMS = cast(Table, UnlockTaskItem.__table__)


# PostgreSQL: the whole claim in one prepared query (db/prepared.py), the same steps as below: the oldest
# claimable rows of each state by index range scans (SKIP LOCKED), the oldest ``limit`` of them taken
# under the lease, returned with their task's kind and the person.
_PG_CLAIM = PreparedQuery(
    text(
        "WITH pending AS (SELECT id, available_at FROM unlock_task_items"
        "  WHERE status = 'pending' AND available_at <= :now"
        "  ORDER BY available_at LIMIT :limit FOR UPDATE SKIP LOCKED),"
        " expired AS (SELECT id, available_at FROM unlock_task_items"
        "  WHERE status = 'processing' AND available_at <= :now"
        "  ORDER BY available_at LIMIT :limit FOR UPDATE SKIP LOCKED),"
        " chosen AS (SELECT id FROM (SELECT * FROM pending UNION ALL SELECT * FROM expired) AS c"
        "  ORDER BY available_at, id LIMIT :limit),"
        " taken AS (UPDATE unlock_task_items AS i SET status = 'processing', available_at = :lease_until,"
        "  attempts = i.attempts + 1, lease_owner = :worker FROM chosen WHERE i.id = chosen.id"
        "  RETURNING i.id, i.task_id, i.attempts, i.personnel_id)"
        " SELECT taken.id AS item_id, taken.task_id, taken.attempts, t.kind, p.id AS personnel_id,"
        "  p.full_name, p.company_name, p.title, p.linkedin_url, p.email, p.phone, p.opted_out"
        " FROM taken JOIN unlock_tasks AS t ON t.id = taken.task_id"
        " JOIN personnel AS p ON p.id = taken.personnel_id ORDER BY taken.id"
    ).bindparams(bindparam("limit", type_=Integer))
)


async def claim(
    db: Database, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    """``claim_items`` as a transaction of its own (the worker's path)."""
    async with db.write() as session:
        return await claim_items(session, worker_id, limit, lease_seconds, now)


async def claim_items(
    session: AsyncSession, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    if session.get_bind().dialect.name == "postgresql":
        return await claim_in_one_statement(session, worker_id, limit, lease_seconds, now)
    return await claim_portably(session, worker_id, limit, lease_seconds, now)


async def claim_in_one_statement(
    session: AsyncSession, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    """PostgreSQL's fast path (AGENTS.md): the whole claim as one statement."""
    return _claimed(await _PG_CLAIM.all(session, _pg_params(worker_id, limit, lease_seconds, now)))


async def claim_portably(
    session: AsyncSession, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    """The claim on any database (SQLite's path; ``bench/portable.py`` runs it on PostgreSQL too)."""
    # The oldest claimable items of each state, merged: two index range scans in (status, available_at)
    # order instead of sorting every pending item of a large backlog on each claim. Rows locked but not
    # taken are unlocked again at commit.
    candidates = [
        row for status in ("pending", "processing") for row in await _oldest(session, status, limit, now)
    ]
    ids = [item_id for _, item_id in sorted(candidates)[:limit]]
    if not ids:
        return []
    await session.execute(
        update(ITEMS)
        .where(ITEMS.c.id.in_(ids))
        .values(
            status="processing",
            available_at=now + timedelta(seconds=lease_seconds),
            attempts=ITEMS.c.attempts + 1,
            lease_owner=worker_id,
        )
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


def _pg_params(worker_id: str, limit: int, lease_seconds: float, now: datetime) -> dict[str, Any]:
    return {
        "now": now,
        "limit": limit,
        "lease_until": now + timedelta(seconds=lease_seconds),
        "worker": worker_id,
    }


def _claimed(rows: Sequence[Row]) -> list[ClaimedItem]:
    return [
        ClaimedItem(
            int(r["item_id"]),
            int(r["task_id"]),
            int(r["attempts"]),
            Person(
                personnel_id=int(r["personnel_id"]),
                kind=r["kind"],
                full_name=r["full_name"],
                company_name=r["company_name"],
                title=r["title"],
                linkedin_url=r["linkedin_url"],
                email=r["email"],
                phone=r["phone"],
                opted_out=bool(r["opted_out"]),
            ),
        )
        for r in rows
    ]


async def _oldest(
    session: AsyncSession, status: str, limit: int, now: datetime
) -> list[tuple[datetime, int]]:
    stmt = (
        select(ITEMS.c.available_at, ITEMS.c.id)
        .where(ITEMS.c.status == status, ITEMS.c.available_at <= now)
        .order_by(ITEMS.c.available_at)
        .limit(limit)
    )
    return [
        (at, int(item_id))
        for at, item_id in (await session.execute(for_update(session, stmt, skip_locked=True))).all()
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
