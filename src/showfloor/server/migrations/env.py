"""Alembic environment. Runs on a connection handed in by ``showfloor.server.db.migrate`` (tests and the
CLI), or on its own async engine when invoked through the ``alembic`` command."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from showfloor.server import models  # noqa: F401  (fills Base.metadata)
from showfloor.server.catalog.search import include_name
from showfloor.server.db.base import Base
from showfloor.server.db.engine import make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # keyword-search objects (FTS5, trigram indexes) have no model
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = make_engine(url, null_pool=True)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_with_own_engine(config.get_main_option("sqlalchemy.url") or ""))
