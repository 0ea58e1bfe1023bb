"""What the Contacts pages read: the people whose email or phone the account unlocked, the names of a
selection or a task's people, and the account's unlock tasks. One query per page (or per 500 ids),
never one per person."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import unlocked_contact_values
from showfloor.server.db.uow import Database
from showfloor.server.models import ContactUnlock, Personnel, UnlockTask, UnlockTaskItem

CHUNK = 500
EXPORT_CHUNK = 1000


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    title: str | None
    company: str | None


@dataclass(frozen=True)
class UnlockedContact:
    person: Person
    email: str | None
    phone: str | None
    has_email: bool  # unlocked, even if no email was found
    has_phone: bool
    unlocked_at: datetime


async def people(session: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    found: dict[int, Person] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        rows = await session.execute(
            select(Personnel.id, Personnel.full_name, Personnel.title, Personnel.company_name).where(
                Personnel.id.in_(unique[start : start + CHUNK])
            )
        )
        found.update({int(pid): Person(int(pid), name, title, company) for pid, name, title, company in rows})
    return found


async def _contacts_of(
    session: AsyncSession, account_id: int, picked: Sequence[tuple[int, datetime]]
) -> list[UnlockedContact]:
    ids = [pid for pid, _ in picked]
    names = await people(session, ids)
    values = await unlocked_contact_values(session, account_id, ids)
    out = []
    for pid, at in picked:
        mine = values.get(pid, {})
        person = names.get(pid, Person(pid, f"Person {pid}", None, None))
        out.append(
            UnlockedContact(
                person, mine.get("email"), mine.get("phone"), "email" in mine, "phone" in mine, at
            )
        )
    return out


async def unlocked_page(
    session: AsyncSession, account_id: int, page: int, page_size: int
) -> tuple[list[UnlockedContact], int]:
    """People with an unlocked email or phone, most recently unlocked first, and how many there are."""
    mine = ContactUnlock.account_id == account_id
    total = int(
        await session.scalar(select(func.count(func.distinct(ContactUnlock.personnel_id))).where(mine)) or 0
    )
    last = func.max(ContactUnlock.created_at).label("last")
    picked = (
        await session.execute(
            select(ContactUnlock.personnel_id, last)
            .where(mine)
            .group_by(ContactUnlock.personnel_id)
            .order_by(last.desc(), ContactUnlock.personnel_id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    ).all()
    return await _contacts_of(session, account_id, [(int(p), at) for p, at in picked]), total


async def all_unlocked(db: Database, account_id: int) -> AsyncIterator[list[UnlockedContact]]:
    """Every unlocked contact in person-id order, a chunk per read unit (for the CSV export)."""
    after = 0
    while True:
        async with db.read() as session:
            picked = (
                await session.execute(
                    select(ContactUnlock.personnel_id, func.max(ContactUnlock.created_at))
                    .where(ContactUnlock.account_id == account_id, ContactUnlock.personnel_id > after)
                    .group_by(ContactUnlock.personnel_id)
                    .order_by(ContactUnlock.personnel_id)
                    .limit(EXPORT_CHUNK)
                )
            ).all()
            if not picked:
                return
            chunk = await _contacts_of(session, account_id, [(int(p), at) for p, at in picked])
        yield chunk
        after = int(picked[-1][0])


@dataclass(frozen=True)
class TaskSummary:
    id: int
    kind: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    item_count: int
    settled: int
    delivered: int
    unit_price: int

    @property
    def charged(self) -> int:
        return self.delivered * self.unit_price


def _summary(task: UnlockTask, delivered: dict[int, int]) -> TaskSummary:
    return TaskSummary(
        task.id,
        task.kind,
        task.status,
        task.created_at,
        task.finished_at,
        task.item_count,
        task.item_count - task.items_left,
        delivered.get(task.id, 0),
        int(task.unit_price),
    )


async def recent_tasks(session: AsyncSession, account_id: int, limit: int = 50) -> list[TaskSummary]:
    tasks = (
        await session.scalars(
            select(UnlockTask)
            .where(UnlockTask.account_id == account_id)
            .order_by(UnlockTask.id.desc())
            .limit(limit)
        )
    ).all()
    delivered = await _delivered(session, [t.id for t in tasks])
    return [_summary(t, delivered) for t in tasks]


async def _delivered(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, int]:
    if not task_ids:
        return {}
    rows = await session.execute(
        select(UnlockTaskItem.task_id, func.count())
        .where(UnlockTaskItem.task_id.in_(list(task_ids)), UnlockTaskItem.status == "unlocked")
        .group_by(UnlockTaskItem.task_id)
    )
    return {int(task_id): int(n) for task_id, n in rows}


async def task_summary(session: AsyncSession, account_id: int, task_id: int) -> TaskSummary | None:
    """The account's task (None for another account's or an unknown one)."""
    task = await session.get(UnlockTask, task_id)
    if task is None or task.account_id != account_id:
        return None
    return _summary(task, await _delivered(session, [task.id]))
