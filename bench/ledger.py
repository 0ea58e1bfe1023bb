"""Ledger benchmark on PostgreSQL: debits/s through ``ledger.service`` next to ``pgbench -N``, and the
peak RSS of one ``showfloor serve`` process after start-up. Not a test: it prints figures.

    .venv/bin/python bench/ledger.py [--seconds 10] [--clients 1,8,64] [--processes 1]

Each debit is ``service.debit`` inside ``Database.write()`` (BEGIN, ``ledger_spend``, COMMIT), as a paid
action charges.

With ``--processes P`` each cell's N workers are spread over P Python processes (as ``showfloor serve
--workers P`` spreads requests), so one process's client-side CPU is not the only bound.

It creates its own databases (``showfloor_bench_*``) on the server at --pg-dsn and drops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import asyncpg

from showfloor.server.accounts import service as accounts
from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import upgrade
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service

ACCOUNTS = 1000
BIN = Path(sys.executable).parent


def dsn_for(admin_dsn: str, dbname: str, driver: str = "postgresql") -> str:
    return admin_dsn.rsplit("/", 1)[0].replace("postgresql://", f"{driver}://", 1) + f"/{dbname}"


async def create_db(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_db(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def seed(db: Database) -> list[int]:
    ids: list[int] = []
    async with db.write() as session:
        for i in range(ACCOUNTS):
            account = await accounts.create_account(session, f"bench-{i}")
            await service.grant(session, account.id, "gift", 10**12, expires_at=None, op_key="seed")
            ids.append(account.id)
    return ids


async def ledger_cell(db: Database, account_ids: list[int], workers: int, seconds: float) -> float:
    """Debits per second with ``workers`` concurrent tasks, each debit its own transaction."""
    deadline = time.perf_counter() + seconds
    run = uuid.uuid4().hex[:8]
    counts = [0] * workers

    async def worker(n: int) -> None:
        rng = random.Random(n)
        while time.perf_counter() < deadline:
            account_id = account_ids[0] if len(account_ids) == 1 else rng.choice(account_ids)
            ctx, key = service.ChargeContext(account_id), f"{run}-{n}-{counts[n]}"
            async with db.write() as session:
                await service.debit(session, ctx, 1, key)
            counts[n] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(workers)))
    return sum(counts) / (time.perf_counter() - started)


async def multi_process_cell(dsn: str, accounts: str, workers: int, processes: int, seconds: float) -> float:
    """The same cell, its workers spread over ``processes`` child processes (see ``child_main``)."""
    shares = [workers // processes + (1 if i < workers % processes else 0) for i in range(processes)]
    start_at = time.time() + 3.0  # every child connected and warm before the clock starts
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--child", dsn, accounts, str(share), str(seconds), str(start_at),
            stdout=subprocess.PIPE,
        )
        for share in shares
        if share > 0
    ]  # fmt: skip
    outputs = await asyncio.gather(*(child.communicate() for child in children))
    return sum(float(out.decode().strip() or 0) for out, _ in outputs)


async def child_main(dsn: str, accounts: str, workers: int, seconds: float, start_at: float) -> None:
    first, last = (int(x) for x in accounts.split("-"))
    db = Database(make_engine(dsn, pool_size=workers + 2, max_overflow=0))
    try:
        ids = list(range(first, last + 1))
        await ledger_cell(db, ids, workers, 0.2)  # warm the pool and the prepared statements
        await asyncio.sleep(max(0.0, start_at - time.time()))
        print(await ledger_cell(db, ids, workers, seconds), flush=True)
    finally:
        await db.dispose()


def pgbench_cell(dsn: str, clients: int, seconds: float) -> float:
    done = subprocess.run(
        ["pgbench", "-N", "-n", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
         "-T", str(int(seconds)), dsn],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    match = re.search(r"tps = ([0-9.]+)", done.stdout)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"pgbench failed: {done.stderr.strip()[-500:]}")
    return float(match.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_peak_rss_mb() -> float:
    """Start ``showfloor serve`` on SQLite, wait for /healthz, read VmHWM (peak resident set)."""
    tmp = Path(tempfile.mkdtemp(prefix="showfloor-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
    env["SHOWFLOOR_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    port = free_port()
    try:
        subprocess.run([str(BIN / "showfloor"), "admin", "migrate"], env=env, check=True, capture_output=True)
        proc = subprocess.Popen(
            [str(BIN / "showfloor"), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("showfloor serve did not become healthy")
            status = Path(f"/proc/{proc.pid}/status").read_text()
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            assert match, status
            return int(match.group(1)) / 1024
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each cell")
    parser.add_argument("--clients", default="1,8,64", help="concurrent workers / pgbench clients")
    parser.add_argument("--pg-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--processes", type=int, default=1, help="Python processes sharing each cell")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    ledger_db, pgbench_db = f"showfloor_bench_{suffix}", f"showfloor_bench_pgbench_{suffix}"
    await create_db(args.pg_dsn, ledger_db)
    await create_db(args.pg_dsn, pgbench_db)
    rows: list[tuple[int, float, float, float]] = []
    try:
        init = ["pgbench", "-i", "-q", "-s", "10", dsn_for(args.pg_dsn, pgbench_db)]
        await asyncio.to_thread(subprocess.run, init, check=True, capture_output=True)
        db = Database(make_engine(dsn_for(args.pg_dsn, ledger_db, "postgresql+asyncpg"),
                                  pool_size=max(clients) + 4, max_overflow=4))  # fmt: skip
        try:
            await upgrade(db.engine)
            ids = await seed(db)
            ledger_dsn = dsn_for(args.pg_dsn, ledger_db, "postgresql+asyncpg")
            for n in clients:
                if args.processes > 1:
                    await db.engine.dispose()
                    one_range, all_range = f"{ids[0]}-{ids[0]}", f"{ids[0]}-{ids[-1]}"
                    cell = (n, args.processes, args.seconds)
                    one = await multi_process_cell(ledger_dsn, one_range, *cell)
                    spread = await multi_process_cell(ledger_dsn, all_range, *cell)
                else:
                    one = await ledger_cell(db, ids[:1], n, args.seconds)
                    spread = await ledger_cell(db, ids, n, args.seconds)
                await db.engine.dispose()  # give pgbench the connections our pool held
                pgb = await asyncio.to_thread(pgbench_cell, dsn_for(args.pg_dsn, pgbench_db), n, args.seconds)
                rows.append((n, one, spread, pgb))
                print(f"  {n} workers done", file=sys.stderr, flush=True)
        finally:
            await db.dispose()
    finally:
        await drop_db(args.pg_dsn, ledger_db)
        await drop_db(args.pg_dsn, pgbench_db)
    rss = await asyncio.to_thread(serve_peak_rss_mb)
    print(
        f"\nLedger debits/s on PostgreSQL, {args.seconds:g} s per cell, {os.cpu_count()} CPUs, "
        f"{args.processes} Python process(es)\n"
    )
    print("| workers | (a) one account | (b) 1,000 accounts | pgbench -N TPS | (a)/pgbench | (b)/pgbench |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, one, spread, pgb in rows:
        print(f"| {n} | {one:,.0f} | {spread:,.0f} | {pgb:,.0f} | {one / pgb:.0%} | {spread / pgb:.0%} |")
    print(f"\nPeak RSS of one `showfloor serve` process after start-up (VmHWM): {rss:.1f} MB")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, child_dsn, child_accounts, child_workers, child_seconds, child_start = sys.argv
        asyncio.run(
            child_main(
                child_dsn,
                child_accounts,
                int(child_workers),
                float(child_seconds),
                float(child_start),
            )
        )
    else:
        asyncio.run(main())
