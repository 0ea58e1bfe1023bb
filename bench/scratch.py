"""What the two-path benchmarks share (``twins.py``, ``portable.py``, ``prepared.py``): a scratch PostgreSQL
database, migrated and dropped at the end, and alternating rounds of two ways of doing one thing."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg

from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import upgrade
from showfloor.server.db.uow import Database

# One operation; its argument numbers the call (a fresh op key, the next keyword).
Op = Callable[[int], Awaitable[None]]


def url_for(admin_dsn: str, dbname: str) -> str:
    return admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{dbname}"


async def admin(admin_dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(admin_dsn: str, prefix: str) -> AsyncIterator[Database]:
    """A freshly migrated database of its own, dropped at the end."""
    name = f"showfloor_bench_{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await admin(admin_dsn, f'CREATE DATABASE "{name}"')
    db = Database(make_engine(url_for(admin_dsn, name)))
    try:
        await upgrade(db.engine)
        yield db
    finally:
        await db.dispose()
        await admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def timed(n: int, op: Op) -> tuple[float, float]:
    """Wall and client-CPU microseconds per operation over ``n`` operations (after one warm-up call)."""
    await op(-1)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        await op(i)
    return (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6


async def compare(cells: dict[str, tuple[Op, Op]], names: tuple[str, str], rounds: int, ops: int) -> None:
    """For each cell, alternate ``rounds`` rounds of ``ops`` operations of its two ways and print the
    medians of wall and client-CPU time per operation, and the first way's ratio to the second."""
    first, second = names
    print(f"{ops} operations per cell, {rounds} alternating rounds (median), load {os.getloadavg()[0]:.1f}")
    print(f"{'operation':18} {first + ' wall µs':>16} {second + ' wall µs':>18} {'wall ratio':>10} "
          f"{first + ' cpu µs':>15} {second + ' cpu µs':>17} {'cpu ratio':>9}")  # fmt: skip
    for label, (one, other) in cells.items():
        a, b = [], []
        for _ in range(rounds):
            a.append(await timed(ops, one))
            b.append(await timed(ops, other))
        a_wall, b_wall = statistics.median(w for w, _ in a), statistics.median(w for w, _ in b)
        a_cpu, b_cpu = statistics.median(c for _, c in a), statistics.median(c for _, c in b)
        print(f"{label:18} {a_wall:16.0f} {b_wall:18.0f} {a_wall / b_wall:10.2f} "
              f"{a_cpu:15.0f} {b_cpu:17.0f} {a_cpu / b_cpu:9.2f}")  # fmt: skip
