"""``make load``: a mixed workload against ``showfloor serve --workers 2`` plus one ``showfloor worker`` on
PostgreSQL, ending with a reconciliation of what the clients were charged against the ledger.

    .venv/bin/python bench/load.py [--duration 60] [--clients 32] [--accounts 16] [--scale 0.1]

Creates its own database on --pg-dsn (``showfloor_load_*``, dropped at the end), migrates it and loads
demo data with the admin CLI (``showfloor admin migrate``, ``showfloor admin demo-data --scale``), makes
accounts with credits through the ledger service, then runs --clients asyncio+httpx clients (two per
account by default) for --duration seconds. Each request picks: events list / detail, exhibitors list,
personnel list, contacts search (reads); exhibitor company search, event unlock, contact email unlock
(paid, with an Idempotency-Key; a 5xx or connection error is retried with the same key); polls of the
client's unlock tasks. Prints requests/s and p50/p99 per route. Then waits for the worker to drain and
checks: the credits the clients observed (unlock ``creditsUsed``, 50 per non-empty search page, 15 per
unlocked contact in the client's tasks) equal the ledger per account; no balance below zero; no open
hold or task; ``reconcile()`` clean. Exit status 1 if that reconciliation fails.
All traffic stays on 127.0.0.1; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import func, select

from showfloor.server.accounts import service as accounts
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.pricing import DEFAULT_PRICES, Action
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.models import (
    CreditGrant,
    CreditHold,
    Event,
    EventPersonnel,
    Exhibitor,
    LedgerOperation,
    UnlockTask,
)

BIN = Path(sys.executable).parent
SEARCH_PRICE = DEFAULT_PRICES[Action.EXHIBITOR_COMPANY_SEARCH]
EMAIL_PRICE = DEFAULT_PRICES[Action.CONTACT_EMAIL]
# Route label -> weight in the mix.
MIX = {
    "GET /external/events/list": 14,
    "GET /external/events/{id}": 14,
    "GET /external/exhibitors/list": 12,
    "GET /external/personnel/list": 12,
    "GET /external/contacts/search": 10,
    "POST /external/exhibitors/search-by-company-name": 12,
    "POST /external/events/{id}/unlock": 8,
    "POST /external/contacts/unlock": 8,
    "GET /external/contacts/unlock-tasks/{taskId}": 10,
}


@dataclass
class Catalog:
    events: list[str]  # public event ids
    people: dict[str, list[int]]  # event id -> personnel ids attending
    companies: list[str]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


@dataclass
class Client:
    account_id: int
    key: str
    charged: int = 0  # synchronous charges seen (event unlocks, searches)
    tasks: set[str] = field(default_factory=set)


def sh(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "showfloor"), *args], env=env, check=True, timeout=900)


def spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def server_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
    env.update(
        SHOWFLOOR_DATABASE_URL=url,
        SHOWFLOOR_RATE_LIMIT_ENABLED="false",
        SHOWFLOOR_LOG_LEVEL="WARNING",
        SHOWFLOOR_EMBEDDED_WORKER="false",
    )
    return env


async def make_clients(db: Database, n_accounts: int, n_clients: int) -> list[Client]:
    made: list[tuple[int, str]] = []
    async with db.write() as session:
        for n in range(n_accounts):
            account = await accounts.create_account(session, f"load-{n}")
            credits = 10_000 if n == n_accounts - 1 else 1_000_000  # the last runs dry: 402s
            await ledger.grant(session, account.id, "gift", credits, expires_at=None, op_key="load:seed")
            made.append((account.id, (await accounts.create_key(session, account.id)).key))
    return [Client(*made[i % n_accounts]) for i in range(n_clients)]


async def load_catalog(db: Database) -> Catalog:
    async with db.read() as session:
        events = dict(
            (await session.execute(select(Event.id, Event.event_id).where(Event.contact_count > 0))).all()
        )
        people: dict[str, list[int]] = defaultdict(list)
        for event_pk, person in (
            await session.execute(select(EventPersonnel.event_id, EventPersonnel.personnel_id))
        ).all():
            if event_pk in events:
                people[events[event_pk]].append(person)
        names = (await session.scalars(select(Exhibitor.company_name).limit(2000))).all()
    return Catalog(list(events.values()), dict(people), [n.split()[0] for n in names if n])


async def request(
    http: httpx.AsyncClient, stats: Stats, route: str, method: str, path: str, **kw: Any
) -> httpx.Response | None:
    """One logical request; a paid one is retried with the same key on 5xx / connection errors."""
    headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
    for _ in range(4):
        start = time.perf_counter()
        try:
            response = await http.request(method, path, headers=headers, **kw)
        except httpx.TransportError as exc:
            stats.statuses[route][type(exc).__name__] += 1
            await asyncio.sleep(0.2)
            continue
        stats.latencies[route].append(time.perf_counter() - start)
        stats.statuses[route][str(response.status_code)] += 1
        if response.status_code < 500:
            return response
        await asyncio.sleep(0.2)
    return None


async def client_loop(
    base: str, client: Client, cat: Catalog, stats: Stats, deadline: float, seed: int
) -> None:
    rng = random.Random(seed)
    routes, weights = list(MIX), list(MIX.values())
    headers = {"Authorization": f"Bearer {client.key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        while time.monotonic() < deadline:
            route = rng.choices(routes, weights)[0]
            event = rng.choice(cat.events)
            if route.endswith("events/list"):
                await request(
                    http, stats, route, "GET", "/external/events/list", params={"page": rng.randint(1, 3)}
                )
            elif route.endswith("events/{id}"):
                await request(http, stats, route, "GET", f"/external/events/{event}")
            elif route.endswith("exhibitors/list"):
                await request(
                    http, stats, route, "GET", "/external/exhibitors/list", params={"event_id": event}
                )
            elif route.endswith("personnel/list"):
                await request(
                    http, stats, route, "GET", "/external/personnel/list", params={"event_id": event}
                )
            elif route.endswith("contacts/search"):
                params = {"company_name": rng.choice(cat.companies)}
                await request(http, stats, route, "GET", "/external/contacts/search", params=params)
            elif route.endswith("search-by-company-name"):
                body = {"company_name": rng.choice(cat.companies), "page": 1, "pageSize": 20}
                resp = await request(http, stats, route, "POST", route.split()[1], json=body)
                if resp is not None and resp.status_code == 201 and resp.json().get("items"):
                    client.charged += SEARCH_PRICE
            elif route.endswith("{id}/unlock"):
                resp = await request(http, stats, route, "POST", f"/external/events/{event}/unlock", json={})
                if resp is not None and resp.status_code == 201:
                    client.charged += int(resp.json().get("creditsUsed") or 0)
            elif route.endswith("contacts/unlock"):
                people = cat.people.get(event) or [0]
                ids = [str(p) for p in rng.sample(people, min(5, len(people)))]
                body = {"personnel_ids": ids, "event_id": event}
                resp = await request(http, stats, route, "POST", "/external/contacts/unlock", json=body)
                if resp is not None and resp.status_code == 201 and resp.json().get("task_id"):
                    client.tasks.add(str(resp.json()["task_id"]))
            elif client.tasks:
                task = rng.choice(sorted(client.tasks))
                await request(http, stats, route, "GET", f"/external/contacts/unlock-tasks/{task}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def print_figures(stats: Stats, seconds: float, clients: int) -> None:
    total = sum(len(v) for v in stats.latencies.values())
    print(f"\n{total} responses in {seconds:.1f} s from {clients} clients: {total / seconds:.1f} req/s")
    print(f"{'route':52s} {'n':>6s} {'req/s':>7s} {'p50 ms':>8s} {'p99 ms':>8s}  statuses")
    for route in MIX:
        lat = stats.latencies.get(route, [])
        statuses = dict(sorted(stats.statuses.get(route, Counter()).items()))
        print(f"{route:52s} {len(lat):6d} {len(lat) / seconds:7.1f} {percentile(lat, 0.5):8.1f} "
              f"{percentile(lat, 0.99):8.1f}  {statuses}")  # fmt: skip


async def drain(db: Database, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with db.read() as session:
            open_tasks = await session.scalar(
                select(func.count()).select_from(UnlockTask).where(UnlockTask.status == "open")
            )
        if not open_tasks:
            return True
        await asyncio.sleep(0.5)
    return False


async def contact_charges_seen(base: str, clients: list[Client]) -> dict[int, int]:
    """Per account: 15 per unlocked item in its tasks, as the clients see them (each task counted once)."""
    seen: dict[int, set[str]] = defaultdict(set)
    by_key = {c.account_id: c.key for c in clients}
    for c in clients:
        seen[c.account_id] |= c.tasks
    out: dict[int, int] = defaultdict(int)
    for account_id, tasks in seen.items():
        headers = {"Authorization": f"Bearer {by_key[account_id]}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            for task in tasks:
                body = (await http.get(f"/external/contacts/unlock-tasks/{task}")).json()
                out[account_id] += EMAIL_PRICE * sum(1 for i in body["items"] if i["status"] == "unlocked")
    return out


async def reconcile_run(db: Database, base: str, clients: list[Client], drained: bool) -> list[str]:
    problems: list[str] = [] if drained else ["the worker did not drain the open tasks in time"]
    seen: dict[int, int] = defaultdict(int)
    for c in clients:
        seen[c.account_id] += c.charged
    for account_id, credits in (await contact_charges_seen(base, clients)).items():
        seen[account_id] += credits
    async with db.read() as session:
        rows = await session.execute(
            select(LedgerOperation.account_id, func.sum(LedgerOperation.amount))
            .where(LedgerOperation.kind.in_(("debit", "capture")))
            .group_by(LedgerOperation.account_id)
        )
        in_ledger = {a: int(s) for a, s in rows.all()}
        refunds = await session.scalar(
            select(func.count()).select_from(LedgerOperation).where(LedgerOperation.kind == "refund")
        )
        negative = await session.scalar(
            select(func.count()).select_from(CreditGrant).where(CreditGrant.remaining < 0)
        )
        open_holds = await session.scalar(
            select(func.count()).select_from(CreditHold).where(CreditHold.state != "closed")
        )
        problems += await reconcile(session, None, datetime.now(UTC))
    for account_id in sorted(set(seen) | set(in_ledger)):
        if seen.get(account_id, 0) != in_ledger.get(account_id, 0):
            problems.append(
                f"account {account_id}: clients saw {seen.get(account_id, 0)}, ledger {in_ledger.get(account_id, 0)}"
            )
    if refunds:
        problems.append(f"{refunds} refunds (none expected)")
    if negative:
        problems.append(f"{negative} grants below zero")
    if open_holds:
        problems.append(f"{open_holds} holds still open")
    total = sum(in_ledger.values())
    print(f"\nreconciliation: clients observed {sum(seen.values()):,} credits, ledger {total:,} "
          f"({len(in_ledger)} accounts); open holds {open_holds}; negative grants {negative}")  # fmt: skip
    return problems


async def run(args: argparse.Namespace) -> int:
    name = f"showfloor_load_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(args.pg_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = args.pg_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    env = server_env(url)
    procs: list[subprocess.Popen[bytes]] = []
    db = Database(make_engine(url, pool_size=4, max_overflow=4))
    try:
        t = time.monotonic()
        sh("admin", "migrate", env=env)
        sh("admin", "demo-data", "--scale", str(args.scale), env=env)
        clients = await make_clients(db, args.accounts, args.clients)
        cat = await load_catalog(db)
        print(f"database {name}: migrated, demo data --scale {args.scale} ({len(cat.events)} events with "
              f"contacts), {args.accounts} accounts, in {time.monotonic() - t:.0f} s")  # fmt: skip
        port = args.port or _free_port()
        base = f"http://127.0.0.1:{port}"
        serve = [str(BIN / "showfloor"), "serve", "--port", str(port), "--workers", str(args.workers)]
        procs.append(spawn(serve, env))
        procs.append(spawn([str(BIN / "showfloor"), "worker"], env))
        await _wait_ready(base, 60)
        stats = Stats()
        start = time.monotonic()
        deadline = start + args.duration
        await asyncio.wait_for(
            asyncio.gather(*(client_loop(base, c, cat, stats, deadline, n) for n, c in enumerate(clients))),
            timeout=args.duration + 120,
        )
        print(f"showfloor serve --workers {args.workers} + 1 showfloor worker, PostgreSQL, "
              f"{args.clients} clients / {args.accounts} accounts, {args.duration:.0f} s")  # fmt: skip
        print_figures(stats, time.monotonic() - start, args.clients)
        drained = await drain(db, 120)
        problems = await reconcile_run(db, base, clients, drained)
        for problem in problems:
            print(f"  PROBLEM {problem}")
        print("reconciliation OK" if not problems else f"reconciliation FAILED ({len(problems)} problems)")
        return 1 if problems else 0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        await db.dispose()
        admin = await asyncpg.connect(args.pg_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=2) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("showfloor serve did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.1, help="demo-data scale (1 = 300 events)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("SHOWFLOOR_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
