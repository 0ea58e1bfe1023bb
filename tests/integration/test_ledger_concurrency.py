"""LEDGER.md invariants 1–3 on PostgreSQL under real concurrency: 50 tasks, each its own transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from showfloor.server.db.uow import Database
from showfloor.server.errors import InsufficientCredits
from showfloor.server.ledger import service
from showfloor.server.ledger.balance import get_balance
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.models import LedgerEntry, LedgerOperation
from tests.conftest import new_account

TASKS = 50


async def give(db: Database, account_id: int, bucket: str, amount: int, expires: datetime | None) -> int:
    async with db.write() as session:
        return await service.grant(
            session, account_id, bucket, amount, expires_at=expires, op_key=f"{bucket}-{amount}-{expires}"
        )


async def debit_once(db: Database, account_id: int, amount: int, key: str) -> service.OperationResult | None:
    """One debit in a unit of work of its own."""
    ctx = service.ChargeContext(account_id)
    try:
        async with db.write() as session:
            return await service.debit(session, ctx, amount, key)
    except InsufficientCredits:
        return None


async def total_balance(db: Database, account_id: int) -> int:
    async with db.read() as session:
        return (await get_balance(session, account_id, datetime.now(UTC))).total_balance


async def assert_reconciles(db: Database) -> None:
    async with db.read() as session:
        assert await reconcile(session) == []


async def race_debits(db: Database, account_id: int) -> list[service.OperationResult | None]:
    return await asyncio.gather(*(debit_once(db, account_id, 50, f"debit-{i}") for i in range(TASKS)))


async def test_concurrent_debits_never_overspend(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await give(pg_db, acct.id, "gift", 1000, None)
    results = await race_debits(pg_db, acct.id)
    assert sum(r is not None for r in results) == 20
    assert sum(r is None for r in results) == 30
    assert await total_balance(pg_db, acct.id) == 0
    await assert_reconciles(pg_db)


async def test_concurrent_debits_across_several_grants(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    soon = datetime.now(UTC) + timedelta(days=10)
    later = soon + timedelta(days=20)
    # 1,000 credits over five grants whose sizes are not multiples of 50, so debits span grants.
    await give(pg_db, acct.id, "subscription", 230, later)
    await give(pg_db, acct.id, "subscription", 170, soon)
    await give(pg_db, acct.id, "addon", 260, soon)
    await give(pg_db, acct.id, "addon", 115, None)
    await give(pg_db, acct.id, "gift", 225, None)
    results = await race_debits(pg_db, acct.id)
    assert sum(r is not None for r in results) == 20
    assert await total_balance(pg_db, acct.id) == 0
    async with pg_db.read() as session:
        spanning = await session.scalar(
            select(func.count()).select_from(
                select(LedgerEntry.operation_id)
                .where(LedgerEntry.type == "debit")
                .group_by(LedgerEntry.operation_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    assert spanning and spanning > 0
    await assert_reconciles(pg_db)


async def test_concurrent_debits_with_holds_outstanding(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await give(pg_db, acct.id, "subscription", 700, datetime.now(UTC) + timedelta(days=30))
    await give(pg_db, acct.id, "gift", 800, None)
    async with pg_db.write() as session:
        first = await service.hold(session, service.ChargeContext(acct.id), 300, "hold-1")
        await service.hold(session, service.ChargeContext(acct.id), 200, "hold-2")
    assert await total_balance(pg_db, acct.id) == 1000

    async def capture_and_release() -> None:
        async with pg_db.write() as session:
            await service.capture(session, first.hold_id, 100, "cap-1")
        async with pg_db.write() as session:
            await service.release(session, first.hold_id, None, "rel-1")

    results, _ = await asyncio.gather(race_debits(pg_db, acct.id), capture_and_release())
    # The hold settlement frees 200 credits at some point during the race: 20 to 24 debits may win,
    # and every credit is accounted for exactly.
    won = sum(r is not None for r in results)
    assert 20 <= won <= 24
    assert await total_balance(pg_db, acct.id) == 1000 + 200 - 50 * won
    await assert_reconciles(pg_db)


async def test_same_operation_key_sent_concurrently_charges_once(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await give(pg_db, acct.id, "gift", 1000, None)
    results = await asyncio.gather(*(debit_once(pg_db, acct.id, 50, "one-intent") for _ in range(20)))
    assert all(r is not None for r in results)
    done = [r for r in results if r is not None]
    assert len({r.operation_id for r in done}) == 1
    assert sum(not r.replayed for r in done) == 1
    assert await total_balance(pg_db, acct.id) == 950
    async with pg_db.read() as session:
        ops = await session.scalar(
            select(func.count()).select_from(LedgerOperation).where(LedgerOperation.kind == "debit")
        )
    assert ops == 1
    await assert_reconciles(pg_db)


async def test_concurrent_holds_and_captures_never_overspend(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await give(pg_db, acct.id, "addon", 1000, None)

    async def hold_and_capture(i: int) -> bool:
        try:
            async with pg_db.write() as session:
                held = await service.hold(session, service.ChargeContext(acct.id), 50, f"h-{i}")
        except InsufficientCredits:
            return False
        async with pg_db.write() as session:
            await service.capture(session, held.hold_id, 30, f"c-{i}")
        async with pg_db.write() as session:
            await service.release(session, held.hold_id, None, f"r-{i}")
        return True

    won = sum(await asyncio.gather(*(hold_and_capture(i) for i in range(TASKS))))
    assert 20 <= won <= TASKS
    assert await total_balance(pg_db, acct.id) == 1000 - 30 * won
    await assert_reconciles(pg_db)
