"""Real concurrency on PostgreSQL: separate transactions racing through the paid-action services."""

from __future__ import annotations

import asyncio
from typing import Any

from showfloor.server.access import unlock as event_unlock
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError, InsufficientCredits
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.lookups import service as lookups
from showfloor.server.paid.decision import Caller
from tests.conftest import new_account
from tests.factories import make_exhibitor
from tests.integration.paid_support import balance, debits, event_with, give


async def _unlock(db: Database, caller: Caller, ref: str) -> dict[str, Any] | DomainError:
    try:
        async with db.write() as session:
            return await event_unlock.unlock_event(session, caller, ref)
    except DomainError as exc:
        return exc


async def test_twenty_concurrent_unlocks_of_one_event_charge_once(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await give(pg_db, acct.id, 10000)
    event = await event_with(pg_db)
    caller = Caller(acct.id, acct.key_id)
    results = await asyncio.gather(*(_unlock(pg_db, caller, event.event_id) for _ in range(20)))
    assert all(isinstance(r, dict) for r in results), results
    dicts = [r for r in results if isinstance(r, dict)]
    assert sum(1 for r in dicts if not r["alreadyUnlocked"]) == 1
    assert sum(1 for r in dicts if r["alreadyUnlocked"]) == 19
    assert [o.amount for o in await debits(pg_db, acct.id)] == [2000]
    assert await balance(pg_db, acct.id) == 8000


async def test_twenty_events_with_credits_for_five(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await give(pg_db, acct.id, 5 * 2000)
    events = [await event_with(pg_db) for _ in range(20)]
    caller = Caller(acct.id, acct.key_id)
    results = await asyncio.gather(*(_unlock(pg_db, caller, e.event_id) for e in events))
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(ok) == 5 and len(refused) == 15, results
    assert await balance(pg_db, acct.id) == 0
    async with pg_db.read() as session:
        assert await reconcile(session, acct.id) == []


async def test_concurrent_searches_never_overspend(pg_db: Database) -> None:
    """A search pays in its write unit, the ledger locking the account and refusing what it cannot pay."""
    acct = await new_account(pg_db)
    await give(pg_db, acct.id, 7 * 50 + 30)  # seven searches and change
    async with pg_db.write() as session:
        await make_exhibitor(session, company_name="Racing Widgets Inc")
    caller = Caller(acct.id, acct.key_id)

    async def search() -> dict[str, Any] | DomainError:
        try:
            async with pg_db.write() as session:
                return await lookups.search_companies(session, caller, "Racing Widgets", 1, 20)
        except DomainError as exc:
            return exc

    results = await asyncio.gather(*(search() for _ in range(20)))
    assert sum(1 for r in results if isinstance(r, dict)) == 7
    assert sum(1 for r in results if isinstance(r, InsufficientCredits)) == 13
    assert await balance(pg_db, acct.id) == 30
    async with pg_db.read() as session:
        assert await reconcile(session, acct.id) == []
