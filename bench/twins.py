"""The ledger's PostgreSQL twins against their Python twins, on the same PostgreSQL database.

    .venv/bin/python bench/twins.py [--rounds 5] [--ops 300] [--captures 32]

The ledger keeps every money rule twice: in Python (``ledger/spending.py``, ``ledger/holds.py``; the
only path on SQLite) and as PostgreSQL functions (``ledger/sql/*.sql``). The functions are a fast path
and must earn their place. This runs both twins on one PostgreSQL database, one client, one write unit
per operation (BEGIN, the work, COMMIT), in alternating rounds, and prints the wall and client-CPU
time per operation of each and their ratio:

* debit: a spend across two grants (account lock, grants, operation, entries);
* hold + settle: a hold of ``--captures`` credits, then its captures and the final release in one unit,
  as an unlock group settles.

The twins are proven equal by ``tests/integration/test_backend_diff.py``; this shows what the second
copy buys. Creates its own database and drops it. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from showfloor.server.accounts import service as accounts
from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import upgrade
from showfloor.server.db.uow import Database
from showfloor.server.ledger import functions, holds, spending
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.types import ChargeContext, HoldSettlement

Op = Callable[[Database, int, str], Awaitable[None]]


def url_for(admin_dsn: str, dbname: str) -> str:
    return admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{dbname}"


async def admin(admin_dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def new_account(db: Database) -> int:
    """An account with two grants, so a spend crosses grants as real ones do."""
    async with db.write() as session:
        account = await accounts.create_account(session, "twins")
        await ledger.grant(session, account.id, "gift", 10_000_000, expires_at=None, op_key="g")
        await ledger.grant(
            session, account.id, "addon", 50, expires_at=datetime(2099, 1, 1, tzinfo=UTC), op_key="a"
        )
        return account.id


async def debit_sql(db: Database, account_id: int, key: str) -> None:
    async with db.write() as session:
        await functions.spend(
            session, "debit", ChargeContext(account_id), 7, key, datetime.now(UTC), account_locked=False
        )


async def debit_python(db: Database, account_id: int, key: str) -> None:
    async with db.write() as session:
        await spending.spend(session, "debit", ChargeContext(account_id), 7, key, datetime.now(UTC))


def hold_and_settle(captures: int, python: bool) -> Op:
    """A hold of ``captures`` credits, then one capture per item and the final release."""

    async def run(db: Database, account_id: int, key: str) -> None:
        now = datetime.now(UTC)
        ctx = ChargeContext(account_id)
        async with db.write() as session:
            if python:
                _, hold_id = await spending.spend(session, "hold", ctx, captures + 1, key, now)
            else:
                _, hold_id = await functions.spend(
                    session, "hold", ctx, captures + 1, key, now, account_locked=False
                )
        assert hold_id is not None
        settlements = [HoldSettlement("capture", 1, f"{key}:c{i}") for i in range(captures)]
        settlements.append(HoldSettlement("release", None, f"{key}:final"))
        async with db.write() as session:
            if python:
                await holds.settle(session, hold_id, settlements, now)
            else:
                await functions.settle(session, hold_id, settlements, now)

    return run


async def timed(db: Database, account_id: int, n: int, op: Op) -> tuple[float, float]:
    """Wall and client-CPU microseconds per operation over ``n`` operations."""
    tag = uuid.uuid4().hex[:8]
    await op(db, account_id, f"warm-{tag}")
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        await op(db, account_id, f"{tag}-{i}")
    return (time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=300, help="operations per cell")
    parser.add_argument("--captures", type=int, default=32, help="captures per settled hold")
    parser.add_argument("--pg-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"showfloor_bench_twins_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await admin(args.pg_dsn, f'CREATE DATABASE "{name}"')
    db = Database(make_engine(url_for(args.pg_dsn, name)))
    cells: dict[str, tuple[Op, Op]] = {
        "debit": (debit_sql, debit_python),
        f"hold + settle {args.captures}": (
            hold_and_settle(args.captures, python=False),
            hold_and_settle(args.captures, python=True),
        ),
    }
    try:
        await upgrade(db.engine)
        account_id = await new_account(db)
        print(f"{args.ops} operations per cell, {args.rounds} alternating rounds (median), "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"{'operation':18} {'SQL wall µs':>12} {'Python wall µs':>15} {'wall ratio':>10} "
              f"{'SQL cpu µs':>11} {'Python cpu µs':>14} {'cpu ratio':>9}")  # fmt: skip
        for label, (sql_op, python_op) in cells.items():
            sql_runs, python_runs = [], []
            for _ in range(args.rounds):
                sql_runs.append(await timed(db, account_id, args.ops, sql_op))
                python_runs.append(await timed(db, account_id, args.ops, python_op))
            s_wall = statistics.median(w for w, _ in sql_runs)
            p_wall = statistics.median(w for w, _ in python_runs)
            s_cpu = statistics.median(c for _, c in sql_runs)
            p_cpu = statistics.median(c for _, c in python_runs)
            print(
                f"{label:18} {s_wall:12.0f} {p_wall:15.0f} {s_wall / p_wall:10.2f} "
                f"{s_cpu:11.0f} {p_cpu:14.0f} {s_cpu / p_cpu:9.2f}"
            )
    finally:
        await db.dispose()
        await admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
