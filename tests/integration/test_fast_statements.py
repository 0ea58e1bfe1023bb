"""Fast statements (db/fast.py): same rows as SQLAlchemy, inside the unit's transaction, outages → 503."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from sqlalchemy import BigInteger, bindparam, event, func, select, text

from showfloor.server.access.service import LAYER_BASE, record_event_unlock, unlocked_layers
from showfloor.server.accounts import service as accounts
from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.db.engine import make_engine
from showfloor.server.db.fast import DatabaseUnavailable, FastStatement, run_on_driver
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.balance import get_balance
from showfloor.server.models import Account, CreditGrant, Event, EventUnlock
from tests.conftest import AccountFixture
from tests.factories import make_event

GRANTS_OF = FastStatement(
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
        fast = await GRANTS_OF.all(session, {"account_id": account_id})
        plain = (await session.execute(GRANTS_OF.stmt, {"account_id": account_id})).all()
    assert [tuple(r) for r in fast] == [tuple(r) for r in plain]
    assert [r[1] for r in fast] == ["gift", "addon"]
    assert fast[1][3] == datetime(2099, 1, 1, tzinfo=UTC)  # aware UTC on both backends


async def test_first_and_one(db: Database) -> None:
    account_id = await _account_with_grants(db)
    async with db.read() as session:
        assert (await GRANTS_OF.first(session, {"account_id": account_id}))[1] == "gift"
        assert await GRANTS_OF.first(session, {"account_id": account_id + 999}) is None
        with pytest.raises(LookupError):
            await GRANTS_OF.one(session, {"account_id": account_id})  # two rows


async def test_a_write_in_a_rolled_back_unit_is_undone(db: Database) -> None:
    """The fast statement is the unit's FIRST statement: it must still run inside its transaction."""
    account_id = await _account_with_grants(db)
    async with db.write() as session:
        event = await make_event(session, contact_count=3)
    with pytest.raises(RuntimeError):
        async with db.write() as session:
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


async def test_pending_orm_rows_are_flushed_before_a_fast_write(db: Database) -> None:
    """A fast statement bypasses the unit of work; rows the caller added must reach the database first."""
    account_id = await _account_with_grants(db)
    async with db.write() as session:
        # Added, not flushed: the unlock row's foreign key to it holds only if the flush comes first.
        session.add(Event(id=987_654_321, event_id="PENDING-1", name="Pending", contact_count=1,
                          categories=[], topics=[]))  # fmt: skip
        assert await record_event_unlock(session, account_id, 987_654_321, LAYER_BASE, None)
    async with db.read() as session:
        assert await unlocked_layers(session, account_id, 987_654_321) == {LAYER_BASE}


async def test_fast_balance_equals_the_python_definition(db: Database) -> None:
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
    async with pg_db.engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        await conn.commit()
        async with pg_db.engine.connect() as killer:
            await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await killer.commit()
        with pytest.raises(DatabaseUnavailable):
            await run_on_driver(conn, "SELECT 1", [])
        assert conn.invalidated
    async with pg_db.read() as session:  # the pool hands out a working connection again
        assert (await FastStatement(select(func.count()).select_from(Account)).one(session))[0] >= 0


async def test_a_statement_error_is_not_an_outage(pg_db: Database) -> None:
    async with pg_db.engine.connect() as conn:
        with pytest.raises(Exception) as caught:
            await run_on_driver(conn, "SELECT 1/0", [])
        assert not isinstance(caught.value, DatabaseUnavailable)


BACKEND_PID = FastStatement(text("SELECT pg_backend_pid()"))


async def test_fast_and_orm_statements_of_a_unit_share_one_connection(pg_db: Database) -> None:
    """The unit remembers its driver connection after the first fast statement; it is the session's."""
    for unit in (pg_db.read, pg_db.write):
        async with unit() as session:
            first = (await BACKEND_PID.one(session))[0]
            orm = await session.scalar(text("SELECT pg_backend_pid()"))
            again = (await BACKEND_PID.one(session))[0]
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
    """asyncpg cannot take SQLAlchemy's expanding IN placeholder; the statement says so at first use."""
    stmt = FastStatement(select(Account.id).where(Account.id.in_([1, 2])))
    async with pg_db.read() as session:
        with pytest.raises(ValueError, match="ANY"):
            await stmt.all(session)


async def test_a_session_reused_for_a_second_transaction_looks_its_connection_up_again(
    pg_db: Database,
) -> None:
    """The remembered driver connection belongs to one transaction. Here the first transaction's
    connection goes back to the pool and is taken by someone else before the session's second
    transaction starts: that one must run on its own new connection, not on the remembered one."""
    url = pg_db.engine.url.render_as_string(hide_password=False)
    small = Database(make_engine(url, pool_size=2, max_overflow=0))
    try:
        async with small._write() as session:
            async with session.begin():
                first = (await BACKEND_PID.one(session))[0]
            async with small.engine.connect() as holder:  # the only idle connection: the first one
                assert await holder.scalar(text("SELECT pg_backend_pid()")) == first
                async with session.begin():
                    second = (await BACKEND_PID.one(session))[0]
                    orm = await session.scalar(text("SELECT pg_backend_pid()"))
    finally:
        await small.dispose()
    assert second == orm != first


# ``Database.run_alone``: one writing statement as a transaction of its own.
_CREDIT_ALL = FastStatement(
    text(
        "UPDATE credit_grants SET remaining = remaining + 1, "
        "bucket = CASE WHEN remaining = 300 THEN NULL ELSE bucket END "  # NOT NULL: fails on that row
        "WHERE account_id = :account_id RETURNING id"
    ).bindparams(bindparam("account_id", type_=BigInteger))
)


async def test_run_alone_sends_no_begin_on_postgres(pg_db: Database) -> None:
    """Its transaction is the statement itself, unlike a write unit's (asyncpg logs what it sends)."""
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
        await pg_db.run_alone(GRANTS_OF, {"account_id": account_id})
        await asyncio.sleep(0.05)
        assert len(sent) == 1 and sent[0].startswith("SELECT"), sent
    finally:
        event.remove(pg_db.engine.sync_engine, "checkout", log_queries)


async def test_run_alone_is_atomic_and_commits(db: Database) -> None:
    account_id = await _account_with_grants(db)
    with pytest.raises(Exception, match=r"(?i)not.null"):
        await db.run_alone(_CREDIT_ALL, {"account_id": account_id})
    async with db.read() as session:  # the row updated before the error is not kept
        remaining = (await session.scalars(select(CreditGrant.remaining).order_by(CreditGrant.id))).all()
    assert remaining == [700, 300]
    async with db.write() as session:
        await session.execute(text("UPDATE credit_grants SET remaining = 5 WHERE bucket = 'addon'"))
    assert len(await db.run_alone(_CREDIT_ALL, {"account_id": account_id})) == 2
    async with db.read() as session:
        remaining = (await session.scalars(select(CreditGrant.remaining).order_by(CreditGrant.id))).all()
    assert remaining == [701, 6]


async def test_run_alone_returns_its_connection_and_drops_a_dead_one(pg_db: Database) -> None:
    """A lone statement takes its connection straight from the pool: it goes back after a result, an
    error or a cancellation, and a dead one is dropped (DatabaseUnavailable) instead of handed out."""
    pool = pg_db.engine.sync_engine.pool
    assert (await pg_db.run_alone(BACKEND_PID, {}, writes=False))[0][0] > 0
    assert pool.checkedout() == 0
    with pytest.raises(Exception) as caught:
        await pg_db.run_alone(FastStatement(text("SELECT 1/0")), {})
    assert not isinstance(caught.value, DatabaseUnavailable) and pool.checkedout() == 0
    slow = asyncio.create_task(pg_db.run_alone(FastStatement(text("SELECT pg_sleep(5)")), {}))
    await asyncio.sleep(0.2)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert pool.checkedout() == 0
    dsn = pg_db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    killer = await asyncpg.connect(dsn)  # not from the pool: every pooled connection dies under it
    try:
        await killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await killer.close()
    outages = 0
    for _ in range(pool.size() + 2):
        try:
            await pg_db.run_alone(BACKEND_PID, {}, writes=False)
            break
        except DatabaseUnavailable:
            outages += 1
    else:
        pytest.fail("the pool kept handing out dead connections")
    assert outages >= 1 and pool.checkedout() == 0


async def test_run_alone_without_a_connection_is_database_unavailable(pg_db: Database) -> None:
    """A pool that cannot connect (here: no such database; in a restart: "starting up") is an outage,
    answered 503 — not the driver's own error, which the API would answer 500."""
    nowhere = pg_db.engine.url.set(database=f"showfloor_missing_{uuid.uuid4().hex[:8]}")
    db = Database(make_engine(nowhere.render_as_string(hide_password=False)))
    try:
        with pytest.raises(DatabaseUnavailable):
            await db.run_alone(BACKEND_PID, {}, writes=False)
    finally:
        await db.dispose()
