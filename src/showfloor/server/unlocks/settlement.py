"""Settling contact-unlock items: capture what was delivered, release the rest, close finished tasks.

``settle_items`` settles a group of items of ONE task in the caller's transaction (the worker's groups:
up to ``worker_settle_group`` items, see docs/unlocks.md); ``settle`` is the same as a transaction of its
own. It is idempotent per item: an item row takes its outcome only while it is unsettled (a guarded
UPDATE … RETURNING, so of two racing settlements of one item exactly one gets the row), and each item's
ledger operation has its own key (``item_key``), so a replay writes nothing.

A settlement, in lock order (items by id, contacts by person, the hold and its grants, the task — the
same in every settlement): the guarded item update; the contact rows (INSERT … ON CONFLICT DO NOTHING:
a person this account already has is shown with the value it has, and released, never charged twice);
one ledger call for the whole group on the task's hold (``ledger_settle``: a capture per delivered
contact, a release per other item); the capture ids onto items and contacts; the task counter decrement
last, closing the task with its last item (``finish_task``: the final release, the status).

Two twins, chosen in ``settle_items``: on PostgreSQL the function of ``sql/unlock_settle.sql`` does the
group in one round trip (measured in docs/benchmarks.md, "Contact unlocks"); on SQLite the Python below.
``finish_task`` is Python on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Table, bindparam, case, exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import record_contact_unlocks, unlocked_contacts
from showfloor.server.db.engine import on_postgres
from showfloor.server.db.prepared import PreparedQuery, flush_pending
from showfloor.server.db.uow import Database
from showfloor.server.ledger.service import (
    ChargeContext,
    HoldSettlement,
    balance_changed,
    release,
    settle_hold,
)
from showfloor.server.metrics import count_charge
from showfloor.server.models import BalanceAlert, ContactUnlock, CreditHold, UnlockTask, UnlockTaskItem
from showfloor.server.notify import hooks as notify_hooks

# Core tables: the worker's hot path skips the ORM's unit-of-work machinery.
ITEMS = cast(Table, UnlockTaskItem.__table__)
TASKS = cast(Table, UnlockTask.__table__)
CONTACTS = cast(Table, ContactUnlock.__table__)
SETTLED = ("unlocked", "failed")
# Item failures that mean "nothing to deliver", as opposed to the provider failing us: a task whose every
# item failed for another reason is "failed", any other finished task "completed".
NOT_FOUND_CODES = ("NO_EMAIL", "NO_PHONE", "INELIGIBLE")


def item_key(task_id: int, item_id: int, kind: str) -> str:
    """The ledger operation key of one item's capture or release."""
    return f"task:{task_id}:item:{item_id}:{kind}"


def final_release_key(task_id: int) -> str:
    return f"unlock-task:{task_id}:final-release"


@dataclass(frozen=True)
class ItemOutcome:
    value: str | None = None  # the delivered email/phone
    error_code: str | None = None

    @property
    def delivered(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class FinishedTask:
    """A task closed by the settlement of its last item: what it delivered and what it cost."""

    task_id: int
    account_id: int
    kind: str
    status: str  # "completed" | "failed"
    item_count: int
    delivered: int
    not_delivered: dict[str, int]  # error code -> items
    credits_captured: int
    credits_released: int

    def log_fields(self) -> dict[str, int | str]:
        return {
            "task_id": self.task_id,
            "account_id": self.account_id,
            "kind": self.kind,
            "status": self.status,
            "delivered": self.delivered,
            "not_delivered": sum(self.not_delivered.values()),
            "credits_captured": self.credits_captured,
            "credits_released": self.credits_released,
        }

    def event_data(self) -> dict[str, Any]:
        """The ``unlock_task.completed`` event's ``data`` (docs/webhooks.md)."""
        return {
            "taskId": str(self.task_id),
            "kind": self.kind,
            "status": self.status,
            "itemCount": self.item_count,
            "delivered": self.delivered,
            "notDelivered": sum(self.not_delivered.values()),
            "notDeliveredReasons": dict(self.not_delivered),
            "creditsCaptured": self.credits_captured,
            "creditsReleased": self.credits_released,
        }


@dataclass(frozen=True)
class Settled:
    """What one settlement did: how many items were still unsettled, and the task it closed (if any)."""

    items: int
    finished: FinishedTask | None = None


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

    def capture_context(self, person: int) -> ChargeContext:
        """A delivered contact is charged to the task's key and source, as the contact it bought."""
        return ChargeContext(
            account_id=self.account_id,
            api_key_id=self.api_key_id,
            call_source=self.call_source,
            business_code=self.business_code,
            resource_type=f"contact_{self.kind}",
            resource_id=str(person),
        )


async def settle(db: Database, outcomes: Sequence[tuple[int, ItemOutcome]], now: datetime) -> Settled:
    """``settle_items`` as a transaction of its own."""
    async with db.write() as session:
        return await settle_items(session, outcomes, now)


async def settle_item(session: AsyncSession, item_id: int, outcome: ItemOutcome, now: datetime) -> bool:
    """One item; False when it was already settled."""
    return (await settle_items(session, [(item_id, outcome)], now)).items == 1


async def settle_items(
    session: AsyncSession, outcomes: Sequence[tuple[int, ItemOutcome]], now: datetime
) -> Settled:
    """Settle items of one task in the caller's transaction (already settled items are left alone), and
    close the task with its last item. Items of several tasks are refused (ValueError)."""
    by_id = dict(outcomes)
    if not by_id:
        return Settled(0)
    if on_postgres(session):
        settled, left, task_id = await _settle_on_postgres(session, by_id, now)
        if settled:  # as ``settle_hold`` does on SQLite: the settlement's balance alerts
            await _balance_changed(session, task_id, now)
    else:
        settled, left, task_id = await _settle_in_python(session, by_id, now)
    if not settled:
        return Settled(0)
    finished = await finish_task(session, task_id, now) if left == 0 else None
    return Settled(settled, finished)


# After ``unlock_settle`` (a statement of its own, so it sees what the settlement locked and changed): whose
# balance changed, and whether that account has balance alerts to evaluate (as ``ledger_spend`` reports).
_TASK_ALERTS = PreparedQuery(
    select(
        UnlockTask.account_id,
        UnlockTask.hold_id,
        exists()
        .where(BalanceAlert.account_id == UnlockTask.account_id)
        .correlate(UnlockTask)
        .label("alerts_set"),
    ).where(UnlockTask.id == bindparam("task_id", type_=BigInteger))
)


async def _balance_changed(session: AsyncSession, task_id: int, now: datetime) -> None:
    found = await _TASK_ALERTS.one(session, {"task_id": task_id})
    # A free action holds nothing (the ledger did not change); an account without alerts has none to flip.
    if found["hold_id"] is not None and found["alerts_set"]:
        await balance_changed(session, int(found["account_id"]), now)


def _outcome_arrays(by_id: dict[int, ItemOutcome]) -> dict[str, list[Any]]:
    """Item ids in one lock order for every settlement, and each item's status, value, error code."""
    ids = sorted(by_id)
    return {
        "ids": ids,
        "statuses": ["unlocked" if by_id[i].delivered else "failed" for i in ids],
        "vals": [by_id[i].value for i in ids],
        "errors": [None if by_id[i].delivered else by_id[i].error_code or "UNLOCK_FAILED" for i in ids],
    }


_UNLOCK_SETTLE = PreparedQuery(
    text(
        "SELECT settled, items_left, task_id FROM unlock_settle(CAST(:ids AS bigint[]), "
        "CAST(:statuses AS text[]), CAST(:vals AS text[]), CAST(:errors AS text[]), :now)"
    )
)


async def _settle_on_postgres(
    session: AsyncSession, by_id: dict[int, ItemOutcome], now: datetime
) -> tuple[int, int, int]:
    """The PostgreSQL twin, ``sql/unlock_settle.sql``: one round trip for the group."""
    await flush_pending(session)
    try:
        row = await _UNLOCK_SETTLE.one(session, {**_outcome_arrays(by_id), "now": now})
    except Exception as error:  # SQLSTATE 22023: items of several tasks
        if (
            getattr(error, "sqlstate", None) == "22023"
            or getattr(error.__cause__, "sqlstate", None) == "22023"
        ):
            raise ValueError("settle_items takes items of one task") from error
        raise
    return int(row["settled"]), int(row["items_left"] or 0), int(row["task_id"] or 0)


async def _settle_in_python(
    session: AsyncSession, by_id: dict[int, ItemOutcome], now: datetime
) -> tuple[int, int, int]:
    """The SQLite twin of ``sql/unlock_settle.sql``, step for step."""
    arrays = _outcome_arrays(by_id)
    rows = [
        (int(i), int(t), int(p))
        for i, t, p in (
            await session.execute(
                update(ITEMS)
                .where(ITEMS.c.id.in_(arrays["ids"]), ITEMS.c.status.not_in(SETTLED))
                .values(
                    status=case(dict(zip(arrays["ids"], arrays["statuses"], strict=True)), value=ITEMS.c.id),
                    value=func.coalesce(
                        case(dict(zip(arrays["ids"], arrays["vals"], strict=True)), value=ITEMS.c.id),
                        ITEMS.c.value,
                    ),
                    error_code=func.coalesce(
                        case(dict(zip(arrays["ids"], arrays["errors"], strict=True)), value=ITEMS.c.id),
                        ITEMS.c.error_code,
                    ),
                    settled_at=now,
                )
                .returning(ITEMS.c.id, ITEMS.c.task_id, ITEMS.c.personnel_id)
            )
        ).all()
    ]
    if not rows:
        return 0, 0, 0
    if len({task_id for _, task_id, _ in rows}) != 1:
        raise ValueError("settle_items takes items of one task")
    task = _Task(**(await session.execute(_TASK, {"task_id": rows[0][1]})).one()._mapping)
    people = {item: person for item, _, person in rows}
    delivered = {item: person for item, person in people.items() if by_id[item].delivered}
    contact_ids, shown = await _record_contacts(session, task, delivered, by_id, now)
    if shown:
        await session.execute(
            update(ITEMS).where(ITEMS.c.id == bindparam("item_id")).values(value=bindparam("shown")),
            [{"item_id": item, "shown": value} for item, value in sorted(shown.items())],
        )
    settlements: list[HoldSettlement] = []
    for item, person in sorted(people.items()):
        if item in delivered and person in contact_ids:
            ctx = task.capture_context(person)
            settlements.append(
                HoldSettlement("capture", task.unit_price, item_key(task.id, item, "capture"), ctx)
            )
        else:  # not delivered, or delivered to this account before: shown, never charged twice
            settlements.append(HoldSettlement("release", task.unit_price, item_key(task.id, item, "release")))
    if task.hold_id is not None:  # a free action (price 0) holds nothing
        results = await settle_hold(session, task.hold_id, settlements, now=now)
        paid_by = [
            (item, result.operation_id)
            for (item, _), result in zip(sorted(people.items()), results, strict=True)
            if item in delivered and people[item] in contact_ids
        ]
        if paid_by:
            await session.execute(
                update(ITEMS).where(ITEMS.c.id == bindparam("item_id")).values(operation_id=bindparam("op")),
                [{"item_id": item, "op": op} for item, op in paid_by],
            )
            await session.execute(
                update(CONTACTS)
                .where(CONTACTS.c.id == bindparam("contact_id"))
                .values(operation_id=bindparam("op")),
                [{"contact_id": contact_ids[people[item]], "op": op} for item, op in paid_by],
            )
    # Row-locking decrement, last: of two concurrent last settlements, the second sees the first's count.
    left = await session.scalar(
        update(TASKS)
        .where(TASKS.c.id == task.id)
        .values(items_left=TASKS.c.items_left - len(rows))
        .returning(TASKS.c.items_left)
    )
    return len(rows), int(left or 0), task.id


_TASK = select(
    TASKS.c.id,
    TASKS.c.account_id,
    TASKS.c.api_key_id,
    TASKS.c.kind,
    TASKS.c.call_source,
    TASKS.c.business_code,
    TASKS.c.unit_price,
    TASKS.c.hold_id,
).where(TASKS.c.id == bindparam("task_id"))


async def _record_contacts(
    session: AsyncSession,
    task: _Task,
    delivered: dict[int, int],
    by_id: dict[int, ItemOutcome],
    now: datetime,
) -> tuple[dict[int, int], dict[int, str | None]]:
    """Record delivered contacts (unique per account, person and kind: a person the account already has
    is not recorded again). Returns person -> contact row id for the new ones, and item -> the value the
    account already had for an item whose person it had (delivered to it meanwhile by another task)."""
    if not delivered:
        return {}, {}
    values = {person: by_id[item_id].value for item_id, person in delivered.items()}
    recorded = await record_contact_unlocks(session, task.account_id, task.kind, values, now)
    earlier_people = [p for p in delivered.values() if p not in recorded]
    if not earlier_people:
        return recorded, {}
    earlier = await unlocked_contacts(session, task.account_id, earlier_people, task.kind)
    shown = {
        item_id: earlier.get(person) or by_id[item_id].value
        for item_id, person in delivered.items()
        if person not in recorded
    }
    return recorded, shown


async def finish_task(session: AsyncSession, task_id: int, now: datetime) -> FinishedTask | None:
    """Close the task: release what the hold still has, free the intent key, set the final status.
    None when the task was already closed."""
    task = (
        await session.execute(
            select(UnlockTask).where(UnlockTask.id == task_id).execution_options(populate_existing=True)
        )
    ).scalar_one()
    if task.status != "open":
        return None
    captured = released = 0
    if task.hold_id is not None:
        held = await session.get(CreditHold, task.hold_id, populate_existing=True)
        assert held is not None
        if held.amount - held.captured - held.released > 0:
            await release(session, task.hold_id, None, final_release_key(task.id), now=now)
            await session.refresh(held)
        captured, released = held.captured, held.released
    outcomes = (
        await session.execute(
            select(UnlockTaskItem.status, UnlockTaskItem.error_code, func.count())
            .where(UnlockTaskItem.task_id == task_id)
            .group_by(UnlockTaskItem.status, UnlockTaskItem.error_code)
        )
    ).all()
    delivered = sum(int(n) for status, _, n in outcomes if status == "unlocked")
    not_delivered: dict[str, int] = {}
    for status, code, n in outcomes:
        if status != "unlocked":
            reason = code or "UNLOCK_FAILED"
            not_delivered[reason] = not_delivered.get(reason, 0) + int(n)
    provider_failed = sum(n for code, n in not_delivered.items() if code not in NOT_FOUND_CODES)
    # "failed" only when the provider failed every item; otherwise the task completed (mixed outcomes).
    task.status = "failed" if provider_failed == task.item_count else "completed"
    task.open_intent_key = None
    task.finished_at = now
    await session.flush()
    finished = FinishedTask(
        task.id,
        task.account_id,
        task.kind,
        task.status,
        task.item_count,
        delivered,
        not_delivered,
        int(captured),
        int(released),
    )
    # The task's captures, counted once (a task closes once) when this transaction commits.
    count_charge(session, task.business_code, task.call_source, int(captured))
    await notify_hooks.unlock_task_completed(session, finished.account_id, finished.event_data(), now)
    return finished
