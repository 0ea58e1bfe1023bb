"""The ledger service on both backends: spending order, expiry, holds, refunds, voids, sweep, unlimited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from showfloor.server.db.uow import Database
from showfloor.server.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound
from showfloor.server.ledger import service
from showfloor.server.ledger.balance import available, balance_after, get_balance
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.models import CreditGrant, CreditHold, LedgerEntry
from tests.conftest import new_account

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)


async def give(
    db: Database, account_id: int, bucket: str, amount: int, expires: datetime | None, key: str
) -> int:
    async with db.write() as session:
        return await service.grant(
            session, account_id, bucket, amount, expires_at=expires, op_key=key, now=T0
        )


async def entries_of(db: Database, operation_id: int) -> list[tuple[int | None, str, int]]:
    async with db.read() as session:
        rows = await session.execute(
            select(LedgerEntry.grant_id, LedgerEntry.type, LedgerEntry.amount)
            .where(LedgerEntry.operation_id == operation_id)
            .order_by(LedgerEntry.id)
        )
        return [(g, t, a) for g, t, a in rows.all()]


async def assert_reconciles(db: Database, now: datetime = T0) -> None:
    async with db.read() as session:
        assert await reconcile(session, now=now) == []


async def balances(db: Database, account_id: int, now: datetime = T0) -> dict[str, int]:
    async with db.read() as session:
        return (await get_balance(session, account_id, now)).balances


async def test_spending_order_across_buckets_and_expiries(db: Database) -> None:
    acct = await new_account(db)
    late_sub = await give(db, acct.id, "subscription", 100, T0 + days(60), "g1")
    early_sub = await give(db, acct.id, "subscription", 100, T0 + days(30), "g2")
    gift = await give(db, acct.id, "gift", 100, None, "g3")
    addon = await give(db, acct.id, "addon", 100, T0 + days(90), "g4")
    ctx = service.ChargeContext(acct.id, acct.key_id, "agent", "Test", "event", "e1")
    async with db.write() as session:
        first = await service.debit(session, ctx, 150, "d1", now=T0)
    assert await entries_of(db, first.operation_id) == [(early_sub, "debit", -100), (late_sub, "debit", -50)]
    async with db.write() as session:
        second = await service.debit(session, ctx, 120, "d2", now=T0)
    assert await entries_of(db, second.operation_id) == [(late_sub, "debit", -50), (addon, "debit", -70)]
    async with db.write() as session:
        third = await service.debit(session, ctx, 80, "d3", now=T0)
    assert await entries_of(db, third.operation_id) == [(addon, "debit", -30), (gift, "debit", -50)]
    assert await balances(db, acct.id) == {"subscription": 0, "addon": 0, "gift": 50}
    with pytest.raises(InsufficientCredits) as refused:
        async with db.write() as session:
            await service.debit(session, ctx, 51, "d4", now=T0)
    assert (refused.value.required, refused.value.available) == (51, 50)
    await assert_reconciles(db)


async def test_replayed_key_charges_once_and_other_reuse_is_refused(db: Database) -> None:
    acct = await new_account(db)
    await give(db, acct.id, "gift", 100, None, "g")
    ctx = service.ChargeContext(acct.id)
    async with db.write() as session:
        first = await service.debit(session, ctx, 30, "same", now=T0)
    async with db.write() as session:
        again = await service.debit(session, ctx, 30, "same", now=T0)
    assert (again.operation_id, again.amount, first.replayed, again.replayed) == (
        first.operation_id,
        30,
        False,
        True,
    )
    assert await balances(db, acct.id) == {"subscription": 0, "addon": 0, "gift": 70}
    with pytest.raises(Conflict):
        async with db.write() as session:
            await service.debit(session, ctx, 31, "same", now=T0)
    with pytest.raises(Conflict):
        async with db.write() as session:
            await service.hold(session, ctx, 30, "same", now=T0)


async def test_grant_replay_and_validation(db: Database) -> None:
    acct = await new_account(db)
    first = await give(db, acct.id, "addon", 10, None, "k")
    assert await give(db, acct.id, "addon", 10, None, "k") == first
    bad = [
        ("subscription", 10, None),  # subscription needs an expiry
        ("gift", 10, T0 + days(1)),  # gifts never expire
        ("bonus", 10, None),  # unknown bucket
        ("addon", 0, None),  # not positive
        ("addon", 10, T0 - days(1)),  # already expired
    ]
    for bucket, amount, expires in bad:
        with pytest.raises(InvalidRequest):
            await give(db, acct.id, bucket, amount, expires, f"bad-{bucket}-{amount}")
    with pytest.raises(NotFound):
        await give(db, 999_999, "gift", 10, None, "nobody")
    with pytest.raises(NotFound):
        async with db.write() as session:
            await service.lock_account(session, 999_999)


async def test_grant_expiring_between_two_reads(db: Database) -> None:
    acct = await new_account(db)
    await give(db, acct.id, "subscription", 500, T0 + days(1), "sub")
    await give(db, acct.id, "gift", 40, None, "gift")
    before, after = T0 + days(1) - timedelta(seconds=1), T0 + days(1)
    assert (await balances(db, acct.id, before))["subscription"] == 500
    assert await balances(db, acct.id, after) == {"subscription": 0, "addon": 0, "gift": 40}
    async with db.read() as session:
        assert await available(session, acct.id, after) == 40
        snapshot = await balance_after(session, acct.id, before)
    assert snapshot == {
        "subscriptionBalance": 500,
        "permanentBalance": 40,
        "totalBalance": 540,
        "unlimited": False,
    }
    with pytest.raises(InsufficientCredits):
        async with db.write() as session:
            await service.debit(session, service.ChargeContext(acct.id), 100, "late", now=after)
    # A reconcile at either moment passes: expiry is a read-time rule until the sweep writes it down.
    await assert_reconciles(db, before)
    await assert_reconciles(db, after)


async def test_reset_at_and_addon_expire_at(db: Database) -> None:
    acct = await new_account(db)
    spent = await give(db, acct.id, "subscription", 10, T0 + days(5), "s0")
    await give(db, acct.id, "subscription", 10, T0 + days(20), "s1")
    await give(db, acct.id, "subscription", 10, T0 + days(40), "s2")
    await give(db, acct.id, "addon", 10, T0 + days(50), "a1")
    await give(db, acct.id, "addon", 10, T0 + days(70), "a2")
    await give(db, acct.id, "addon", 10, None, "a3")
    async with db.write() as session:
        await service.debit(session, service.ChargeContext(acct.id), 10, "use-first", now=T0)
    async with db.read() as session:
        b = await get_balance(session, acct.id, T0)
        later = await get_balance(session, acct.id, T0 + days(30))
    assert spent and b.reset_at == T0 + days(20)  # the emptied grant no longer sets resetAt
    assert b.addon_expire_at == T0 + days(70)
    assert later.reset_at == T0 + days(40)
    async with db.read() as session:
        gone = await get_balance(session, acct.id, T0 + days(80))
    assert (gone.reset_at, gone.addon_expire_at, gone.balances["addon"]) == (None, None, 10)


async def test_holds_reduce_balance_partial_capture_then_release(db: Database) -> None:
    acct = await new_account(db)
    sub = await give(db, acct.id, "subscription", 100, T0 + days(30), "s")
    gift = await give(db, acct.id, "gift", 100, None, "g")
    ctx = service.ChargeContext(acct.id, acct.key_id, "api", "Contact Email Unlock - API", "task", "t1")
    async with db.write() as session:
        held = await service.hold(session, ctx, 150, "h", now=T0)
    assert await balances(db, acct.id) == {"subscription": 0, "addon": 0, "gift": 50}
    with pytest.raises(InsufficientCredits):
        async with db.write() as session:
            await service.debit(session, ctx, 60, "too-much", now=T0)
    async with db.write() as session:
        captured = await service.capture(session, held.hold_id, 120, "c1", now=T0)
    assert await entries_of(db, captured.operation_id) == [(sub, "capture", -100), (gift, "capture", -20)]
    with pytest.raises(Conflict):
        async with db.write() as session:
            await service.capture(session, held.hold_id, 31, "c2", now=T0)
    async with db.write() as session:
        released = await service.release(session, held.hold_id, None, "r1", now=T0)
    assert released.amount == 30 and await entries_of(db, released.operation_id) == [(gift, "release", 30)]
    assert await balances(db, acct.id) == {"subscription": 0, "addon": 0, "gift": 80}
    async with db.read() as session:
        row = await session.get(CreditHold, held.hold_id)
        assert row is not None and (row.state, row.captured, row.released) == ("closed", 120, 30)
    with pytest.raises(Conflict):
        async with db.write() as session:
            await service.release(session, held.hold_id, 1, "r2", now=T0)
    async with db.write() as session:  # replays still answer after the hold closed
        assert (await service.capture(session, held.hold_id, 120, "c1")).replayed
        assert (await service.hold(session, ctx, 150, "h")).hold_id == held.hold_id
    with pytest.raises(NotFound):
        async with db.write() as session:
            await service.capture(session, 999_999, 1, "nope")
    await assert_reconciles(db)


async def test_hold_on_expired_grant_capture_and_release(db: Database) -> None:
    acct = await new_account(db)
    sub = await give(db, acct.id, "subscription", 100, T0 + days(1), "s")
    async with db.write() as session:
        held = await service.hold(session, service.ChargeContext(acct.id), 100, "h", now=T0)
    after = T0 + days(2)
    async with db.write() as session:
        assert await service.expire_due(session, after) == 1
    async with db.write() as session:
        await service.capture(session, held.hold_id, 60, "c", now=after)
        released = await service.release(session, held.hold_id, None, "r", now=after)
    assert await entries_of(db, released.operation_id) == [(sub, "release", 40), (sub, "expire", -40)]
    async with db.read() as session:
        grant = await session.get(CreditGrant, sub)
        assert grant is not None and grant.remaining == 0
    await assert_reconciles(db, after)


async def test_refund_goes_back_to_the_debited_grants(db: Database) -> None:
    acct = await new_account(db)
    sub = await give(db, acct.id, "subscription", 50, T0 + days(30), "s")
    gift = await give(db, acct.id, "gift", 100, None, "g")
    async with db.write() as session:
        charged = await service.debit(session, service.ChargeContext(acct.id), 80, "d", now=T0)
        await service.debit(session, service.ChargeContext(acct.id), 10, "other", now=T0)
    async with db.write() as session:
        back = await service.refund(session, charged.operation_id, 40, "rf1")
    assert await entries_of(db, back.operation_id) == [(gift, "refund", 30), (sub, "refund", 10)]
    with pytest.raises(Conflict):
        async with db.write() as session:
            await service.refund(session, charged.operation_id, 41, "rf2")
    async with db.write() as session:
        assert (await service.refund(session, charged.operation_id, 40, "rf1")).replayed
        await service.refund(session, charged.operation_id, 40, "rf3")
    assert await balances(db, acct.id, T0) == {"subscription": 50, "addon": 0, "gift": 90}
    with pytest.raises(Conflict):
        async with db.write() as session:
            await service.refund(session, back.operation_id, 1, "refund-a-refund")
    with pytest.raises(NotFound):
        async with db.write() as session:
            await service.refund(session, 999_999, 1, "ghost")
    await assert_reconciles(db)


async def test_void_keeps_held_credits_capturable(db: Database) -> None:
    acct = await new_account(db)
    addon = await give(db, acct.id, "addon", 100, None, "a")
    async with db.write() as session:
        await service.debit(session, service.ChargeContext(acct.id), 10, "d", now=T0)
        held = await service.hold(session, service.ChargeContext(acct.id), 30, "h", now=T0)
    async with db.write() as session:
        voided = await service.void_grant(session, addon, "v")
    assert voided.amount == 60 and await entries_of(db, voided.operation_id) == [(addon, "void", -60)]
    assert await balances(db, acct.id) == {"subscription": 0, "addon": 0, "gift": 0}
    async with db.write() as session:
        assert (await service.void_grant(session, addon, "v")).replayed
    with pytest.raises(Conflict):
        async with db.write() as session:
            await service.void_grant(session, addon, "v2")
    async with db.write() as session:
        await service.capture(session, held.hold_id, 20, "c")
        released = await service.release(session, held.hold_id, None, "r")
    assert await entries_of(db, released.operation_id) == [(addon, "release", 10), (addon, "void", -10)]
    with pytest.raises(NotFound):
        async with db.write() as session:
            await service.void_grant(session, 999_999, "nothing")
    await assert_reconciles(db)


async def test_expire_sweep_writes_entries_once(db: Database) -> None:
    acct = await new_account(db)
    sub = await give(db, acct.id, "subscription", 100, T0 + days(1), "s")
    await give(db, acct.id, "addon", 70, T0 + days(3), "a")
    async with db.write() as session:
        await service.debit(session, service.ChargeContext(acct.id), 30, "d", now=T0)
    async with db.write() as session:
        assert await service.expire_due(session, T0 + days(2)) == 1
    async with db.write() as session:
        assert await service.expire_due(session, T0 + days(2)) == 0
    async with db.read() as session:
        rows = (
            (await session.execute(select(LedgerEntry).where(LedgerEntry.type == "expire"))).scalars().all()
        )
        grant = await session.get(CreditGrant, sub)
    assert [(e.grant_id, e.amount) for e in rows] == [(sub, -70)]
    assert grant is not None and grant.remaining == 0 and grant.expired_swept_at == T0 + days(2)
    await assert_reconciles(db, T0 + days(2))
    async with db.write() as session:
        assert await service.expire_due(session, T0 + days(10)) == 1
    await assert_reconciles(db, T0 + days(10))


async def test_unlimited_account_charged_past_zero_is_recorded(db: Database) -> None:
    acct = await new_account(db, "big", unlimited=True)
    gift = await give(db, acct.id, "gift", 30, None, "g")
    ctx = service.ChargeContext(acct.id, acct.key_id, "api", "Event Unlock - API", "event", "e9")
    async with db.write() as session:
        charged = await service.debit(session, ctx, 100, "d", now=T0)
        held = await service.hold(session, ctx, 50, "h", now=T0)
    assert await entries_of(db, charged.operation_id) == [(gift, "debit", -30), (None, "debit", -70)]
    assert await entries_of(db, held.operation_id) == [(None, "hold", -50)]
    async with db.write() as session:
        captured = await service.capture(session, held.hold_id, 20, "c", now=T0)
        await service.release(session, held.hold_id, None, "r", now=T0)
        refunded = await service.refund(session, charged.operation_id, 80, "rf")
    assert await entries_of(db, captured.operation_id) == [(None, "capture", -20)]
    assert await entries_of(db, refunded.operation_id) == [(None, "refund", 70), (gift, "refund", 10)]
    async with db.read() as session:
        snapshot = await balance_after(session, acct.id, T0)
    assert snapshot["unlimited"] is True and snapshot["totalBalance"] == 10
    await assert_reconciles(db)


async def test_invalid_amounts_are_refused(db: Database) -> None:
    acct = await new_account(db)
    await give(db, acct.id, "gift", 10, None, "g")
    ctx = service.ChargeContext(acct.id)
    async with db.write() as session:
        held = await service.hold(session, ctx, 5, "h", now=T0)
    async with db.write() as session:
        for call in (
            service.debit(session, ctx, 0, "x"),
            service.hold(session, ctx, -1, "x"),
            service.capture(session, held.hold_id, 0, "x"),
            service.release(session, held.hold_id, 0, "x"),
            service.refund(session, 1, 0, "x"),
            service.debit(session, ctx, 1, ""),
        ):
            with pytest.raises(InvalidRequest):
                await call
