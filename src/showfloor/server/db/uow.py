"""Units of work: one transaction around a request's use case or a job's step.

Services receive the session and never commit; the ``Database.write()``/``read()`` scope commits on
success and rolls back on any exception. A read unit on PostgreSQL runs in autocommit: under READ
COMMITTED every statement sees a fresh snapshot anyway, and a unit that only reads (and locks nothing)
then costs no BEGIN/COMMIT round trips.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from showfloor.server.db.engine import SQLITE_BEGIN_OPTION, is_sqlite

log = logging.getLogger("showfloor.db")

FollowUp = Callable[[AsyncSession], Awaitable[None]]
_FOLLOW_UPS = "showfloor.after_unit"


def after_unit(session: AsyncSession, work: FollowUp) -> None:
    """Run ``work`` in a write unit of its own once the unit of ``session`` has ended, committed or
    rolled back: for what must be written although the unit is about to fail (the event of a refusal
    that rolls the unit back, docs/spend-controls.md). Only units opened by ``Database.write`` run it."""
    session.info.setdefault(_FOLLOW_UPS, []).append(work)


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = is_sqlite(engine)
        if self.is_sqlite:
            read_engine, write_engine = engine, engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        else:
            read_engine, write_engine = engine.execution_options(isolation_level="AUTOCOMMIT"), engine
        self._read = async_sessionmaker(read_engine, expire_on_commit=False)
        self._write = async_sessionmaker(write_engine, expire_on_commit=False)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that may write. On SQLite it holds the database's single write lock. Work
        registered with ``after_unit`` runs after it, in a unit of its own."""
        session = self._write()
        try:
            async with _unit(session):
                yield session
        except Exception:
            await self._follow_ups(session)
            raise
        await self._follow_ups(session)

    async def _follow_ups(self, ended: AsyncSession) -> None:
        for work in ended.info.pop(_FOLLOW_UPS, []):
            try:
                async with _unit(self._write()) as session:
                    await work(session)
            except Exception:  # the unit's own outcome stands; a lost follow-up is logged
                log.exception("follow-up work after a unit of work failed")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A unit that only reads and locks nothing (deferred on SQLite, so readers never wait for the
        write lock; autocommit on PostgreSQL)."""
        async with _unit(self._read()) as session:
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def _unit(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """``async with session, session.begin()`` without its cost on the way out: AsyncSession's own exit
    closes through a new shielded task (~0.04 ms); after a commit the connection is already back in
    the pool, so a plain close does. On any error, or if cancelled, the shielded close runs as before."""
    try:
        async with session.begin():
            yield session
    except BaseException:
        await session.__aexit__(None, None, None)
        raise
    await session.close()
