"""Prepared queries against plain SQLAlchemy execution: client CPU per query, the same statements.

    .venv/bin/python bench/prepared.py [--rounds 6] [--queries 2000]

For the hot fixed queries of the request path (the API-key lookup, the balance's grants, the account's
plan prices, an event with the account's layers), runs each ``--queries`` times in read units on
PostgreSQL, alternating rounds of ``PreparedQuery.all`` (straight to asyncpg), the same compiled statement
through SQLAlchemy's DB-API cursor (the route of a write unit's first statement, which begins the
transaction) and ``session.execute`` of the very same Core statement, and prints the client CPU
(``time.process_time``) and wall time per query of each, and the ratios. One client, one query at a time,
so the figure is the Python cost per query, not queueing; the server's work is the same on every path. Creates its own database and drops it. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.util import greenlet_spawn

from showfloor.server.access import unlock as event_unlock
from showfloor.server.accounts import service as accounts
from showfloor.server.db import prepared as prepared_module
from showfloor.server.db.prepared import PreparedQuery
from showfloor.server.db.uow import Database
from showfloor.server.ledger import balance, pricing
from showfloor.server.ledger import service as ledger
from showfloor.server.models import Event

sys.path.insert(0, str(Path(__file__).parent))
from scratch import scratch_database


async def seed(db: Database) -> dict[str, dict[str, Any]]:
    """One account with a key, two grants, a plan and an event: the parameters of each query."""
    async with db.write() as session:
        account = await accounts.create_account(session, "bench")
        issued = await accounts.create_key(session, account.id)
        await ledger.grant(session, account.id, "gift", 10_000, expires_at=None, op_key="g")
        await ledger.grant(
            session, account.id, "addon", 500, expires_at=datetime(2099, 1, 1, tzinfo=UTC), op_key="a"
        )
        event_pk = (
            await session.execute(
                insert(Event)
                .values(event_id="BENCH-1", name="Bench", categories=[], topics=[])
                .returning(Event.id)
            )
        ).scalar_one()
    now = datetime.now(UTC)
    return {
        "key lookup": {"digest": accounts.hash_key(issued.key)},
        "balance grants": {"account_id": account.id, "now": now},
        "plan prices": {"plan_id": 1},
        "event + layers": {"account_id": account.id, "pk": event_pk},
    }


QUERIES: dict[str, PreparedQuery] = {
    "key lookup": accounts._KEY_LOOKUP,
    "balance grants": balance._ACTIVE_GRANTS,
    "plan prices": pricing._PLAN_PRICES,
    "event + layers": event_unlock._EVENT_BY_ID,
}


async def timed(db: Database, n: int, run: Callable[[Any], Awaitable[Any]]) -> tuple[float, float]:
    """CPU and wall microseconds per query over ``n`` queries in one read unit."""
    async with db.read() as session:
        await run(session)  # the connection checked out, the statement prepared
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            await run(session)
        return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--pg-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    async with scratch_database(args.pg_dsn, "prepared") as db:
        params = await seed(db)
        print(
            f"{args.queries} queries per cell, {args.rounds} alternating rounds, load {os.getloadavg()[0]:.1f}"
        )
        print(f"{'query':16} {'prepared cpu µs':>16} {'cursor cpu µs':>14} {'execute cpu µs':>15} "
              f"{'vs cursor':>9} {'vs execute':>10} {'prepared wall µs':>17} {'execute wall µs':>16}")  # fmt: skip
        for label, query in QUERIES.items():
            values = params[label]
            prepared: list[tuple[float, float]] = []
            cursor: list[tuple[float, float]] = []
            plain: list[tuple[float, float]] = []
            for _ in range(args.rounds):
                prepared.append(await timed(db, args.queries, lambda s, q=query, v=values: q.all(s, v)))
                cursor.append(await timed(db, args.queries, lambda s, q=query, v=values: _cursor(s, q, v)))
                plain.append(await timed(db, args.queries, lambda s, q=query, v=values: _execute(s, q, v)))
            p_cpu = statistics.median(c for c, _ in prepared)
            c_cpu = statistics.median(c for c, _ in cursor)
            e_cpu = statistics.median(c for c, _ in plain)
            p_wall = statistics.median(w for _, w in prepared)
            e_wall = statistics.median(w for _, w in plain)
            print(f"{label:16} {p_cpu:16.0f} {c_cpu:14.0f} {e_cpu:15.0f} {p_cpu / c_cpu:9.2f} "
                  f"{p_cpu / e_cpu:10.2f} {p_wall:17.0f} {e_wall:16.0f}")  # fmt: skip


async def _execute(session: Any, query: PreparedQuery, values: dict[str, Any]) -> list[Any]:
    return [row._mapping for row in await session.execute(query.stmt, values)]


# session → its DB-API connection, looked up once per unit as PreparedQuery does
_CURSORS: dict[int, Any] = {}


async def _cursor(session: Any, query: PreparedQuery, values: dict[str, Any]) -> list[Any]:
    """The compiled statement through SQLAlchemy's DB-API cursor (``prepared._fetch``)."""
    if id(session) not in _CURSORS:
        _CURSORS.clear()
        connection = await session.connection()
        _CURSORS[id(session)] = (connection.dialect, (await connection.get_raw_connection()).dbapi_connection)
    dialect, dbapi_connection = _CURSORS[id(session)]
    sql, args = query.bind(dialect, values)
    return await greenlet_spawn(prepared_module._fetch, dbapi_connection, sql, args)


if __name__ == "__main__":
    asyncio.run(main())
