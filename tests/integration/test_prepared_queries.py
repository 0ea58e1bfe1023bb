"""Prepared queries (db/prepared.py): same rows as SQLAlchemy by column name, inside the unit's transaction,
outages → 503; read units on PostgreSQL send no BEGIN/COMMIT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import BigInteger, bindparam, event, func, select, text

from showfloor.server.access.service import LAYER_BASE, record_event_unlock, unlocked_layers
from showfloor.server.accounts import service as accounts
from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.db.engine import make_engine
from showfloor.server.db.prepared import DatabaseUnavailable, PreparedQuery
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.balance import get_balance
from showfloor.server.models import Account, CreditGrant, Event, EventUnlock
from tests.conftest import AccountFixture
from tests.factories import make_event

GRANTS_OF = PreparedQuery(
    select(CreditGrant.id, CreditGrant.bucket, CreditGrant.remaining, CreditGrant.expires_at)
    .where(CreditGrant.account_id == bindparam("account_id", type_=BigInteger))
    .order_by(CreditGrant.id)
)


async def _account_with_grants(db: Database) -> int:
    async with db.write() as session:
        account = await accounts.create_account(session, "fast")
        await ledger.grant(session, account.id, "gift", 700, expires_at=None, op_key="g1")
        await ledger.grant(
            session, account.id, "addon", 300, expires_at=datetime(2099, 1, 1, tzinfo=UTC), op_key="g2"
        )
        return account.id


async def test_rows_match_sqlalchemy_on_both_backends(db: Database) -> None:
    account_id = await _account_with_grants(db)
    async with db.read() as session:
        prepared = await GRANTS_OF.all(session, {"account_id": account_id})
        plain = (await session.execute(GRANTS_OF.stmt, {"account_id": account_id})).all()
    assert [dict(r) for r in prepared] == [dict(r._mapping) for r in plain]
    assert [r["bucket"] for r in prepared] == ["gift", "addon"]
    assert prepared[1]["expires_at"] == datetime(2099, 1, 1, tzinfo=UTC)  # aware UTC on both backends


async def test_first_and_one(db: Database) -> None:
    account_id = await _account_with_grants(db)
    async with db.read() as session:
        assert (await GRANTS_OF.first(session, {"account_id": account_id}))["bucket"] == "gift"
        assert await GRANTS_OF.first(session, {"account_id": account_id + 999}) is None
        with pytest.raises(LookupError):
            await GRANTS_OF.one(session, {"account_id": account_id})  # two rows


@pytest.mark.parametrize("after_a_read", [False, True], ids=["first-statement", "after-a-read"])
async def test_a_write_in_a_rolled_back_unit_is_undone(db: Database, after_a_read: bool) -> None:
    """As the unit's FIRST statement (on PostgreSQL through the cursor, which begins the transaction) and
    after a read (straight to asyncpg, inside it), a prepared write is undone with its unit."""
    account_id = await _account_with_grants(db)
    async with db.write() as session:
        event = await make_event(session, contact_count=3)
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            if after_a_read:
                await GRANTS_OF.all(session, {"account_id": account_id})
            assert await record_event_unlock(session, account_id, event.id, LAYER_BASE, None)
            raise RuntimeError("roll back")
    async with db.read() as session:
        assert await unlocked_layers(session, account_id, event.id) == set()
    async with db.write() as session:
        assert await record_event_unlock(session, account_id, event.id, LAYER_BASE, None)
        assert not await record_event_unlock(session, account_id, event.id, LAYER_BASE, None)
    async with db.read() as session:
        count = await session.scalar(select(func.count()).select_from(EventUnlock))
    assert count == 1


async def test_pending_orm_rows_are_flushed_before_a_prepared_write(db: Database) -> None:
    """A prepared query bypasses the unit of work; rows the caller added must reach the database first."""
    account_id = await _account_with_grants(db)
    async with db.write() as session:
        # Added, not flushed: the unlock row's foreign key to it holds only if the flush comes first.
        session.add(Event(id=987_654_321, event_id="PENDING-1", name="Pending", contact_count=1,
                          categories=[], topics=[]))  # fmt: skip
        assert await record_event_unlock(session, account_id, 987_654_321, LAYER_BASE, None)
    async with db.read() as session:
        assert await unlocked_layers(session, account_id, 987_654_321) == {LAYER_BASE}


async def test_prepared_balance_equals_the_python_definition(db: Database) -> None:
    account_id = await _account_with_grants(db)
    async with db.write() as session:
        await ledger.hold(session, ledger.ChargeContext(account_id), 100, "h1")
        await ledger.debit(session, ledger.ChargeContext(account_id), 50, "d1")
    async with db.read() as session:
        balance = await get_balance(session, account_id, datetime.now(UTC))
    # The expiring add-on spends before the gift: 300 − 100 held − 50 debited; the gift is untouched.
    assert balance.balances == {"subscription": 0, "addon": 150, "gift": 700}
    assert balance.amounts == {"subscription": 0, "addon": 300, "gift": 700}


async def test_a_dead_connection_is_database_unavailable_and_leaves_the_pool(pg_db: Database) -> None:
    with pytest.raises(DatabaseUnavailable):
        async with pg_db.write() as session:
            pid = (await BACKEND_PID.one(session))["pg_backend_pid"]
            async with pg_db.engine.connect() as killer:
                await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                await killer.commit()
            await BACKEND_PID.one(session)
    async with pg_db.read() as session:  # the pool hands out a working connection again
        count = PreparedQuery(select(func.count().label("n")).select_from(Account))
        assert (await count.one(session))["n"] >= 0


async def test_a_statement_error_is_not_an_outage(pg_db: Database) -> None:
    with pytest.raises(Exception) as caught:
        async with pg_db.read() as session:
            await PreparedQuery(text("SELECT 1/0")).all(session)
    assert not isinstance(caught.value, DatabaseUnavailable)


BACKEND_PID = PreparedQuery(text("SELECT pg_backend_pid()"))


async def test_prepared_and_orm_statements_of_a_unit_share_one_connection(pg_db: Database) -> None:
    """The unit remembers its connection after the first prepared query; it is the session's."""
    for unit in (pg_db.read, pg_db.write):
        async with unit() as session:
            first = (await BACKEND_PID.one(session))["pg_backend_pid"]
            orm = await session.scalar(text("SELECT pg_backend_pid()"))
            again = (await BACKEND_PID.one(session))["pg_backend_pid"]
        assert first == orm == again


async def test_a_failed_or_cancelled_unit_rolls_back_and_returns_its_connection(pg_db: Database) -> None:
    account_id = await _account_with_grants(pg_db)
    pool = pg_db.engine.sync_engine.pool

    with pytest.raises(RuntimeError):
        async with pg_db.write() as session:
            await ledger.debit(session, ledger.ChargeContext(account_id), 10, "fails")
            raise RuntimeError("after the debit")
    assert pool.checkedout() == 0  # type: ignore[attr-defined]

    started, release = asyncio.Event(), asyncio.Event()

    async def debit_then_wait() -> None:
        async with pg_db.write() as session:
            await ledger.debit(session, ledger.ChargeContext(account_id), 20, "cancelled")
            started.set()
            await release.wait()

    task = asyncio.create_task(debit_then_wait())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.checkedout() == 0  # type: ignore[attr-defined]

    async with pg_db.read() as session:
        balance = await get_balance(session, account_id, datetime.now(UTC))
    assert balance.balances == {"subscription": 0, "addon": 300, "gift": 700}  # neither debit stayed


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """The app, and a log of every connection checkout from its pool."""
    app = create_app(settings, run_background_jobs=False)
    checkouts: list[str] = []
    async with app.router.lifespan_context(app):
        pool = app.state.db.engine.sync_engine.pool
        event.listen(pool, "checkout", lambda *_: checkouts.append("checkout"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as client:
            yield client, checkouts


async def test_a_read_request_is_one_unit_and_a_refused_one_none(
    served: tuple[httpx.AsyncClient, list[str]], account: AccountFixture
) -> None:
    client, checkouts = served
    assert (await client.get("/external/credits/balance", headers=account.headers)).status_code == 200
    assert len(checkouts) == 1  # the key lookup and the balance share the route's read unit
    checkouts.clear()
    assert (await client.get("/external/credits/balance")).status_code == 401  # no key: no database
    assert (await client.get("/external/events/list", params={"page": "0"})).status_code == 401
    assert checkouts == []
    unknown = {"Authorization": "Bearer sk_" + "0" * 16 + "_" + "0" * 64}  # well formed, unknown
    assert (await client.get("/external/events/list", headers=unknown)).status_code == 401
    assert len(checkouts) == 1


async def test_an_expanding_in_is_refused_with_a_clear_error(pg_db: Database) -> None:
    """The driver cannot take SQLAlchemy's expanding IN placeholder; the query says so at first use."""
    stmt = PreparedQuery(select(Account.id).where(Account.id.in_([1, 2])))
    async with pg_db.read() as session:
        with pytest.raises(ValueError, match="ANY"):
            await stmt.all(session)


async def test_a_session_reused_for_a_second_transaction_looks_its_connection_up_again(
    pg_db: Database,
) -> None:
    """The remembered connection belongs to one transaction. Here the first transaction's
    connection goes back to the pool and is taken by someone else before the session's second
    transaction starts: that one must run on its own new connection, not on the remembered one."""
    url = pg_db.engine.url.render_as_string(hide_password=False)
    small = Database(make_engine(url, pool_size=2, max_overflow=0))
    try:
        async with small._write() as session:
            async with session.begin():
                first = (await BACKEND_PID.one(session))["pg_backend_pid"]
            async with small.engine.connect() as holder:  # the only idle connection: the first one
                assert await holder.scalar(text("SELECT pg_backend_pid()")) == first
                async with session.begin():
                    second = (await BACKEND_PID.one(session))["pg_backend_pid"]
                    orm = await session.scalar(text("SELECT pg_backend_pid()"))
    finally:
        await small.dispose()
    assert second == orm != first


async def test_read_units_send_no_begin_and_write_units_do_on_postgres(pg_db: Database) -> None:
    """A read unit runs in autocommit: no BEGIN/COMMIT on the wire. A write unit is a transaction
    (asyncpg logs the transaction statements it sends)."""
    account_id = await _account_with_grants(pg_db)
    sent: list[str] = []
    logged: set[int] = set()

    def log_queries(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if id(driver) not in logged:  # once per connection: checkouts repeat
            logged.add(id(driver))
            driver.add_query_logger(lambda q: sent.append(q.query))

    event.listen(pg_db.engine.sync_engine, "checkout", log_queries)
    try:
        async with pg_db.write() as session:
            await GRANTS_OF.all(session, {"account_id": account_id})
        await asyncio.sleep(0.05)  # asyncpg calls its loggers soon after, not at once
        assert [q for q in sent if q.startswith("BEGIN")] and "COMMIT;" in sent, sent
        sent.clear()
        async with pg_db.read() as session:
            await GRANTS_OF.all(session, {"account_id": account_id})
            await session.execute(select(func.count()).select_from(Account))
        await asyncio.sleep(0.05)
        assert not [q for q in sent if q.startswith(("BEGIN", "COMMIT"))], sent
    finally:
        event.remove(pg_db.engine.sync_engine, "checkout", log_queries)


def _sent_to_asyncpg() -> tuple[list[str], Any]:
    """Statements that reached asyncpg's ``Connection.fetch`` directly (not through SQLAlchemy's cursor)."""
    calls: list[str] = []
    original = asyncpg.Connection.fetch

    async def fetch(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(query)
        return await original(self, query, *args, **kwargs)

    return calls, fetch


async def test_a_write_units_first_query_begins_the_transaction_and_the_rest_go_straight_to_asyncpg(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two routes of a prepared query on PostgreSQL give the same rows in the same transaction: the
    first statement of a write unit goes through the DB-API cursor (which begins the transaction), every
    later one and every statement of a read unit straight to asyncpg."""
    account_id = await _account_with_grants(pg_db)
    calls, fetch = _sent_to_asyncpg()
    monkeypatch.setattr(asyncpg.Connection, "fetch", fetch)
    async with pg_db.write() as session:
        through_cursor = await GRANTS_OF.all(session, {"account_id": account_id})
        assert calls == []
        direct = await GRANTS_OF.all(session, {"account_id": account_id})
        assert len(calls) == 1
        in_transaction = await PreparedQuery(text("SELECT now() = statement_timestamp() AS fresh")).one(
            session
        )
        plain = (await session.execute(GRANTS_OF.stmt, {"account_id": account_id})).all()
    assert [dict(r) for r in through_cursor] == [dict(r) for r in direct] == [dict(r._mapping) for r in plain]
    assert in_transaction["fresh"] is False  # now() is the transaction's start: the direct query ran in it
    calls.clear()
    async with pg_db.read() as session:
        read = await GRANTS_OF.all(session, {"account_id": account_id})
    assert len(calls) == 1 and [dict(r) for r in read] == [dict(r) for r in direct]


async def test_a_direct_statement_error_leaves_a_working_connection(pg_db: Database) -> None:
    with pytest.raises(Exception) as caught:
        async with pg_db.write() as session:
            await BACKEND_PID.one(session)  # begins the transaction
            await PreparedQuery(text("SELECT 1/0")).all(session)  # straight to asyncpg
    assert not isinstance(caught.value, DatabaseUnavailable)
    assert getattr(caught.value, "sqlstate", None) == "22012"  # division_by_zero, as the driver says
    for _ in range(3):  # the pool's connections all work (the failed transaction was rolled back)
        async with pg_db.write() as session:
            assert (await PreparedQuery(text("SELECT 1 AS one")).one(session))["one"] == 1
            assert (await PreparedQuery(text("SELECT 2 AS two")).one(session))["two"] == 2
