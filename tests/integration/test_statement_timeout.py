"""PostgreSQL statement timeouts (issue 15, item 6): a slow statement answers 503 and charges nothing.

The API's engine sets ``statement_timeout`` from ``SHOWFLOOR_DB_STATEMENT_TIMEOUT_MS`` on every
connection; workers, admin commands and the periodic jobs of ``serve`` use
``SHOWFLOOR_DB_WORKER_STATEMENT_TIMEOUT_MS``. A paid request whose statement waits on a lock held by
another connection past the timeout answers 503 in the reference's error shape; its transaction rolls
back, so the balance and the ledger are unchanged, and the same ``Idempotency-Key`` works once the lock
is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from tests.conftest import PG_ADMIN_DSN, Databases, new_account
from tests.factories import make_exhibitor
from tests.integration.paid_support import balance, debits, event_with, give

TIMEOUT_MS = 300
SEARCH = "/external/exhibitors/search-by-company-name"


@pytest.fixture
async def pg_url(databases: Databases, pg_db: Database) -> str:  # pg_db: a clean database
    return await databases.url("postgres")


@pytest.fixture
async def api(pg_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=pg_url,
        rate_limit_enabled=False,
        embedded_worker=False,
        db_statement_timeout_ms=TIMEOUT_MS,
        db_worker_statement_timeout_ms=TIMEOUT_MS * 100,
    )
    app = create_app(settings, run_background_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def unblocked(request: Awaitable[httpx.Response]) -> httpx.Response:
    """Without a statement timeout the request would wait for the lock forever: fail instead of hanging."""
    return await asyncio.wait_for(request, timeout=60)


def dsn(url: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]


async def show_timeout(db: Database) -> str:
    async with db.read() as session:
        return str(await session.scalar(text("SHOW statement_timeout")))


async def test_api_and_worker_engines_carry_their_own_timeouts(api: httpx.AsyncClient, pg_url: str) -> None:
    assert await show_timeout(api.app.state.db) == f"{TIMEOUT_MS}ms"  # type: ignore[attr-defined]
    worker_db = Database(make_engine(pg_url, statement_timeout_ms=TIMEOUT_MS * 100))
    untimed = Database(make_engine(pg_url))
    try:
        assert await show_timeout(worker_db) == f"{TIMEOUT_MS * 100 // 1000}s"
        assert await show_timeout(untimed) == "0"
    finally:
        await worker_db.dispose()
        await untimed.dispose()


async def test_defaults() -> None:
    settings = Settings()
    assert settings.db_statement_timeout_ms == 5_000
    assert settings.db_worker_statement_timeout_ms == 60_000


async def test_slow_paid_request_answers_503_and_charges_nothing(
    api: httpx.AsyncClient, pg_db: Database, pg_url: str
) -> None:
    account = await new_account(pg_db)
    await give(pg_db, account.id, 500)
    event = await event_with(pg_db)
    async with pg_db.write() as session:
        await make_exhibitor(session, event, company_name="Acme Retail Systems")
    before = await balance(pg_db, account.id)
    headers = {**account.headers, "Idempotency-Key": "slow-search-1"}
    body = {"company_name": "acme"}

    # Another connection holds the account row: the paid request's account lock waits on it.
    blocker = await asyncpg.connect(dsn(pg_url))
    try:
        async with blocker.transaction():
            await blocker.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account.id)
            resp = await unblocked(api.post(SEARCH, json=body, headers=headers))
        assert resp.status_code == 503, resp.text
        error = resp.json()
        assert error["code"] == 503 and error["errorKey"] == "SERVICE_UNAVAILABLE"
        assert error["traceId"] == resp.headers["x-request-id"]
        assert "nothing was charged" in error["message"]
        assert resp.headers["Retry-After"] == "1"
    finally:
        await blocker.close()

    assert await balance(pg_db, account.id) == before
    assert await debits(pg_db, account.id) == []
    # The key was freed, not stored with the 503: the retry runs and is charged once.
    retry = await api.post(SEARCH, json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert await balance(pg_db, account.id) == before - 50
    assert len(await debits(pg_db, account.id)) == 1


@pytest.mark.parametrize(
    ("table", "path"),
    [
        ("api_keys", "/external/credits/balance"),  # the key lookup: a PreparedQuery
        ("events", "/external/events/list"),  # a catalog query through SQLAlchemy
    ],
)
async def test_read_blocked_past_the_timeout_answers_503(
    api: httpx.AsyncClient, pg_db: Database, pg_url: str, table: str, path: str
) -> None:
    """A table lock blocks even reads: 503 from either query path, and the API keeps serving."""
    account = await new_account(pg_db)
    blocker = await asyncpg.connect(dsn(pg_url))
    try:
        async with blocker.transaction():
            await blocker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            resp = await unblocked(api.get(path, headers=account.headers))
        assert resp.status_code == 503, resp.text
        assert resp.json()["errorKey"] == "SERVICE_UNAVAILABLE"
        assert "nothing was charged" in resp.json()["message"]
    finally:
        await blocker.close()
    again = await api.get(path, headers=account.headers)
    assert again.status_code == 200, again.text
