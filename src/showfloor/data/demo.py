"""Load the generated demo dataset into the database in one transaction (all or nothing)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import text

from showfloor.data.bulk import (
    CATALOG_TABLES,
    NullProgress,
    Progress,
    catalog_is_empty,
    delete_catalog,
    is_postgres,
    reset_sequences,
    sqlite_search_rebuilt_after,
    write_rows,
)
from showfloor.data.counts import recompute_event_counts
from showfloor.data.generator import DEFAULT_SEED, DemoGenerator, DemoSize
from showfloor.server.db.engine import SQLITE_BEGIN_OPTION
from showfloor.server.db.uow import Database
from showfloor.server.errors import Conflict


@dataclass
class LoadResult:
    size: DemoSize
    seed: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)


async def load_demo(
    db: Database,
    size: DemoSize,
    *,
    seed: int = DEFAULT_SEED,
    replace: bool = False,
    progress: Progress | None = None,
    batch_size: int = 5000,
) -> LoadResult:
    """Generate and load ``size`` rows. Refuses a non-empty catalog unless ``replace`` (which deletes it)."""
    progress = progress or NullProgress()
    started = time.perf_counter()
    rows: Counter[str] = Counter()
    engine = db.engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"}) if db.is_sqlite else db.engine
    async with engine.begin() as conn:
        if not await catalog_is_empty(conn) and not replace:
            raise Conflict("The catalog already has data; pass --replace to delete it and load anew.")
        async with sqlite_search_rebuilt_after(conn):
            await delete_catalog(conn)
            progress.start("Generating and loading", size.entities)
            for batch in DemoGenerator(size, seed=seed, batch_size=batch_size).batches():
                await write_rows(conn, batch.table, batch.rows)
                rows[batch.table] += len(batch.rows)
                progress.advance(batch.entities)
        await recompute_event_counts(conn)
        await reset_sequences(conn)
        if is_postgres(conn):
            for name in CATALOG_TABLES:
                await conn.execute(text(f"ANALYZE {name}"))
    return LoadResult(size=size, seed=seed, seconds=time.perf_counter() - started, rows=dict(rows))
