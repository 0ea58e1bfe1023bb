"""Settlement groups (docs/ledger.md): several items of one task settled in one transaction, each with
its own guard and ledger keys; one-item transactions stay available; a failing group falls back to
one transaction per item. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from showfloor.server.db.uow import Database
from showfloor.server.models import (
    Account,
    ContactUnlock,
    LedgerOperation,
    Plan,
    PlanPrice,
    UnlockTask,
    UnlockTaskItem,
)
from showfloor.server.unlocks import service
from showfloor.server.unlocks import worker as worker_module
from showfloor.server.unlocks.settlement import ItemOutcome, Settled, settle, settle_items
from tests.conftest import new_account
from tests.integration.unlock_support import (
    assert_settled_cleanly,
    available_now,
    drain,
    give_credits,
    op_total,
    seed_cast,
)


async def _submit(db: Database, account_id: int, ids: list[int]) -> int:
    async with db.write() as session:
        submitted = await service.submit(
            session,
            account_id=account_id,
            api_key_id=None,
            kind="email",
            personnel_ids=[str(i) for i in ids],
            event_ref=None,
            call_source="api",
        )
    assert submitted.task_id is not None
    return int(submitted.task_id)


async def _items(db: Database, task_id: int) -> dict[int, int]:
    """personnel id -> item id."""
    async with db.read() as session:
        rows = await session.execute(
            select(UnlockTaskItem.personnel_id, UnlockTaskItem.id).where(UnlockTaskItem.task_id == task_id)
        )
        return {int(p): int(i) for p, i in rows.all()}


async def test_a_group_settles_each_item_once_with_its_own_outcome(db: Database) -> None:
    account = await new_account(db)
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=4)
    people = list(cast.people.values())
    task = await _submit(db, account.id, people)
    items = await _items(db, task)
    delivered_a, delivered_b, failed, known = (items[p] for p in people)
    async with db.write() as session:  # the account got this contact another way meanwhile
        session.add(
            ContactUnlock(
                account_id=account.id, personnel_id=people[3], kind="email", value="kept@example.com",
                operation_id=None, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    group = [
        (delivered_a, ItemOutcome(value="a@example.com")),
        (failed, ItemOutcome(error_code="NO_EMAIL")),
        (known, ItemOutcome(value="new@example.com")),
        (delivered_b, ItemOutcome(value="b@example.com")),
    ]
    async with db.write() as session:
        assert (await settle_items(session, group, datetime.now(UTC))).items == 4
    async with db.write() as session:  # a replay of the whole group settles nothing again
        assert (await settle_items(session, group, datetime.now(UTC))).items == 0
    assert await op_total(db, account.id, "capture") == 15 * 2
    assert await available_now(db, account.id) == 1000 - 30
    async with db.read() as session:
        rows = {
            i.id: (i.status, i.value, i.error_code, i.operation_id is not None)
            for i in (await session.scalars(select(UnlockTaskItem))).all()
        }
        linked = dict(
            (await session.execute(select(ContactUnlock.personnel_id, ContactUnlock.operation_id))).all()
        )
    assert rows[delivered_a] == ("unlocked", "a@example.com", None, True)
    assert rows[delivered_b] == ("unlocked", "b@example.com", None, True)
    assert rows[failed] == ("failed", None, "NO_EMAIL", False)
    assert rows[known] == ("unlocked", "kept@example.com", None, False)  # shown, never charged twice
    assert linked[people[0]] is not None and linked[people[1]] is not None and linked[people[3]] is None
    await assert_settled_cleanly(db, account.id)


async def test_a_group_spanning_two_tasks_is_refused(db: Database) -> None:
    account = await new_account(db)
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=2)
    a, b = cast.people.values()
    item_a = next(iter((await _items(db, await _submit(db, account.id, [a]))).values()))
    item_b = next(iter((await _items(db, await _submit(db, account.id, [b]))).values()))
    with pytest.raises(ValueError):
        async with db.write() as session:
            await settle_items(
                session, [(item_a, ItemOutcome("a@x")), (item_b, ItemOutcome("b@x"))], datetime.now(UTC)
            )
    assert await op_total(db, account.id, "capture") == 0  # rolled back whole
    with pytest.raises(ValueError):  # the worker's path too (one statement on PostgreSQL)
        await settle(db, [(item_a, ItemOutcome("a@x")), (item_b, ItemOutcome("b@x"))], datetime.now(UTC))
    assert await op_total(db, account.id, "capture") == 0


@pytest.mark.parametrize("settle_group", [1, 32])
async def test_worker_with_and_without_groups(db: Database, settle_group: int) -> None:
    account = await new_account(db)
    await give_credits(db, account.id, 10_000)
    cast = await seed_cast(db, deliverable=12, no_email=5, ineligible=3)
    await _submit(db, account.id, list(cast.people.values()))
    assert await drain(db, concurrency=8, settle_group=settle_group) == 20
    assert await available_now(db, account.id) == 10_000 - 12 * 15
    await assert_settled_cleanly(db, account.id)


async def test_a_failing_group_is_settled_item_by_item(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    account = await new_account(db)
    await give_credits(db, account.id, 10_000)
    cast = await seed_cast(db, deliverable=10)
    await _submit(db, account.id, list(cast.people.values()))
    sizes: list[int] = []

    async def refuse_groups(db: Database, outcomes: list[Any], now: datetime) -> Settled:
        sizes.append(len(outcomes))
        if len(outcomes) > 1:
            raise RuntimeError("a group that cannot be settled")
        return await settle(db, outcomes, now)

    monkeypatch.setattr(worker_module, "settle", refuse_groups)
    assert await drain(db, concurrency=10, settle_group=32) == 10
    assert any(n > 1 for n in sizes)  # groups were tried, then each item alone
    assert await available_now(db, account.id) == 10_000 - 10 * 15
    await assert_settled_cleanly(db, account.id)


async def test_a_free_plan_settles_without_a_hold(db: Database) -> None:
    """A plan pricing contact emails at 0 makes tasks with no hold: items settle, contacts are recorded,
    nothing is written to the ledger, the task closes (PostgreSQL: the function's no-hold branch)."""
    account = await new_account(db)
    async with db.write() as session:
        plan = Plan(name="free-emails", created_at=datetime.now(UTC))
        session.add(plan)
        await session.flush()
        session.add(PlanPrice(plan_id=plan.id, action="contact_email", credits=0))
        (await session.get_one(Account, account.id)).plan_id = plan.id
    cast = await seed_cast(db, deliverable=3, no_email=2)
    async with db.write() as session:
        submitted = await service.submit(
            session, account_id=account.id, api_key_id=None, kind="email",
            personnel_ids=[str(p) for p in cast.people.values()], event_ref=None, call_source="api",
        )  # fmt: skip
        task = await session.get(UnlockTask, submitted.task_id)
        assert task is not None and task.hold_id is None
    assert await drain(db, concurrency=4) == 5
    async with db.read() as session:
        task = await session.get(UnlockTask, submitted.task_id)
        contacts = (await session.scalars(select(ContactUnlock.operation_id))).all()
        operations = await session.scalar(select(func.count()).select_from(LedgerOperation))
    assert task is not None and (task.status, task.items_left) == ("completed", 0)
    assert contacts == [None, None, None]
    assert operations == 0
