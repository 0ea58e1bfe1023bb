"""Prepared queries: a fixed statement the request path runs often, compiled once and sent through the
database driver without SQLAlchemy's per-execution machinery (docs/benchmarks.md, "Prepared queries":
the figure and the command that measures it; AGENTS.md lists it among the kept fast paths).

A ``PreparedQuery`` wraps one Core statement whose inputs are named ``bindparam``s. On PostgreSQL it is
compiled once (to ``$1, $2, …`` SQL) and sent on the unit of work's own connection, in the unit's
transaction: straight to asyncpg (its public ``Connection.fetch``) when the connection is in autocommit
(read units, see ``uow.Database.read``) or already inside the unit's transaction; otherwise — the first
statement of a write unit — through the DB-API cursor, which begins the transaction the way SQLAlchemy
does. asyncpg prepares and caches each statement per connection. On SQLite it runs through the session
as usual. Rows are read by column name on both: ``row["name"]``.

Limits, by design: no expanding ``IN`` parameters (use ``= ANY(:array)``), no type processing beyond
what the driver does (our only custom type, ``UtcDateTime``, passes PostgreSQL's aware datetimes through).
A failure of the connection itself invalidates it in SQLAlchemy's pool and surfaces as
``DatabaseUnavailable`` (answered 503 like any other outage).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util import greenlet_spawn

from showfloor.server.db.engine import is_statement_timeout

Row = Mapping[str, Any]

# SQLSTATE classes that mean "the database is not there" rather than "this statement is wrong".
_OUTAGE_SQLSTATES = ("08", "57P", "53300")
# ``session.info`` key: the unit's ``_Bound`` connection once a prepared query ran. A session keeps one
# connection for its whole transaction, so later queries of that transaction skip the look-up.
_CONNECTION = "showfloor_dbapi_connection"


@dataclass(frozen=True)
class _Bound:
    transaction: Any  # the session's transaction this connection serves
    connection: AsyncConnection
    dbapi_connection: Any  # SQLAlchemy's DB-API adapter (its cursor begins transactions)
    driver: Any  # the asyncpg connection under it
    autocommit: bool

    def in_transaction(self) -> bool:
        """Whether a statement sent straight to asyncpg runs where the unit expects: in autocommit, or
        inside the transaction the adapter already began."""
        return self.autocommit or bool(self.driver.is_in_transaction())


class DatabaseUnavailable(ConnectionError):
    """The database connection failed under a prepared query (the API answers 503)."""


class StatementTimedOut(DatabaseUnavailable):
    """A prepared query ran past ``statement_timeout`` (the API answers 503 as for an outage)."""


async def flush_pending(session: AsyncSession) -> None:
    """Flush what the unit of work holds before a prepared query (which bypasses it) — only when it holds
    something: an empty flush still costs a round of the session's machinery."""
    if session.new or session.deleted or session.dirty:
        await session.flush()


class PreparedQuery:
    def __init__(self, stmt: ClauseElement, *, sqlite: ClauseElement | None = None) -> None:
        """``sqlite``: the statement to run there instead, when the dialects' constructs differ
        (e.g. ``INSERT … ON CONFLICT`` built with each dialect's ``insert``)."""
        self.stmt = stmt
        self.sqlite_stmt = sqlite if sqlite is not None else stmt
        self._compiled: tuple[str, tuple[str, ...], dict[str, Any]] | None = None

    def bind(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The PostgreSQL text (compiled on first use) and its positional arguments for ``params``."""
        if self._compiled is None:
            compiled = cast(SQLCompiler, self.stmt.compile(dialect=dialect))
            if "POSTCOMPILE" in str(compiled):
                raise ValueError("a prepared query cannot hold an expanding IN; use = ANY(:array)")
            self._compiled = (str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))
        sql, order, defaults = self._compiled
        return sql, [params[name] if name in params else defaults[name] for name in order]

    async def all(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> list[Row]:
        params = params or {}
        bound = session.info.get(_CONNECTION)
        transaction = session.sync_session.get_transaction()
        if bound is None or bound.transaction is not transaction:
            connection = await session.connection()
            if connection.dialect.name != "postgresql":
                result = await session.execute(cast(Executable, self.sqlite_stmt), dict(params))
                return [cast(Row, row._mapping) for row in result]
            raw = await connection.get_raw_connection()
            assert connection.sync_connection is not None  # an open connection of the session
            isolation = connection.sync_connection.get_execution_options().get("isolation_level")
            bound = _Bound(
                transaction,
                connection,
                raw.dbapi_connection,
                raw.driver_connection,
                isolation == "AUTOCOMMIT",
            )
            session.info[_CONNECTION] = bound
        sql, args = self.bind(bound.connection.dialect, params)
        try:
            if bound.in_transaction():
                return cast(list[Row], await bound.driver.fetch(sql, *args))
            return await greenlet_spawn(_fetch, bound.dbapi_connection, sql, args)
        except Exception as error:
            if _is_outage(error, bound.driver):
                await bound.connection.invalidate()  # never hand this connection out again
                raise DatabaseUnavailable(str(error)) from error
            if is_statement_timeout(error):
                raise StatementTimedOut(str(error)) from error  # the connection itself is fine
            raise

    async def first(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.all(session, params)
        return rows[0] if rows else None

    async def one(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Row:
        rows = await self.all(session, params)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}")
        return rows[0]


def _fetch(dbapi_connection: Any, sql: str, args: Sequence[Any]) -> list[Row]:
    """Run on the DB-API cursor (inside a greenlet, as SQLAlchemy's asyncio adapter expects). asyncpg's
    records are mappings by column name."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _is_outage(error: Exception, driver: Any) -> bool:
    """The connection, not the statement, failed (the error or the driver error under it says so)."""
    if driver.is_closed():
        return True
    for candidate in (error, error.__cause__):
        if isinstance(candidate, OSError):
            return True
        if type(candidate).__name__ in (
            "InterfaceError",
            "InternalClientError",
            "ConnectionDoesNotExistError",
        ):
            return True
        sqlstate = str(getattr(candidate, "sqlstate", "") or "")
        if sqlstate.startswith(_OUTAGE_SQLSTATES):
            return True
    return False
