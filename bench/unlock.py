"""Contact-unlock benchmark on PostgreSQL: a 10,000-contact batch worked by 1, 2 and 4 real
``showfloor worker`` processes. Not a test: it prints figures.

    .venv/bin/python bench/unlock.py [--contacts 10000] [--workers 1,2,4] [--concurrency 16] [--latency-ms 20]

For each worker count: time from submission to fully settled and items/s, beside the ideal rate
(workers × concurrency ÷ latency) as a ratio; then the same with a zero-latency provider. Each run also
prints the CPU each item cost the worker processes and the PostgreSQL backends of its database (from
/proc, so other load on the machine does not inflate it) and the bound they put on a machine with this
many cores: cores ÷ CPU per item. Each run uses a fresh database (``showfloor_bench_unlock_*``) on
--pg-dsn, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import func, insert, select

from showfloor.server.accounts import service as accounts
from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import upgrade
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.models import Personnel, UnlockTask, UnlockTaskItem
from showfloor.server.unlocks import service

sys.path.insert(0, str(Path(__file__).parent))
from cpu import process_cpu

BATCH = 2000  # the API's per-submission limit


def url_for(admin_dsn: str, dbname: str) -> str:
    return admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{dbname}"


async def prepare(admin_dsn: str, contacts: int) -> tuple[str, str, Database, int, list[int]]:
    name = f"showfloor_bench_unlock_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = url_for(admin_dsn, name)
    engine = make_engine(url, null_pool=True)
    await upgrade(engine)
    await engine.dispose()
    db = Database(make_engine(url))
    async with db.write() as session:
        account = await accounts.create_account(session, "bench")
        await ledger.grant(session, account.id, "gift", contacts * 15, expires_at=None, op_key="bench")
        rows = [
            {
                "full_name": f"Person {n}",
                "full_name_norm": f"person {n}",
                "email": f"p{n}@bench.example",
                "opted_out": False,
            }
            for n in range(contacts)
        ]
        await session.execute(insert(Personnel), rows)
        ids = list((await session.scalars(select(Personnel.id).order_by(Personnel.id))).all())
    return name, url, db, account.id, ids


async def submit_all(db: Database, account_id: int, ids: list[int]) -> None:
    for start in range(0, len(ids), BATCH):
        async with db.write() as session:
            await service.submit(
                session,
                account_id=account_id,
                api_key_id=None,
                kind="email",
                personnel_ids=[str(i) for i in ids[start : start + BATCH]],
                event_ref=None,
                call_source="api",
            )


async def open_tasks(db: Database) -> int:
    async with db.read() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(UnlockTask).where(UnlockTask.status == "open")
            )
            or 0
        )


async def settled(db: Database) -> int:
    async with db.read() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(UnlockTaskItem)
                .where(UnlockTaskItem.status.in_(("unlocked", "failed")))
            )
            or 0
        )


async def backend_pids(admin_dsn: str, dbname: str) -> list[int]:
    conn = await asyncpg.connect(admin_dsn)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", dbname)
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


async def run_once(
    admin_dsn: str, contacts: int, workers: int, concurrency: int, latency_ms: float, settle_group: int
) -> tuple[float, float, float]:
    """Seconds from submission to settled, and worker and PostgreSQL CPU milliseconds per item."""
    name, url, db, account_id, ids = await prepare(admin_dsn, contacts)
    env = {
        **os.environ,
        "SHOWFLOOR_DATABASE_URL": url,
        "SHOWFLOOR_UNLOCK_FAULT_LATENCY_MS": str(latency_ms),
        "SHOWFLOOR_WORKER_POLL_SECONDS": "0.05",
        "SHOWFLOOR_WORKER_SETTLE_GROUP": str(settle_group),
        "SHOWFLOOR_LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "showfloor", "worker", "--provider", "fault"]
    cmd += ["--concurrency", str(concurrency)]
    procs = [await asyncio.create_subprocess_exec(*cmd, env=env) for _ in range(workers)]
    try:
        await asyncio.sleep(2.5)  # processes up and polling before the work arrives
        worker_pids = [proc.pid for proc in procs]
        backends = await backend_pids(admin_dsn, name)
        cpu_before = process_cpu(worker_pids), process_cpu(backends)
        started = time.perf_counter()
        await submit_all(db, account_id, ids)
        while await open_tasks(db) > 0:  # noqa: ASYNC110 (polling another process's progress)
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        backends = sorted(set(backends) | set(await backend_pids(admin_dsn, name)))
        worker_ms = (process_cpu(worker_pids) - cpu_before[0]) / contacts * 1000
        postgres_ms = (process_cpu(backends) - cpu_before[1]) / contacts * 1000
        assert await settled(db) == contacts
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            await asyncio.wait_for(proc.wait(), 30)
        await db.dispose()
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    return elapsed, worker_ms, postgres_ms


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument(
        "--settle-group",
        default="32",
        help="items per settlement transaction to measure (32 = the default; 1 = one transaction per item)",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"{args.contacts} contacts, per-worker concurrency {args.concurrency}")
    groups = [int(n) for n in args.settle_group.split(",")]
    header = (
        f"{'group':>5} {'provider':>14} {'workers':>7} {'seconds':>8} {'items/s':>9} {'ideal/s':>9} {'ratio':>6}"
        f" {'worker ms/item':>14} {'pg ms/item':>10} {'bound/s':>8}"
    )
    print(header)
    for group in groups:
        for latency in (args.latency_ms, 0.0):
            for workers in counts:
                elapsed, worker_ms, postgres_ms = await run_once(
                    args.pg_dsn, args.contacts, workers, args.concurrency, latency, group
                )
                bound = (os.cpu_count() or 1) * 1000 / (worker_ms + postgres_ms)
                rate = args.contacts / elapsed
                ideal = workers * args.concurrency / (latency / 1000) if latency else float("nan")
                ratio = f"{rate / ideal:6.0%}" if latency else "   n/a"
                label = f"{latency:g} ms latency"
                row = (
                    f"{group:>5} {label:>14} {workers:>7} {elapsed:8.2f} {rate:9.0f} {ideal:9.0f} {ratio}"
                    f" {worker_ms:14.3f} {postgres_ms:10.3f} {bound:8.0f}"
                )
                print(row, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
