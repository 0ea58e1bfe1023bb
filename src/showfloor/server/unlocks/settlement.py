"""Settling items in short transactions, and closing a task once every item is settled.

Idempotent per item: the item row is updated only while it is unsettled (a guarded UPDATE … RETURNING,
so of two racing settlements of one item exactly one gets the row); the ledger operations carry per-item
keys (``task:{t}:item:{i}:capture|release``), so a replay writes nothing.

A settlement is a handful of statements: the guarded item update; the task's fields; the contact rows
(INSERT … ON CONFLICT DO NOTHING: a person this account already has is released, never charged twice);
one ledger call for the hold (``ledger.service.settle_hold``: one round trip on PostgreSQL); the capture
ids onto items and contacts; the task counter decrement last. The rows many settlements share (the
hold, its grants, the task) are locked by the last statements only. Lock order: items, contacts, hold,
grants (by id), task — the same in every settlement; submissions lock the account and touch no existing
item; claims lock items only.

``settle_items`` settles several items of ONE task in one transaction (the worker's small groups, see
docs/ledger.md "Settlement groups"); ``settle_item`` is the one-item case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, Integer, Table, bindparam, case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import record_contact_unlocks, unlocked_contacts
from showfloor.server.db.fast import FastStatement, flush_pending
from showfloor.server.ledger.service import ChargeContext, HoldSettlement, release, settle_hold
from showfloor.server.models import ContactUnlock, CreditHold, UnlockTask, UnlockTaskItem

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


async def settle_items(
    session: AsyncSession, outcomes: Sequence[tuple[int, ItemOutcome]], now: datetime
) -> int:
    """Settle items of one task in the caller's transaction; returns how many were still unsettled
    (already settled items are left alone). Items of several tasks are refused (ValueError)."""
    by_id = dict(outcomes)
    if not by_id:
        return 0
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
    left = (await _DECREMENT.one(session, {"task_id": task.id, "settled": len(rows)}))[0]
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


_TASK_FIELDS = "id, account_id, api_key_id, kind, call_source, business_code, unit_price, hold_id"

# PostgreSQL: fixed statements over arrays, so each is compiled and prepared once whatever the group
# size (a statement per group size would be compiled, and prepared by the server, again and again).
# They are fast statements (db/fast.py): rows are read by position. The guard returns the item's id,
# task id and person, then the task's fields in ``_TASK_FIELDS`` order.
_PG_GUARD = FastStatement(
    text(
        "UPDATE unlock_task_items AS i SET status = x.status, value = coalesce(x.value, i.value), "
        "error_code = coalesce(x.error_code, i.error_code), settled_at = :now "
        "FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:vals AS text[]), "
        "CAST(:errors AS text[])) AS x(id, status, value, error_code), unlock_tasks AS t "
        "WHERE i.id = x.id AND i.status NOT IN ('unlocked', 'failed') AND t.id = i.task_id "
        "RETURNING i.id, i.task_id, i.personnel_id, "
        + ", ".join(f"t.{f.strip()}" for f in _TASK_FIELDS.split(","))
    )
)
_PG_LINK = FastStatement(
    text(
        "WITH items AS (UPDATE unlock_task_items AS i SET operation_id = x.op "
        "FROM unnest(CAST(:item_ids AS bigint[]), CAST(:ops AS bigint[])) AS x(id, op) WHERE i.id = x.id) "
        "UPDATE contact_unlocks AS c SET operation_id = x.op "
        "FROM unnest(CAST(:contact_ids AS bigint[]), CAST(:ops AS bigint[])) AS x(id, op) WHERE c.id = x.id"
    )
)
# The row-locking decrement of the task's counter (both backends).
_DECREMENT = FastStatement(
    update(TASKS)
    .where(TASKS.c.id == bindparam("task_id", type_=BigInteger))
    .values(items_left=TASKS.c.items_left - bindparam("settled", type_=Integer))
    .returning(TASKS.c.items_left)
)


def _is_pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _claim_for_settlement(
    session: AsyncSession, by_id: dict[int, ItemOutcome], now: datetime
) -> tuple[list[tuple[int, int, int]], _Task | None]:
    """The guarded update: (item, task, person) of the items that were still unsettled, and their task."""
    ids = sorted(by_id)  # one lock order for every settlement
    status = {i: "unlocked" if o.delivered else "failed" for i, o in by_id.items()}
    values = {i: o.value for i, o in by_id.items() if o.delivered}
    errors = {i: o.error_code or "UNLOCK_FAILED" for i, o in by_id.items() if not o.delivered}
    if _is_pg(session):
        params = {
            "now": now,
            "ids": ids,
            "statuses": [status[i] for i in ids],
            "vals": [values.get(i) for i in ids],
            "errors": [errors.get(i) for i in ids],
        }
        await flush_pending(session)
        found = await _PG_GUARD.all(session, params)
        rows = [(int(r[0]), int(r[1]), int(r[2])) for r in found]
        tasks = {_Task(*r[3:]) for r in found}
    else:
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
                select(*(table.c[f.strip()] for f in _TASK_FIELDS.split(","))).where(
                    table.c.id.in_({t for _, t, _ in rows})
                )
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
    if _is_pg(session):
        params = {"item_ids": ids, "contact_ids": [contacts[i] for i in ids], "ops": [items[i] for i in ids]}
        await _PG_LINK.all(session, params)
        return
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
