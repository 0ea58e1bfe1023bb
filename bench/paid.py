"""Paid-actions benchmark over HTTP: event unlocks/s and company searches/s next to balance reads/s.

    .venv/bin/python bench/paid.py [--seconds 8] [--clients 16] [--workers 2]

Creates its own PostgreSQL database (``showfloor_bench_paid_*``) at --pg-dsn, migrates it, seeds events
with contacts and accounts with credits, runs ``showfloor serve --workers N`` on it, drives it with
``--clients`` concurrent HTTP clients (one account each; every unlock is of a new event), prints the
rates and the paid/balance ratios, and drops the database at the end. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import insert

from showfloor.server.accounts import service as accounts
from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import upgrade
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.models import Event, Exhibitor

sys.path.insert(0, str(Path(__file__).parent))
from cpu import CpuMeter, phase_cost

BIN = Path(sys.executable).parent
EVENTS_PER_CLIENT = 2500
COMPANIES = 2000


def dsn_for(admin_dsn: str, dbname: str, driver: str) -> str:
    return admin_dsn.rsplit("/", 1)[0].replace("postgresql://", f"{driver}://", 1) + f"/{dbname}"


async def admin_sql(admin_dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed(url: str, clients: int) -> tuple[list[str], list[list[str]]]:
    """Accounts (one key each, ample gift credits; the last one poor, to see 402s) and events per client."""
    db = Database(make_engine(url, null_pool=True))
    await upgrade(db.engine)
    keys: list[str] = []
    events: list[list[str]] = []
    async with db.write() as session:
        for i in range(clients):
            account = await accounts.create_account(session, f"bench-{i}")
            credits = 10**9 if i < clients - 1 else 4100  # two unlocks, then 402s
            await ledger.grant(session, account.id, "gift", credits, expires_at=None, op_key="seed")
            keys.append((await accounts.create_key(session, account.id)).key)
            ids = [f"B{i}-{n}" for n in range(EVENTS_PER_CLIENT)]
            await session.execute(
                insert(Event),
                [{"event_id": e, "name": f"Bench Expo {e}", "contact_count": 10, "categories": [], "topics": []}
                 for e in ids],
            )  # fmt: skip
            events.append(ids)
        await session.execute(
            insert(Exhibitor),
            [
                {"company_name": f"Benchmark Company {n}", "categories": [], "tech_stacks": []}
                for n in range(COMPANIES)
            ],
        )
    await db.dispose()
    return keys, events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(300):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("showfloor serve did not become healthy")


Step = Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]]


async def phase(
    base: str, keys: list[str], seconds: float, step: Step, meter: CpuMeter | None = None
) -> tuple[float, collections.Counter[int], str]:
    statuses: collections.Counter[int] = collections.Counter()
    deadline = time.perf_counter() + seconds
    done = 0

    async def client_loop(n: int) -> None:
        nonlocal done
        headers = {"Authorization": f"Bearer {keys[n]}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            i = 0
            while time.perf_counter() < deadline:
                resp = await step(client, n, i)
                statuses[resp.status_code] += 1
                done += 1
                i += 1

    start = time.perf_counter()
    cpu_before = meter.sample() if meter is not None else None
    await asyncio.gather(*(client_loop(n) for n in range(len(keys))))
    rate = done / (time.perf_counter() - start)
    cost = phase_cost(cpu_before, meter.sample(), done) if meter and cpu_before else ""
    return rate, statuses, cost


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("SHOWFLOOR_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()

    name = f"showfloor_bench_paid_{uuid.uuid4().hex[:8]}"
    await admin_sql(args.pg_dsn, f'CREATE DATABASE "{name}"')
    proc: asyncio.subprocess.Process | None = None
    try:
        url = dsn_for(args.pg_dsn, name, "postgresql+asyncpg")
        keys, events = await seed(url, args.clients)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
        env.update(
            {
                "SHOWFLOOR_DATABASE_URL": url,
                "SHOWFLOOR_RATE_LIMIT_ENABLED": "false",
                "SHOWFLOOR_LOG_LEVEL": "WARNING",
            }
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [str(BIN / "showfloor"), "serve", "--port", str(port), "--workers", str(args.workers)]
        proc = await asyncio.create_subprocess_exec(
            *cmd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        await wait_healthy(base)

        async def balance(c: httpx.AsyncClient, n: int, i: int) -> httpx.Response:
            return await c.get("/external/credits/balance")

        async def unlock(c: httpx.AsyncClient, n: int, i: int) -> httpx.Response:
            return await c.post(f"/external/events/{events[n][i % EVENTS_PER_CLIENT]}/unlock")

        async def search(c: httpx.AsyncClient, n: int, i: int) -> httpx.Response:
            body = {"company_name": f"Benchmark Company {(n * 7919 + i) % COMPANIES}"}
            return await c.post("/external/exhibitors/search-by-company-name", json=body)

        await phase(base, keys, 1.0, balance)  # warm-up
        meter = CpuMeter(proc.pid)
        results = {}
        for label, step in (("balance", balance), ("event unlock", unlock), ("company search", search)):
            results[label] = await phase(base, keys, args.seconds, step, meter)
        print(f"showfloor serve --workers {args.workers} on PostgreSQL, {args.clients} concurrent clients, "
              f"{args.seconds:.0f} s per phase")  # fmt: skip
        for label, (rate, statuses, cost) in results.items():
            print(f"  {label:15s} {rate:8.1f} req/s   statuses {dict(sorted(statuses.items()))}   {cost}")
        base_rate = results["balance"][0]
        for label in ("event unlock", "company search"):
            print(f"  {label} / balance ratio: {results[label][0] / base_rate:.2f}")
        unexpected = {
            label: {s: c for s, c in statuses.items() if s not in (200, 201, 402)}
            for label, (_, statuses, _) in results.items()
        }
        errors = sum(sum(v.values()) for v in unexpected.values())
        print(f"  unexpected statuses: {errors} {unexpected if errors else ''}")
    finally:
        if proc is not None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=15)
        await admin_sql(args.pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
