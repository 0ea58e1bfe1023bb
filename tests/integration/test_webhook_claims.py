"""The delivery worker's claim and lease, and the promise that no database transaction is open while a
receiver is answering."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.models import WebhookDelivery
from showfloor.server.notify import outbox
from showfloor.server.notify.events import CREDITS_GRANTED, emit
from showfloor.server.notify.sender import Outcome
from tests.conftest import AccountFixture, new_account, scrape_metrics, test_settings
from tests.integration.webhook_support import (
    Receiver,
    create_endpoint,
    deliver,
    delivery_states,
    webhook_settings,
)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return webhook_settings(test_settings(db_url))


async def open_transactions(db: Database, settings: Settings) -> int:
    """Transactions other connections hold open right now (a write lock on SQLite)."""
    if db.is_sqlite:
        path = settings.sqlite_path()
        assert path is not None
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # fails at once if any connection holds the write lock
            conn.execute("ROLLBACK")
            return 0
        except sqlite3.OperationalError:
            return 1
        finally:
            conn.close()
    async with db.engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
        )
        return int(found.scalar_one())


async def test_no_transaction_is_open_while_the_receiver_answers(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver(hold=True) as receiver:
        await create_endpoint(client, receiver.url())
        async with db.write() as session:
            await ledger.grant(session, account.id, "gift", 10, expires_at=None, op_key="g")
        worker = asyncio.create_task(deliver(db, settings))
        await asyncio.wait_for(receiver.arrived.wait(), 10)
        assert await open_transactions(db, settings) == 0  # the request is in flight, no transaction is
        async with db.read() as session:  # claimed: still pending, leased to the worker
            row = (await session.scalars(select(WebhookDelivery))).one()
        assert row.state == "pending" and row.lease_owner is not None and row.attempts == 1
        receiver.release.set()
        await asyncio.wait_for(worker, 10)
    assert await delivery_states(db) == [("delivered", 1)]


async def _one_delivery(db: Database, account_id: int, client: httpx.AsyncClient) -> None:
    await create_endpoint(client, "http://127.0.0.1:9/hook")
    async with db.write() as session:
        await emit(session, account_id, CREDITS_GRANTED, {"amount": 1})
        await outbox.dispatch(session, datetime.now(UTC))


async def test_a_claimed_delivery_is_claimed_again_only_when_its_lease_expires(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await _one_delivery(db, account.id, client)
    now = datetime.now(UTC)
    async with db.write() as session:
        (first,) = await outbox.claim(session, "w1", 10, 30, now)
    async with db.write() as session:
        assert await outbox.claim(session, "w2", 10, 30, now + timedelta(seconds=29)) == []
    async with db.write() as session:
        (second,) = await outbox.claim(session, "w2", 10, 30, now + timedelta(seconds=31))
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.event_id == second.event_id and first.body == second.body
    retry = {"retry_base": 1.0, "retry_cap": 10.0}
    async with db.write() as session:  # w1 lost its lease: its late answer does not count
        assert await outbox.record(session, first, Outcome(True, 200), now, "w1", **retry) is None
    assert await delivery_states(db) == [("pending", 2)]
    async with db.write() as session:
        assert await outbox.record(session, second, Outcome(True, 204), now, "w2", **retry) == "delivered"
    assert await delivery_states(db) == [("delivered", 2)]
    async with db.write() as session:  # delivered: never claimed again
        assert await outbox.claim(session, "w3", 10, 30, now + timedelta(days=1)) == []


async def test_a_failed_attempt_is_retried_after_a_backoff_within_the_window(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await _one_delivery(db, account.id, client)
    now = datetime.now(UTC)
    async with db.write() as session:
        (attempt,) = await outbox.claim(session, "w1", 10, 30, now)
        state = await outbox.record(
            session, attempt, Outcome(False, 500, "HTTP 500"), now, "w1", retry_base=60, retry_cap=600
        )
    assert state == "pending"
    async with db.read() as session:
        row = (await session.scalars(select(WebhookDelivery))).one()
    assert now + timedelta(seconds=30) <= row.next_attempt_at <= now + timedelta(seconds=60)  # jittered
    assert (row.last_status, row.last_error, row.lease_owner) == (500, "HTTP 500", None)


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    for attempt, full in [(1, 10), (2, 20), (3, 40), (8, 1000), (60, 1000)]:
        delay = outbox.backoff_seconds(attempt, 10, 1000)
        assert full * 0.5 <= delay <= full


async def test_concurrent_claims_and_dispatches_skip_each_others_rows(
    pg_db: Database, databases: object
) -> None:
    """PostgreSQL: a claim or dispatch in progress locks its rows; another worker skips them (SKIP
    LOCKED) instead of waiting, and never takes the same delivery or fans out the same event."""
    db = pg_db
    account = await new_account(db)
    async with db.write() as session:
        from showfloor.server.notify.endpoints import create_endpoint as create

        await create(
            session, account.id, url="https://hooks.example.com/x", event_types=None, description=None,
            allow_private=False, now=datetime.now(UTC),
        )  # fmt: skip
        for n in range(3):
            await emit(session, account.id, CREDITS_GRANTED, {"amount": n})
    now = datetime.now(UTC)
    async with db.write() as first:
        assert await outbox.dispatch(first, now, limit=2) == 2
        async with db.write() as second:  # the first has not committed: its two events are skipped
            assert await asyncio.wait_for(outbox.dispatch(second, now), 10) == 1
    async with db.write() as first:
        mine = await outbox.claim(first, "w1", 2, 30, now)
        async with db.write() as second:
            theirs = await asyncio.wait_for(outbox.claim(second, "w2", 10, 30, now), 10)
    assert len(mine) == 2 and len(theirs) == 1
    assert {a.delivery_id for a in mine}.isdisjoint(a.delivery_id for a in theirs)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 3


async def test_metrics_show_the_webhook_backlog(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await _one_delivery(db, account.id, client)
    async with db.write() as session:
        await emit(session, account.id, CREDITS_GRANTED, {"amount": 2})  # not fanned out yet
    text = await scrape_metrics(client)
    assert 'showfloor_webhook_deliveries{state="pending"} 1.0' in text
    assert 'showfloor_webhook_deliveries{state="failed"} 0.0' in text
    assert "showfloor_outbox_events_undispatched 1.0" in text
