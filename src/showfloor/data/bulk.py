"""Bulk writing of catalog rows on both backends, and progress reporting shared by the loaders.

SQLite: one ``executemany`` per batch on the driver connection, values converted as SQLAlchemy would
store them (its per-value bind processing costs more than the insert itself); the FTS5 triggers of
migration 0002 keep the search tables in step row by row. PostgreSQL: asyncpg's binary ``COPY`` through the raw connection,
inside the caller's transaction; the trigram indexes are ordinary indexes and stay consistent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date
from typing import Any, Protocol

from sqlalchemy import JSON, Boolean, Date, Table, delete, exists, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from showfloor.server.db.base import UtcDateTime
from showfloor.server.errors import Conflict
from showfloor.server.models import Event, EventExhibitor, EventPersonnel, Exhibitor, Personnel

# Foreign-key order: parents first.
CATALOG_TABLES: dict[str, Table] = {
    "events": Event.__table__,  # type: ignore[dict-item]
    "exhibitors": Exhibitor.__table__,  # type: ignore[dict-item]
    "event_exhibitors": EventExhibitor.__table__,  # type: ignore[dict-item]
    "personnel": Personnel.__table__,  # type: ignore[dict-item]
    "event_personnel": EventPersonnel.__table__,  # type: ignore[dict-item]
}


class Progress(Protocol):
    def start(self, description: str, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...


class NullProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


def is_postgres(conn: AsyncConnection | AsyncSession) -> bool:
    dialect = conn.dialect if isinstance(conn, AsyncConnection) else conn.get_bind().dialect
    return dialect.name == "postgresql"


async def catalog_is_empty(conn: AsyncConnection | AsyncSession) -> bool:
    for name in ("events", "exhibitors", "personnel"):
        table = CATALOG_TABLES[name]
        if (await conn.execute(select(exists().select_from(table)))).scalar():
            return False
    return True


async def delete_catalog(conn: AsyncConnection | AsyncSession) -> None:
    """Delete every catalog row (children first). Refused while accounts' unlocks still point at them."""
    try:
        for table in reversed(CATALOG_TABLES.values()):
            await conn.execute(delete(table))
    except IntegrityError as exc:
        raise Conflict(
            "Catalog rows are referenced by accounts' unlocks; they cannot be replaced. "
            "Load into a fresh database instead."
        ) from exc


async def write_rows(conn: AsyncConnection, table_name: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts holding every column) into ``table_name`` inside the open transaction."""
    if not rows:
        return
    table = CATALOG_TABLES[table_name]
    if is_postgres(conn):
        await _copy_rows(conn, table, rows)
    else:
        await _sqlite_executemany(conn, table, rows)


def _sqlite_converter(column_type: Any) -> Callable[[Any], Any]:
    """What SQLAlchemy's bind processing would store, done once per value without its overhead."""
    if isinstance(column_type, JSON):
        return json.dumps
    if isinstance(column_type, Boolean):
        return int
    if isinstance(column_type, UtcDateTime):
        return lambda v: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(column_type, Date):
        return date.isoformat
    return lambda v: v


async def _sqlite_executemany(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    columns = [c.name for c in table.columns]
    converters = [_sqlite_converter(c.type) for c in table.columns]
    records = [
        tuple(None if (v := row.get(c)) is None else f(v) for c, f in zip(columns, converters, strict=True))
        for row in rows
    ]
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    # The raw connection is inside the transaction SQLAlchemy began (BEGIN IMMEDIATE) on it.
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.executemany(sql, records)


async def _copy_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    columns = [c.name for c in table.columns]
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    records = [
        tuple(json.dumps(row[c]) if c in json_columns else row.get(c) for c in columns) for row in rows
    ]
    # Make sure SQLAlchemy has opened its transaction on this connection before COPY uses it directly.
    await conn.execute(text("SELECT 1"))
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table.name, records=records, columns=columns)


@asynccontextmanager
async def sqlite_search_rebuilt_after(conn: AsyncConnection) -> AsyncIterator[None]:
    """SQLite: inside the block the FTS5 sync triggers of migration 0002 are dropped; after it every FTS5
    table is rebuilt from its content table and the triggers are re-created from their saved SQL.

    One rebuild is much cheaper than indexing 150,000 rows one trigger call at a time. All of it is in
    the caller's transaction, so a failure rolls the triggers back too. No-op on PostgreSQL (its
    trigram indexes are ordinary indexes, maintained by COPY).
    """
    if is_postgres(conn):
        yield
        return
    tables = ", ".join(f"'{name}'" for name in CATALOG_TABLES)
    fts_names = ", ".join(f"'{name}_fts'" for name in CATALOG_TABLES)
    triggers = (
        await conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                f"AND tbl_name IN ({tables}) AND sql LIKE '%_fts%'"
            )
        )
    ).all()
    fts_tables = (
        (
            await conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'"
                    f" AND name IN ({fts_names})"
                )
            )
        )
        .scalars()
        .all()
    )
    for name, _sql in triggers:
        await conn.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for fts in fts_tables:
        await conn.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"))
    for _name, sql in triggers:
        await conn.execute(text(sql))


async def reset_sequences(conn: AsyncConnection) -> None:
    """PostgreSQL: after rows were written with explicit ids, move each id sequence past the largest id."""
    if not is_postgres(conn):
        return
    for name in CATALOG_TABLES:
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
            )
        )
