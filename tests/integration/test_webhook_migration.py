"""Migration 0013 (outbox and webhooks) can be undone and redone."""

from __future__ import annotations

from sqlalchemy import inspect

from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import downgrade, upgrade
from tests.integration.test_migration_downgrade import scratch_url  # noqa: F401  (the fixture)

TABLES = {"outbox_events", "webhook_endpoints", "webhook_deliveries"}


async def test_0013_downgrades_and_upgrades(scratch_url: str) -> None:  # noqa: F811
    engine = make_engine(scratch_url, null_pool=True)

    async def tables() -> set[str]:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))

    try:
        await upgrade(engine, "0013")
        assert await tables() >= TABLES
        await downgrade(engine, "0010")
        assert not TABLES & await tables()
        await upgrade(engine, "0013")
        assert await tables() >= TABLES
    finally:
        await engine.dispose()
