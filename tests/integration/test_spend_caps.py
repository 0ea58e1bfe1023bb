"""Per-key spend caps on both backends (issue 19, item 1; docs/spend-controls.md): debits and holds count
when taken, releases give back, the cap refuses with 402 ``SPEND_CAP_EXCEEDED``, the counters reconcile
with the ledger, and ``spend_cap.reached`` is written once per key and period."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from showfloor.server.access import unlock as event_unlock
from showfloor.server.db.uow import Database
from showfloor.server.errors import (
    DomainError,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    SpendCapExceeded,
)
from showfloor.server.ledger import service, spend_caps
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.models import ApiKeySpendCounter, OutboxEvent
from showfloor.server.notify import hooks as notify_hooks
from showfloor.server.paid.decision import Caller
from tests.conftest import AccountFixture, new_account
from tests.integration.paid_support import debits, event_with, give

T0 = datetime(2030, 1, 31, 22, 0, tzinfo=UTC)  # two hours before a new day and a new month


async def fund(db: Database, account_id: int, amount: int = 1000) -> None:
    async with db.write() as session:
        await service.grant(session, account_id, "gift", amount, expires_at=None, op_key="fund", now=T0)


async def cap(db: Database, key_id: int, now: datetime = T0, **caps: Any) -> None:
    async with db.write() as session:
        await spend_caps.set_caps(session, key_id, now, **caps)


def ctx(acct: AccountFixture) -> service.ChargeContext:
    return service.ChargeContext(acct.id, api_key_id=acct.key_id, business_code="test")


async def debit(db: Database, acct: AccountFixture, amount: int, key: str, now: datetime = T0) -> int:
    async with db.write() as session:
        return (await service.debit(session, ctx(acct), amount, key, now=now)).operation_id


async def hold(db: Database, acct: AccountFixture, amount: int, key: str, now: datetime = T0) -> int:
    async with db.write() as session:
        return (await service.hold(session, ctx(acct), amount, key, now=now)).hold_id


async def cap_events(db: Database) -> list[dict[str, Any]]:
    async with db.read() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "spend_cap.reached").order_by(OutboxEvent.id)
        )
        return [dict(row.payload) for row in rows]


async def counters(db: Database, key_id: int) -> dict[tuple[str, str], int]:
    async with db.read() as session:
        rows = await session.scalars(
            select(ApiKeySpendCounter).where(ApiKeySpendCounter.api_key_id == key_id)
        )
        return {(r.period, r.period_start.isoformat()): r.spent for r in rows}


async def assert_reconciles(db: Database, now: datetime = T0) -> None:
    async with db.read() as session:
        assert await reconcile(session, now=now) == []


async def test_daily_cap_refuses_what_would_exceed_it(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    await cap(db, acct.key_id, daily=100)
    await debit(db, acct, 60, "d1")
    with pytest.raises(SpendCapExceeded) as refused:
        await debit(db, acct, 41, "d2")
    assert refused.value.code == "SPEND_CAP_EXCEEDED"
    assert refused.value.details == {"cap": 100, "period": "day", "spent": 60, "required": 41}
    await debit(db, acct, 40, "d3")  # exactly up to the cap is allowed
    assert await counters(db, acct.key_id) == {("day", "2030-01-31"): 100}
    await assert_reconciles(db)


async def test_a_new_day_starts_from_zero_while_the_month_counts_on(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    await cap(db, acct.key_id, daily=100, monthly=150)
    await debit(db, acct, 100, "d1")
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 1, "d2")
    later = T0 + timedelta(hours=1, minutes=59)  # still 31 January
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 1, "d3", now=later)
    feb = T0 + timedelta(hours=3)  # 1 February: a new day and a new month
    await debit(db, acct, 100, "d4", now=feb)
    assert await counters(db, acct.key_id) == {
        ("day", "2030-01-31"): 100,
        ("month", "2030-01-01"): 100,
        ("day", "2030-02-01"): 100,
        ("month", "2030-02-01"): 100,
    }
    await assert_reconciles(db, feb)


async def test_monthly_cap_refuses_across_days(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    now = datetime(2030, 3, 1, tzinfo=UTC)
    await cap(db, acct.key_id, now, monthly=50)
    await debit(db, acct, 30, "d1", now=now)
    with pytest.raises(SpendCapExceeded) as refused:
        await debit(db, acct, 30, "d2", now=now + timedelta(days=5))
    assert refused.value.details == {"cap": 50, "period": "month", "spent": 30, "required": 30}


async def test_holds_count_and_releases_give_back(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    await cap(db, acct.key_id, daily=100)
    held = await hold(db, acct, 80, "h1")
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 21, "d1")
    async with db.write() as session:
        await service.capture(session, held, 30, "c1", now=T0)  # a capture was counted when held
        await service.release(session, held, 20, "r1", now=T0)
    assert await counters(db, acct.key_id) == {("day", "2030-01-31"): 60}
    await debit(db, acct, 40, "d2")
    async with db.write() as session:
        await service.release(session, held, None, "r2", now=T0)  # the final release: 30 more back
    assert await counters(db, acct.key_id) == {("day", "2030-01-31"): 70}
    await assert_reconciles(db)


async def test_a_release_on_a_later_day_gives_back_to_the_holds_day(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    await cap(db, acct.key_id, daily=100)
    held = await hold(db, acct, 100, "h1")
    tomorrow = T0 + timedelta(hours=4)
    await debit(db, acct, 100, "d1", now=tomorrow)  # a new day: its own 100
    async with db.write() as session:
        await service.release(session, held, None, "r1", now=tomorrow)
    assert await counters(db, acct.key_id) == {("day", "2030-01-31"): 0, ("day", "2030-02-01"): 100}
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 1, "d2", now=tomorrow)
    await assert_reconciles(db, tomorrow)


async def test_funds_are_checked_before_the_cap(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id, 10)
    await cap(db, acct.key_id, daily=5)
    with pytest.raises(InsufficientCredits):
        await debit(db, acct, 11, "d1")
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 6, "d2")


async def test_unlimited_accounts_and_replays(db: Database) -> None:
    acct = await new_account(db, unlimited=True)
    await cap(db, acct.key_id, daily=10)
    await debit(db, acct, 10, "d1")
    await debit(db, acct, 10, "d1")  # a replay counts nothing
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 1, "d2")
    assert await counters(db, acct.key_id) == {("day", "2030-01-31"): 10}
    await assert_reconciles(db)


async def test_other_keys_and_unattributed_spends_are_not_capped(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    await cap(db, acct.key_id, daily=10)
    async with db.write() as session:
        await service.debit(session, service.ChargeContext(acct.id), 500, "console", now=T0)
    assert await counters(db, acct.key_id) == {("day", "2030-01-31"): 0}


async def test_setting_a_cap_counts_what_the_key_already_spent(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    held = await hold(db, acct, 50, "h1")
    await debit(db, acct, 30, "d1")
    async with db.write() as session:
        await service.release(session, held, 20, "r1", now=T0)
    await cap(db, acct.key_id, daily=100)
    assert await counters(db, acct.key_id) == {("day", "2030-01-31"): 60}
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 41, "d2")
    await cap(db, acct.key_id, monthly=500)  # the daily cap stays
    async with db.read() as session:
        uses = await spend_caps.uses(session, acct.key_id, T0)
    assert [(u.period, u.cap, u.spent) for u in uses] == [("day", 100, 60), ("month", 500, 60)]
    await cap(db, acct.key_id, daily=0)  # 0 removes the daily cap only
    await debit(db, acct, 41, "d3")
    await cap(db, acct.key_id, clear=True)
    assert await counters(db, acct.key_id) == {}
    await debit(db, acct, 600, "d4")
    await assert_reconciles(db)


async def test_bad_caps_are_refused(db: Database) -> None:
    acct = await new_account(db)
    with pytest.raises(InvalidRequest):
        await cap(db, acct.key_id, daily=-1)
    with pytest.raises(NotFound):
        await cap(db, 999_999, daily=1)


async def test_reconcile_names_a_counter_the_ledger_does_not_explain(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    await cap(db, acct.key_id, daily=100)
    await debit(db, acct, 10, "d1")
    async with db.write() as session:
        row = (await session.scalars(select(ApiKeySpendCounter))).one()
        row.spent = 3
    async with db.read() as session:
        problems = await reconcile(session, now=T0)
    assert problems == [
        f"account {acct.id}: api key {acct.key_id}: spend counter day 2030-01-31 is 3, the ledger says 10"
    ]


async def test_reaching_a_cap_is_told_once_per_key_and_period(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    await cap(db, acct.key_id, daily=100)
    await debit(db, acct, 100, "d1")  # reached exactly: in the debit's transaction
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 5, "d2")  # refused: the same period, told already
    (reached,) = await cap_events(db)
    day_start = int(datetime(2030, 1, 31, tzinfo=UTC).timestamp() * 1000)
    assert reached == {
        "apiKeyId": str(acct.key_id),
        "period": "day",
        "periodStart": day_start,
        "cap": 100,
        "spent": 100,
        "refused": False,
        "required": None,
    }


async def test_a_refusal_is_told_although_its_transaction_rolls_back(db: Database) -> None:
    acct = await new_account(db)
    await fund(db, acct.id)
    await cap(db, acct.key_id, daily=100)
    await debit(db, acct, 90, "d1")
    for key in ("d2", "d3"):
        with pytest.raises(SpendCapExceeded):
            await debit(db, acct, 20, key)
    (refused,) = await cap_events(db)
    assert (refused["refused"], refused["spent"], refused["required"]) == (True, 90, 20)
    feb = T0 + timedelta(hours=3)
    with pytest.raises(SpendCapExceeded):
        await debit(db, acct, 101, "d4", now=feb)  # a new day: told again
    assert len(await cap_events(db)) == 2
    await assert_reconciles(db, feb)


# -- through the API and the paid actions ------------------------------------------------------------------


async def test_a_capped_key_gets_402_and_precheck_says_why(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give(db, account.id, 10_000)
    first, second = await event_with(db), await event_with(db)
    await cap(db, account.key_id, now=datetime.now(UTC), daily=3000)
    assert (await client.post(f"/external/events/{first.event_id}/unlock")).status_code == 201
    body = {"action_type": "unlock_event_contacts", "params": {"event_id": second.event_id}}
    answer = (await client.post("/external/actions/precheck", json=body)).json()
    assert (answer["allowed"], answer["reason_code"]) == (False, "spend_cap_exceeded")
    expected = {"cap": 3000, "period": "day", "spent": 2000, "required": 2000}
    assert answer["detail"]["spend_cap"] == expected
    refused = await client.post(f"/external/events/{second.event_id}/unlock")
    assert refused.status_code == 402
    assert refused.json()["errorKey"] == "SPEND_CAP_EXCEEDED"
    assert refused.json()["details"] == expected
    search = {"action_type": "search_exhibitor_events", "params": {"company_name": "Acme"}}
    quoted = (await client.post("/external/actions/precheck", json=search)).json()
    assert quoted["allowed"] is True  # a search's price fits under the cap
    await cap(db, account.key_id, now=datetime.now(UTC), clear=True)
    answer = (await client.post("/external/actions/precheck", json=body)).json()
    assert (answer["allowed"], answer["reason_code"]) == (True, "ok")


async def _unlock(db: Database, caller: Caller, ref: str) -> dict[str, Any] | DomainError:
    try:
        async with db.write() as session:
            return await event_unlock.unlock_event(session, caller, ref)
    except DomainError as exc:
        return exc


async def test_fifty_concurrent_paid_actions_never_exceed_the_cap(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await give(pg_db, acct.id, 1_000_000)
    events = [await event_with(pg_db) for _ in range(50)]
    now = datetime.now(UTC)
    await cap(pg_db, acct.key_id, now=now, daily=7 * 2000)
    caller = Caller(acct.id, acct.key_id)
    results = await asyncio.gather(*(_unlock(pg_db, caller, e.event_id) for e in events))
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, SpendCapExceeded)]
    assert (len(ok), len(refused)) == (7, 43), results
    assert sum(o.amount for o in await debits(pg_db, acct.id)) == 7 * 2000
    day = now.date().isoformat()
    assert (await counters(pg_db, acct.key_id))[("day", day)] == 7 * 2000
    assert len(await cap_events(pg_db)) == 1  # reached exactly once, refusals told no more
    async with pg_db.read() as session:
        assert await reconcile(session) == []


async def test_fifty_concurrent_holds_debits_and_releases_keep_the_counter_exact(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await fund(pg_db, acct.id, 100_000)
    await cap(pg_db, acct.key_id, daily=1000)
    held = [await hold(pg_db, acct, 20, f"h{n}") for n in range(10)]  # 200 of the day's 1000

    async def one(n: int) -> str:
        try:
            if n < 10:
                async with pg_db.write() as session:
                    await service.release(session, held[n], None, f"r{n}", now=T0)
            elif n % 2:
                await debit(pg_db, acct, 30, f"d{n}")
            else:
                await hold(pg_db, acct, 30, f"h{n}")
        except SpendCapExceeded:
            return "refused"
        return "ok"

    results = await asyncio.gather(*(one(n) for n in range(50)))
    spent = (await counters(pg_db, acct.key_id))[("day", "2030-01-31")]
    assert spent <= 1000
    assert spent == 30 * results[10:].count("ok")
    assert results[:10] == ["ok"] * 10
    await assert_reconciles(pg_db)


async def _waits_on_a_lock(db: Database, except_pid: int) -> bool:
    async with db.read() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> :me"
            ),
            {"me": except_pid},
        )
    return bool(waiting)


async def test_a_refusals_event_waits_for_the_account_lock_instead_of_deadlocking(
    pg_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A spend that reaches the cap writes ``spend_cap.reached`` under the account lock; a refusal writes
    the same deduplicated event after its unit rolled back. Written without the account lock, the
    refusal's row took the dedup key and then waited (its foreign key) for the account row the spend
    held, while the spend waited for that key: a deadlock (seen once in the concurrent test above)."""
    acct = await new_account(pg_db)
    await fund(pg_db, acct.id)
    refusal = SpendCapExceeded(cap=100, period="day", spent=100, required=30)
    async with pg_db.write() as spender:
        await service.lock_account(spender, acct.id)  # a spend in progress
        me = int(await spender.scalar(text("SELECT pg_backend_pid()")) or 0)

        async def refused_unit() -> None:
            with pytest.raises(SpendCapExceeded):
                async with pg_db.write() as session:
                    service._cap_refused(session, ctx(acct), refusal, T0)
                    raise refusal

        refused = asyncio.create_task(refused_unit())
        while not await _waits_on_a_lock(pg_db, me):  # the refusal's follow-up is now blocked
            assert not refused.done(), refused.exception()
            await asyncio.sleep(0.02)
        start = spend_caps.period_start("day", T0)
        await notify_hooks.spend_cap_reached(spender, acct.id, acct.key_id, "day", start, 100, 100, None, T0)
    await asyncio.wait_for(refused, 30)
    failed = [r for r in caplog.records if "follow-up" in r.getMessage()]
    assert failed == []  # before the fix: "deadlock detected" in one of the two (here the follow-up)
    events = await cap_events(pg_db)
    assert len(events) == 1 and events[0]["refused"] is False  # the spend's, written first
