"""Engine construction for the two backends.

SQLite (embedded default): WAL, foreign keys on, a busy timeout, and transactions we begin ourselves so
that write units can take ``BEGIN IMMEDIATE`` (one writer at a time, no upgrade deadlocks) while read
units stay deferred. PostgreSQL: asyncpg with a pool; row locks serialise writers per account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

SQLITE_BEGIN_OPTION = "sqlite_begin"
# PostgreSQL's query_canceled: a statement cancelled by ``statement_timeout`` (or by an operator).
STATEMENT_TIMEOUT_SQLSTATE = "57014"


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    null_pool: bool = False,
    statement_timeout_ms: int = 0,
) -> AsyncEngine:
    """``statement_timeout_ms`` (PostgreSQL; 0: none) is set on every connection at connect time, so it
    costs no round trip: API processes and workers pass their own setting (docs/operations.md)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # No ping on every checkout (a round trip per transaction, ~12% of a small request's CPU). After a
    # database restart the first use of a stale connection fails; SQLAlchemy then invalidates the whole
    # pool, the request answers 503 (retryable) and the next one reconnects.
    kwargs: dict[str, Any] = {"pool_pre_ping": False}
    if statement_timeout_ms > 0:
        kwargs["connect_args"] = {"server_settings": {"statement_timeout": str(statement_timeout_ms)}}
    if null_pool:
        kwargs["poolclass"] = NullPool
    else:
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
    return create_async_engine(url, **kwargs)


def _sqlite_engine(url: str) -> AsyncEngine:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so "begin" below decides the mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_statement_timeout(exc: BaseException) -> bool:
    """A statement cancelled by its timeout (the SQLAlchemy error, the driver error or its cause)."""
    for candidate in (exc, getattr(exc, "orig", None), exc.__cause__):
        if str(getattr(candidate, "sqlstate", "") or "") == STATEMENT_TIMEOUT_SQLSTATE:
            return True
    return False


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def on_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"
