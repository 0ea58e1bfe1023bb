"""Hot statements on PostgreSQL without SQLAlchemy's per-execution machinery.

A ``FastStatement`` wraps one Core statement whose inputs are named ``bindparam``s. On SQLite it runs
through the session as usual. On PostgreSQL it is compiled once (to ``$1, $2, …`` SQL) and run on the
unit of work's own asyncpg connection, in the unit's transaction. Measured on the request path: one
SQLAlchemy execution costs ~0.7 ms of CPU more than the same statement sent by asyncpg; an
authenticated read does two to a dozen of them. Same SQL, same transaction, same results by position
(``row[0]``): rows are asyncpg records here and SQLAlchemy rows on SQLite, so callers index them.

Limits, by design: no expanding ``IN`` parameters and no type processing beyond what asyncpg does
(our only custom type, ``UtcDateTime``, is a pass-through for the aware datetimes PostgreSQL returns).
A failure of the connection itself invalidates it in SQLAlchemy's pool and surfaces as
``DatabaseUnavailable`` (answered 503 like any other outage).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util import greenlet_spawn

# SQLSTATE classes that mean "the database is not there" rather than "this statement is wrong".
_OUTAGE_SQLSTATES = ("08", "57P", "53300")
# ``session.info`` key set by ``Database.read()``: False in read-only units (their fast statements run
# without an explicit transaction).
WRITES = "showfloor_writes"
# ``session.info`` key: (transaction, SQLAlchemy connection, asyncpg adapter) once a fast statement ran.
# A session keeps one connection for its whole transaction, so later statements of that transaction
# skip the lookup (two greenlet hops, ~0.04 ms each); another transaction looks it up again.
_DRIVER = "showfloor_driver"


class DatabaseUnavailable(ConnectionError):
    """The database connection failed under a fast statement (the API answers 503)."""


async def flush_pending(session: AsyncSession) -> None:
    """Flush what the unit of work holds before a fast statement (which bypasses it) — only when it
    holds something: an empty flush still costs a greenlet hop (~0.03 ms)."""
    if session.new or session.deleted or session.dirty:
        await session.flush()


class FastStatement:
    def __init__(self, stmt: ClauseElement, *, sqlite: ClauseElement | None = None) -> None:
        """``sqlite``: the statement to run there instead, when the dialects' constructs differ
        (e.g. ``INSERT … ON CONFLICT`` built with each dialect's ``insert``)."""
        self.stmt = stmt
        self.sqlite_stmt = sqlite if sqlite is not None else stmt
        self._compiled: tuple[str, tuple[str, ...], dict[str, Any]] | None = None

    def _postgres_sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        if self._compiled is None:
            compiled = cast(SQLCompiler, self.stmt.compile(dialect=dialect))
            if "POSTCOMPILE" in str(compiled):
                raise ValueError("a fast statement cannot hold an expanding IN; use = ANY(:array)")
            order = tuple(compiled.positiontup or ())
            self._compiled = (str(compiled), order, dict(compiled.params))
        return self._compiled

    def _sql_and_args(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        sql, order, defaults = self._postgres_sql(dialect)
        return sql, [params[name] if name in params else defaults[name] for name in order]

    async def all(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Sequence[Any]:
        params = params or {}
        bound = session.info.get(_DRIVER)
        if bound is None or bound[0] is not session.sync_session.get_transaction():
            connection = await session.connection()
            if connection.dialect.name != "postgresql":
                result = await session.execute(cast(Executable, self.sqlite_stmt), dict(params))
                return list(result.all())
            raw = await connection.get_raw_connection()
            bound = (session.sync_session.get_transaction(), connection, raw.dbapi_connection)
            session.info[_DRIVER] = bound
        _, connection, adapted = bound
        sql, args = self._sql_and_args(connection.dialect, params)
        return await _run(connection.invalidate, adapted, sql, args, begin=session.info.get(WRITES, True))

    async def all_alone(self, engine: AsyncEngine, params: Mapping[str, Any] | None = None) -> Sequence[Any]:
        """PostgreSQL: the statement as a transaction of its own, on a pooled connection, with no
        session and no BEGIN (``Database.run_alone``). The connection is taken from the pool itself,
        not through ``engine.connect()``: two greenlet hops and no ``Connection`` object, ~0.1 ms of
        CPU less per statement (a quarter of a lone ledger debit's client side)."""
        sql, args = self._sql_and_args(engine.dialect, params or {})
        try:
            pooled = await greenlet_spawn(engine.sync_engine.raw_connection)
        except engine.dialect.loaded_dbapi.Error as error:  # e.g. "the database system is starting up"
            # engine.connect() wraps these for the API's outage handler; no connection is an outage.
            raise DatabaseUnavailable(str(error)) from error
        try:
            return await _run(
                lambda: greenlet_spawn(pooled.invalidate), pooled.dbapi_connection, sql, args, begin=False
            )
        finally:
            await asyncio.shield(greenlet_spawn(pooled.close))  # back to the pool, even when cancelled

    async def first(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Any | None:
        rows = await self.all(session, params)
        return rows[0] if rows else None

    async def one(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Any:
        rows = await self.all(session, params)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}")
        return rows[0]


async def run_on_driver(
    connection: AsyncConnection, sql: str, args: Sequence[Any], *, begin: bool = True
) -> list[Any]:
    """Run ``sql`` on the asyncpg connection under ``connection``, inside its transaction.

    ``begin=False`` (read-only units): a lone statement needs no BEGIN/COMMIT round trips; under READ
    COMMITTED it sees what a transaction's statement would, and a later SQLAlchemy statement of the
    same unit still opens the transaction as usual."""
    raw = await connection.get_raw_connection()
    return await _run(connection.invalidate, raw.dbapi_connection, sql, args, begin=begin)


async def _run(
    invalidate: Callable[[], Awaitable[Any]], adapted: Any, sql: str, args: Sequence[Any], *, begin: bool
) -> list[Any]:
    """``run_on_driver`` with the adapter (SQLAlchemy's wrapper of the asyncpg connection) at hand;
    ``invalidate`` drops the connection from SQLAlchemy's pool."""
    driver: asyncpg.Connection = adapted.driver_connection
    try:
        # SQLAlchemy sends BEGIN lazily, with its first statement; a fast statement may be the first
        # (a ledger call must never run outside the unit's transaction), so start it the same way.
        if begin and adapted._transaction is None:
            await adapted._start_transaction()
        return list(await driver.fetch(sql, *args))
    except Exception as error:
        if _is_outage(error, driver):
            await invalidate()  # never hand this connection out again
            raise DatabaseUnavailable(str(error)) from error
        raise


def _is_outage(error: Exception, driver: asyncpg.Connection) -> bool:
    """The connection, not the statement, failed. Errors may come from asyncpg itself or, through
    ``_start_transaction``, already translated by SQLAlchemy's adapter (same names, same sqlstate)."""
    if driver.is_closed() or isinstance(error, OSError):
        return True
    if type(error).__name__ in ("InterfaceError", "InternalClientError", "ConnectionDoesNotExistError"):
        return True  # the client side of the connection is unusable (e.g. the server went away)
    sqlstate = str(getattr(error, "sqlstate", "") or "")
    return sqlstate.startswith(_OUTAGE_SQLSTATES)
