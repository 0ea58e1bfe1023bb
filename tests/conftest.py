"""Test harness: every run makes its own databases (SQLite file, PostgreSQL database) with Alembic
migrations, and drops them at the end. Tests that take ``db`` or ``client`` run on both backends.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth). Without it, PostgreSQL tests are skipped,
except when ``CI`` is set: then a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from showfloor.server.accounts import service as accounts
from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.db.base import Base
from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import upgrade
from showfloor.server.db.uow import Database

# CI runs the property tests with a fixed derivation of examples, so a run is reproducible and a red CI
# always means a real, replayable counterexample; local runs keep exploring new examples.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

PG_ADMIN_DSN = os.environ.get("SHOWFLOOR_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgres"]
# Settings of the test harness itself, kept while each test runs without the app's SHOWFLOOR_* variables.
HARNESS_SETTINGS = {"SHOWFLOOR_TEST_PG_DSN", "SHOWFLOOR_REFERENCE_DIR"}


def pg_url(dbname: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{dbname}"


@asynccontextmanager
async def scratch_pg_url(prefix: str) -> AsyncIterator[str]:
    """A PostgreSQL database of its own (for tests that undo and redo migrations), dropped afterwards.
    Skipped without PostgreSQL, failed when ``CI`` is set."""
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable and CI is set", pytrace=False)
        pytest.skip("PostgreSQL not reachable")
    name = f"showfloor_test_{prefix}_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _pg_available() -> bool:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


class Databases:
    """The per-run databases, created lazily the first time a backend is asked for."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.urls: dict[str, str] = {}
        self.pg_name: str | None = None

    async def url(self, backend: str) -> str:
        if backend in self.urls:
            return self.urls[backend]
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.tmp / 'showfloor-test.db'}"
        else:
            if not await _pg_available():
                if os.environ.get("CI"):
                    pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 and CI is set", pytrace=False)
                pytest.skip("PostgreSQL not reachable")
            self.pg_name = f"showfloor_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            conn = await asyncpg.connect(PG_ADMIN_DSN)
            await conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            await conn.close()
            url = pg_url(self.pg_name)
        engine = make_engine(url, null_pool=True)
        await upgrade(engine)
        await engine.dispose()
        self.urls[backend] = url
        return url

    async def drop(self) -> None:
        if self.pg_name:
            conn = await asyncpg.connect(PG_ADMIN_DSN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            await conn.close()


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    await dbs.drop()


async def _clean(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with db.write() as session:
        if db.is_sqlite:
            for name in tables:
                await session.execute(text(f'DELETE FROM "{name}"'))
        else:
            await session.execute(
                text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE")
            )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db_url(databases: Databases, backend: str) -> str:
    return await databases.url(backend)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(make_engine(db_url, pool_size=60, max_overflow=20))
    await _clean(database)
    yield database
    await database.dispose()


@pytest.fixture
async def pg_db(databases: Databases) -> AsyncIterator[Database]:
    """PostgreSQL only: for concurrency tests that prove the ledger's promises."""
    url = await databases.url("postgres")
    database = Database(make_engine(url, pool_size=60, max_overflow=20))
    await _clean(database)
    yield database
    await database.dispose()


# Tests scrape /metrics on the app with this token (production has none unless configured).
TEST_METRICS_TOKEN = "test-metrics-token-0123456789"


def test_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "rate_limit_enabled": False,
        "embedded_worker": False,
        "metrics_token": TEST_METRICS_TOKEN,
    }
    values.update(overrides)
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(db_url)


@pytest.fixture
async def app_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to the ASGI app in-process (lifespan run), on the test's backend."""
    app = create_app(settings, run_background_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as client:
            yield client


async def scrape_metrics(client: httpx.AsyncClient) -> str:
    """``/metrics`` as a Prometheus server configured with the metrics token reads it."""
    resp = await client.get("/metrics", headers={"Authorization": f"Bearer {TEST_METRICS_TOKEN}"})
    assert resp.status_code == 200, resp.text
    return resp.text


class AccountFixture:
    def __init__(self, account_id: int, key: str, key_id: int) -> None:
        self.id = account_id
        self.key = key
        self.key_id = key_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def new_account(db: Database, name: str = "acme", *, unlimited: bool = False) -> AccountFixture:
    async with db.write() as session:
        account = await accounts.create_account(session, name, unlimited=unlimited)
        issued = await accounts.create_key(session, account.id)
    return AccountFixture(account.id, issued.key, issued.id)


@pytest.fixture
async def account(db: Database) -> AccountFixture:
    return await new_account(db)


@pytest.fixture
def client(app_client: httpx.AsyncClient, account: AccountFixture) -> httpx.AsyncClient:
    """The app client, authenticated as ``account``."""
    app_client.headers.update(account.headers)
    return app_client


@pytest.fixture(autouse=True)
def _no_leaked_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("SHOWFLOOR_") and key not in HARNESS_SETTINGS:
            monkeypatch.delenv(key)
    yield
