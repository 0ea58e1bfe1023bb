"""A stopped worker stops at once, even while every provider call it made is still in flight: the calls
are abandoned (their leases expire and the items are retried), nothing is charged, and nothing waits
for the slowest provider. Found as a rare 30 s hang of ``showfloor worker`` on SIGTERM."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from showfloor.server.db.uow import Database
from showfloor.server.models import UnlockTaskItem
from showfloor.server.unlocks.providers.base import LookupResult, Person
from showfloor.server.unlocks.worker import UnlockWorker
from tests.conftest import new_account
from tests.e2e.test_worker_crash import submit_batch
from tests.integration.unlock_support import give_credits, op_total, seed_cast


class SilentProvider:
    """Takes every call and never answers (a provider that hangs without a timeout)."""

    name = "silent"

    def __init__(self) -> None:
        self.calls = 0
        self.called = asyncio.Event()

    async def lookup(self, person: Person) -> LookupResult:
        self.calls += 1
        self.called.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        return None


async def test_stop_does_not_wait_for_provider_calls_in_flight(db: Database) -> None:
    account = await new_account(db)
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=3)
    await submit_batch(db, account.id, list(cast.people.values()))
    provider = SilentProvider()
    worker = UnlockWorker(db, provider, poll_seconds=0.05, lease_seconds=600)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(provider.called.wait(), 30)
    await asyncio.sleep(0)  # the worker is now parked waiting on its calls
    stop.set()
    # Before the fix this waited for a call to finish: forever with this provider.
    assert await asyncio.wait_for(running, 10) == 0
    assert provider.calls == 3
    async with db.read() as session:
        statuses = (await session.scalars(select(UnlockTaskItem.status))).all()
    assert sorted(statuses) == ["processing"] * 3  # abandoned under lease, retried after it expires
    assert await op_total(db, account.id, "capture") == 0  # nothing delivered, nothing charged
