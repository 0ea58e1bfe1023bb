"""Settling items in short transactions, and closing a task once every item is settled.

Idempotent per item: the item row is updated only while it is unsettled (a guarded UPDATE … RETURNING,
so of two racing settlements of one item exactly one gets the row); the ledger operations carry per-item
keys (``task:{t}:item:{i}:capture|release``), so a replay writes nothing.

A settlement: the guarded item update; the contact rows (INSERT … ON CONFLICT DO NOTHING: a person this
account already has is released, never charged twice); one ledger settlement per item on the task's
hold (``ledger.service.settle_hold``); the capture ids onto items and contacts; the task counter
decrement last, closing the task with the last item. Lock order: items, contacts, hold, grants (by id),
task — the same in every settlement; submissions lock the account and touch no existing item; claims
lock items only.

On PostgreSQL all of it is one call of ``unlock_settle_items`` (migration 0009, the same steps), so the
worker sends it as a transaction of its own (``settle``: no BEGIN/COMMIT round trips) and the hold and
task rows every item of a batch shares stay locked only while that statement finishes and commits.

``settle_items`` settles several items of ONE task in one transaction (the worker's small groups, see
docs/ledger.md "Settlement groups"); ``settle_item`` is the one-item case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Table, case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import record_contact_unlocks, unlocked_contacts
from showfloor.server.db.fast import FastStatement, flush_pending
from showfloor.server.db.uow import Database
from showfloor.server.ledger.service import ChargeContext, HoldSettlement, release, settle_hold
from showfloor.server.models import ContactUnlock, CreditHold, UnlockTask, UnlockTaskItem
from showfloor.server.notify import hooks as notify_hooks

# Core tables: the hot path skips the ORM's unit-of-work machinery.
ITEMS = cast(Table, UnlockTaskItem.__table__)
TASKS = cast(Table, UnlockTask.__table__)
CONTACTS = cast(Table, ContactUnlock.__table__)
SETTLED = ("unlocked", "failed")
# Item failures that mean "nothing to deliver", as opposed to the provider failing us.
NOT_FOUND_CODES = ("NO_EMAIL", "NO_PHONE", "INELIGIBLE")


@dataclass(frozen=True)
class ItemOutcome:
    value: str | None = None  # the delivered email/phone
    error_code: str | None = None

    @property
    def delivered(self) -> bool:
        return self.value is not None


async def settle_item(session: AsyncSession, item_id: int, outcome: ItemOutcome, now: datetime) -> bool:
    """Capture (delivered) or release (anything else) the item's share; False when already settled."""
    return await settle_items(session, [(item_id, outcome)], now) == 1


async def settle(db: Database, outcomes: Sequence[tuple[int, ItemOutcome]], now: datetime) -> int:
    """``settle_items`` as a transaction of its own (the worker's path): on PostgreSQL one statement
    sent with no BEGIN/COMMIT, elsewhere a write unit."""
    if db.is_sqlite:
        async with db.write() as session:
            return await settle_items(session, outcomes, now)
    if not outcomes:
        return 0
    return await _pg_settle(partial(db.run_alone, _PG_SETTLE), dict(outcomes), now)


async def settle_items(
    session: AsyncSession, outcomes: Sequence[tuple[int, ItemOutcome]], now: datetime
) -> int:
    """Settle items of one task in the caller's transaction; returns how many were still unsettled
    (already settled items are left alone). Items of several tasks are refused (ValueError)."""
    by_id = dict(outcomes)
    if not by_id:
        return 0
    if _is_pg(session):
        await flush_pending(session)
        return await _pg_settle(partial(_PG_SETTLE.all, session), by_id, now)
    rows, task = await _claim_for_settlement(session, by_id, now)
    if task is None:
        return 0
    delivered = {item_id: person for item_id, _, person in rows if by_id[item_id].delivered}
    contact_ids = await _record_contacts(session, task, delivered, by_id, now)
    settlements: list[HoldSettlement] = []
    captured_items: list[int] = []
    for item_id, _, person in sorted(rows):
        key = f"task:{task.id}:item:{item_id}"
        if person in contact_ids and item_id in delivered:
            captured_items.append(item_id)
            ctx = ChargeContext(
                account_id=task.account_id,
                api_key_id=task.api_key_id,
                call_source=task.call_source,
                business_code=task.business_code,
                resource_type=f"contact_{task.kind}",
                resource_id=str(person),
            )
            settlements.append(HoldSettlement("capture", task.unit_price, f"{key}:capture", ctx))
        else:  # not delivered, or delivered to this account before: shown, never charged twice
            settlements.append(HoldSettlement("release", task.unit_price, f"{key}:release"))
    if task.hold_id is not None:  # a free action (price 0) holds nothing
        results = await settle_hold(session, task.hold_id, settlements, now=now)
        operations = {s.op_key: r.operation_id for s, r in zip(settlements, results, strict=True)}
        captures = {i: operations[f"task:{task.id}:item:{i}:capture"] for i in captured_items}
        await _link_captures(session, captures, {i: contact_ids[delivered[i]] for i in captures})
    # Row-locking decrement, last: of two concurrent last settlements, the second sees the first's count.
    task_table = TASKS
    left = await session.scalar(
        update(task_table)
        .where(task_table.c.id == task.id)
        .values(items_left=task_table.c.items_left - len(rows))
        .returning(task_table.c.items_left)
    )
    if left == 0:
        await finish_task(session, task.id, now)
    return len(rows)


@dataclass(frozen=True)
class _Task:
    id: int
    account_id: int
    api_key_id: int | None
    kind: str
    call_source: str
    business_code: str
    unit_price: int
    hold_id: int | None


_TASK_FIELDS = (
    "id",
    "account_id",
    "api_key_id",
    "kind",
    "call_source",
    "business_code",
    "unit_price",
    "hold_id",
)

# PostgreSQL: the whole settlement, one fixed statement over arrays (prepared once whatever the group
# size). Returns how many items were still unsettled.
_PG_SETTLE = FastStatement(
    text(
        "SELECT settled FROM unlock_settle_items(CAST(:ids AS bigint[]), "
        "CAST(:statuses AS text[]), CAST(:vals AS text[]), CAST(:errors AS text[]), :now)"
    )
)


def _is_pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _outcome_columns(
    by_id: dict[int, ItemOutcome],
) -> tuple[list[int], dict[int, str], dict[int, str | None], dict[int, str]]:
    """Item ids in one lock order for every settlement, and each item's new status, value, error code."""
    ids = sorted(by_id)
    status = {i: "unlocked" if o.delivered else "failed" for i, o in by_id.items()}
    values = {i: o.value for i, o in by_id.items() if o.delivered}
    errors = {i: o.error_code or "UNLOCK_FAILED" for i, o in by_id.items() if not o.delivered}
    return ids, status, values, errors


async def _pg_settle(
    run: Callable[[dict[str, Any]], Awaitable[Sequence[Any]]], by_id: dict[int, ItemOutcome], now: datetime
) -> int:
    """Run ``unlock_settle_items`` through ``run`` (in a unit, or as its own transaction)."""
    try:
        rows = await run(_pg_params(by_id, now))
    except asyncpg.InvalidParameterValueError as error:  # SQLSTATE 22023: items of several tasks
        raise ValueError(str(error)) from error
    return int(rows[0][0])


def _pg_params(by_id: dict[int, ItemOutcome], now: datetime) -> dict[str, Any]:
    ids, status, values, errors = _outcome_columns(by_id)
    return {
        "now": now,
        "ids": ids,
        "statuses": [status[i] for i in ids],
        "vals": [values.get(i) for i in ids],
        "errors": [errors.get(i) for i in ids],
    }


async def _claim_for_settlement(
    session: AsyncSession, by_id: dict[int, ItemOutcome], now: datetime
) -> tuple[list[tuple[int, int, int]], _Task | None]:
    """SQLite: the guarded update — (item, task, person) of the items still unsettled, and their task."""
    ids, status, values, errors = _outcome_columns(by_id)
    items = ITEMS
    value = items.c.value if not values else case(values, value=items.c.id, else_=items.c.value)
    error_code = (
        items.c.error_code if not errors else case(errors, value=items.c.id, else_=items.c.error_code)
    )
    stmt = (
        update(items)
        .where(items.c.id.in_(ids), items.c.status.not_in(SETTLED))
        .values(status=case(status, value=items.c.id), value=value, error_code=error_code, settled_at=now)
        .returning(items.c.id, items.c.task_id, items.c.personnel_id)
    )
    rows = [(int(i), int(t), int(p)) for i, t, p in (await session.execute(stmt)).all()]
    table = TASKS
    task_rows = (
        await session.execute(
            select(*(table.c[f] for f in _TASK_FIELDS)).where(table.c.id.in_({t for _, t, _ in rows}))
        )
    ).all()
    tasks = {_Task(*r) for r in task_rows}
    if not rows:
        return [], None
    if len(tasks) != 1:
        raise ValueError("settle_items takes items of one task")
    return rows, tasks.pop()


async def _record_contacts(
    session: AsyncSession,
    task: _Task,
    delivered: dict[int, int],
    by_id: dict[int, ItemOutcome],
    now: datetime,
) -> dict[int, int]:
    """Record delivered contacts (``access`` semantics: unique per account, person and kind; a person the
    account already has is not recorded again). Returns person -> contact row id for the new ones, and
    shows already-unlocked people with the value the account already has."""
    if not delivered:
        return {}
    values = {person: by_id[item_id].value for item_id, person in delivered.items()}
    recorded = await record_contact_unlocks(session, task.account_id, task.kind, values, now)
    earlier_people = [p for p in delivered.values() if p not in recorded]
    if earlier_people:  # delivered to this account meanwhile (another task): show what it has
        earlier = await unlocked_contacts(session, task.account_id, earlier_people, task.kind)
        shown = {
            item_id: earlier.get(person) or by_id[item_id].value
            for item_id, person in delivered.items()
            if person not in recorded
        }
        items = ITEMS
        await session.execute(
            update(items).where(items.c.id.in_(sorted(shown))).values(value=case(shown, value=items.c.id))
        )
    return recorded


async def _link_captures(session: AsyncSession, items: dict[int, int], contacts: dict[int, int]) -> None:
    """Point items and contact rows at the capture that paid for them (item id -> operation id)."""
    if not items:
        return
    ids = sorted(items)
    item_table, contact_table = ITEMS, CONTACTS
    await session.execute(
        update(item_table)
        .where(item_table.c.id.in_(ids))
        .values(operation_id=case(items, value=item_table.c.id))
    )
    by_contact = {contacts[i]: op for i, op in items.items()}
    await session.execute(
        update(contact_table)
        .where(contact_table.c.id.in_(sorted(by_contact)))
        .values(operation_id=case(by_contact, value=contact_table.c.id))
    )


async def finish_task(session: AsyncSession, task_id: int, now: datetime) -> None:
    """Close the task: release what the hold still has, free the intent key, set the final status."""
    task = (
        await session.execute(
            select(UnlockTask).where(UnlockTask.id == task_id).execution_options(populate_existing=True)
        )
    ).scalar_one()
    if task.status != "open":
        return
    if task.hold_id is not None:
        held = await session.get(CreditHold, task.hold_id, populate_existing=True)
        if held is not None and held.amount - held.captured - held.released > 0:
            await release(session, task.hold_id, None, f"unlock-task:{task.id}:final-release")
    provider_failed = await session.scalar(
        select(func.count())
        .select_from(UnlockTaskItem)
        .where(
            UnlockTaskItem.task_id == task_id,
            UnlockTaskItem.status == "failed",
            UnlockTaskItem.error_code.not_in(NOT_FOUND_CODES),
        )
    )
    # "failed" only when the provider failed every item; otherwise the task completed (mixed outcomes).
    task.status = "failed" if provider_failed == task.item_count else "completed"
    task.open_intent_key = None
    task.finished_at = now
    await session.flush()
    await notify_hooks.unlock_task_completed(session, task, now)
