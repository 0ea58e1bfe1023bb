"""Real concurrency on PostgreSQL: duplicate submissions, racing workers, racing settlements."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from showfloor.server.db.uow import Database
from showfloor.server.errors import InsufficientCredits
from showfloor.server.models import CreditHold, UnlockTask, UnlockTaskItem
from showfloor.server.unlocks import service
from showfloor.server.unlocks.providers import DatasetProvider, FaultPlan, FaultProvider
from showfloor.server.unlocks.settlement import ItemOutcome, settle, settle_item
from tests.conftest import new_account
from tests.integration.unlock_support import (
    assert_settled_cleanly,
    available_now,
    drain,
    give_credits,
    seed_cast,
)


async def _submit(db: Database, account_id: int, ids: list[str]) -> service.Submission:
    async with db.write() as session:
        return await service.submit(
            session,
            account_id=account_id,
            api_key_id=None,
            kind="email",
            personnel_ids=ids,
            event_ref=None,
            call_source="api",
        )


async def test_concurrent_duplicate_submissions_create_one_task(pg_db: Database) -> None:
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 10_000)
    cast = await seed_cast(pg_db, deliverable=5)
    ids = [str(v) for v in cast.people.values()]
    results = await asyncio.gather(*(_submit(pg_db, account.id, list(reversed(ids))) for _ in range(8)))
    assert {r.task_id for r in results} == {results[0].task_id} and results[0].task_id is not None
    async with pg_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(UnlockTask)) == 1
        assert await session.scalar(select(func.count()).select_from(CreditHold)) == 1
    assert await available_now(pg_db, account.id) == 10_000 - 75


async def test_concurrent_overlapping_submissions_never_share_a_person(pg_db: Database) -> None:
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 10_000)
    cast = await seed_cast(pg_db, deliverable=6)
    ids = [str(v) for v in cast.people.values()]
    batches = [ids[i : i + 3] for i in range(4)]  # sliding windows overlap
    await asyncio.gather(*(_submit(pg_db, account.id, b) for b in batches))
    async with pg_db.read() as session:
        per_person = (
            await session.execute(
                select(UnlockTaskItem.personnel_id, func.count()).group_by(UnlockTaskItem.personnel_id)
            )
        ).all()
    assert all(n == 1 for _, n in per_person)
    assert await available_now(pg_db, account.id) == 10_000 - 15 * len(per_person)


async def test_concurrent_submissions_never_overspend(pg_db: Database) -> None:
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 100)
    cast = await seed_cast(pg_db, deliverable=10)
    ids = [str(v) for v in cast.people.values()]
    outcomes = await asyncio.gather(
        *(_submit(pg_db, account.id, ids[i : i + 2]) for i in range(0, 10, 2)), return_exceptions=True
    )
    accepted = [o for o in outcomes if isinstance(o, service.Submission)]
    refused = [o for o in outcomes if isinstance(o, InsufficientCredits)]
    assert len(accepted) == 3 and len(refused) == 2  # 3 × 30 = 90 ≤ 100 < 120
    assert await available_now(pg_db, account.id) == 10


async def test_two_workers_never_work_the_same_item(pg_db: Database) -> None:
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 10_000)
    cast = await seed_cast(pg_db, deliverable=30, no_email=10)
    await _submit(pg_db, account.id, [str(v) for v in cast.people.values()])
    providers = [FaultProvider(DatasetProvider(), FaultPlan(latency_ms=10)) for _ in range(2)]
    done = await asyncio.gather(
        *(drain(pg_db, p, worker_id=f"w{i}", concurrency=4) for i, p in enumerate(providers))
    )
    assert sum(done) == 40 and all(n > 0 for n in done)
    calls = providers[0].calls + providers[1].calls
    assert set(calls.values()) == {1} and len(calls) == 40
    async with pg_db.read() as session:
        attempts = set((await session.scalars(select(UnlockTaskItem.attempts))).all())
    assert attempts == {1}
    assert await available_now(pg_db, account.id) == 10_000 - 30 * 15
    await assert_settled_cleanly(pg_db, account.id)


async def test_racing_settlements_charge_once_and_close_the_task_once(pg_db: Database) -> None:
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 1000)
    cast = await seed_cast(pg_db, deliverable=4)
    await _submit(pg_db, account.id, [str(v) for v in cast.people.values()])
    async with pg_db.read() as session:
        item_ids = list((await session.scalars(select(UnlockTaskItem.id))).all())

    async def settle(item_id: int) -> bool:
        async with pg_db.write() as session:
            return await settle_item(session, item_id, ItemOutcome(value="x@example.com"), datetime.now(UTC))

    # Every item settled by three "workers" at once (an expired lease taken over mid-call).
    results = await asyncio.gather(*(settle(i) for i in item_ids for _ in range(3)))
    assert sum(results) == 4
    assert await available_now(pg_db, account.id) == 1000 - 60
    await assert_settled_cleanly(pg_db, account.id)


async def test_racing_single_statement_settlements_charge_once(pg_db: Database) -> None:
    """The worker's path (``settle``: one statement, no BEGIN/COMMIT), raced on every item and mixed
    outcomes: each item settles once, delivered ones are captured once, the task closes once."""
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 1000)
    cast = await seed_cast(pg_db, deliverable=6)
    await _submit(pg_db, account.id, [str(v) for v in cast.people.values()])
    async with pg_db.read() as session:
        item_ids = sorted((await session.scalars(select(UnlockTaskItem.id))).all())
    delivered = set(item_ids[:4])

    async def racer(item_id: int) -> int:
        outcome = (
            ItemOutcome(value=f"{item_id}@example.com")
            if item_id in delivered
            else ItemOutcome(error_code="NO_EMAIL")
        )
        return (await settle(pg_db, [(item_id, outcome)], datetime.now(UTC))).items

    results = await asyncio.gather(*(racer(i) for i in item_ids for _ in range(4)))
    assert sum(results) == 6
    assert await available_now(pg_db, account.id) == 1000 - 4 * 15
    async with pg_db.read() as session:
        task = (await session.scalars(select(UnlockTask))).one()
    assert (task.status, task.items_left, task.open_intent_key) == ("completed", 0, None)
    await assert_settled_cleanly(pg_db, account.id)
