"""The database-restart drill: PostgreSQL stopped (``pg_ctl stop -m fast``) under a paid-action load and
started again, with one ``showfloor serve`` process that is never restarted.

Clients use the SDK (``AsyncClient``: one ``Idempotency-Key`` per call, reused on every retry) over a
transport that records every attempt. Afterwards the ledger must hold exactly the charges the clients
saw succeed, no balance below zero, no open hold, and ``reconcile()`` must be clean. Used by
tests/e2e/test_db_restart.py and ``make chaos`` (bench/chaos.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from showfloor.client import APIConnectionError, APIError, AsyncClient, RetryPolicy
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.ledger.pricing import DEFAULT_PRICES, Action
from showfloor.server.models import IdempotencyRecord
from showfloor.server.paid.idempotency import RUNNING_LEASE
from tests.e2e.drill_support import (
    Attempt,
    DrillAccount,
    RecordingTransport,
    Report,
    charges_by_account,
    check_ledger_health,
    create_database,
    make_accounts,
    operation_kinds,
    start_server,
    stop_process,
    wait_status,
)
from tests.e2e.private_pg import PrivatePostgres
from tests.factories import make_event, make_exhibitor, make_person

SEARCH = Action.EXHIBITOR_COMPANY_SEARCH.value
SEARCH_PRICE = DEFAULT_PRICES[Action.EXHIBITOR_COMPANY_SEARCH]
SEARCH_PATH = "/external/exhibitors/search-by-company-name"
# Retry long enough to ride out the outage: 12 retries, backoff 0.2 s doubling, capped at 1 s.
CLIENT_RETRY = RetryPolicy(max_retries=12, initial_delay=0.2, max_delay=1.0)
NEVER_500 = "no 5xx other than 503 (never a 500)"


@dataclass(frozen=True)
class DrillConfig:
    accounts: int = 4
    clients_per_account: int = 2
    events: int = 60
    companies: int = 30
    credits: int = 40_000  # 20 event unlocks: enough to run some accounts dry (402s) during the run
    warmup_seconds: float = 2.0
    down_seconds: float = 3.0
    after_seconds: float = 4.0
    # How long to retry, after the run, a request whose outcome the client never learnt. A key
    # claimed just before the database went away stays "running" for the server's lease (``RUNNING_LEASE``).
    resolve_seconds: float = 5.0
    server_log: Path | None = None  # keep the server's output here


@dataclass
class Pending:
    """A paid request the SDK gave up on: resent later with the same key and body."""

    account: DrillAccount
    method: str
    path: str
    key: str
    body: dict[str, Any]


@dataclass
class ClientLog:
    account: DrillAccount
    attempts: list[Attempt] = field(default_factory=list)
    charged: Counter[tuple[str, str]] = field(default_factory=Counter)
    ok_at: list[float] = field(default_factory=list)  # monotonic time of each definitive answer
    pending: list[Pending] = field(default_factory=list)
    key_reuse_ok: bool = True


async def seed_catalog(db: Database, events: int, companies: int) -> tuple[list[str], list[str]]:
    event_ids: list[str] = []
    async with db.write() as session:
        for _ in range(events):
            event = await make_event(session)
            await make_person(session, event)
            event_ids.append(event.event_id)
        names = []
        for n in range(companies):
            exhibitor = await make_exhibitor(session, None, company_name=f"Drill Company {n:03d}")
            names.append(exhibitor.company_name)
    return event_ids, names


async def client_loop(
    base: str, log: ClientLog, events: list[str], companies: list[str], stop: asyncio.Event, seed: int
) -> None:
    rng = random.Random(seed)
    transport = RecordingTransport(log.attempts)
    async with AsyncClient(log.account.key, base, timeout=10, retry=CLIENT_RETRY, transport=transport) as sdk:
        while not stop.is_set():
            start = len(log.attempts)
            roll = rng.random()
            body: dict[str, Any] = {}  # what the SDK sends for an event unlock (part of the fingerprint)
            try:
                if roll < 0.5:
                    event = rng.choice(events)
                    path = f"/external/events/{event}/unlock"
                    unlocked = await sdk.events.unlock(event)
                    if unlocked.creditsUsed and unlocked.event is not None:
                        log.charged[("event", str(unlocked.event.id))] += unlocked.creditsUsed
                else:
                    name = rng.choice(companies) if roll < 0.9 else "No Such Company Anywhere"
                    path, body = SEARCH_PATH, {"company_name": name, "page": 1, "pageSize": 20}
                    page = await sdk.exhibitors.search_by_company_name(name)
                    if page.items:
                        log.charged[(SEARCH, name)] += SEARCH_PRICE
                log.ok_at.append(time.monotonic())
            except APIError as exc:
                if exc.status in (402, 404):
                    log.ok_at.append(time.monotonic())  # definitive refusals: nothing charged
                elif log.attempts[start:]:
                    first = log.attempts[start]
                    assert first.key is not None
                    log.pending.append(Pending(log.account, "POST", path, first.key, body))
            except APIConnectionError:
                if log.attempts[start:] and log.attempts[start].key is not None:
                    log.pending.append(Pending(log.account, "POST", path, str(log.attempts[start].key), body))
            keys = {a.key for a in log.attempts[start:]}
            if len(keys) > 1 or None in keys:
                log.key_reuse_ok = False


async def resolve_pending(base: str, log: ClientLog, seconds: float) -> list[Pending]:
    """Resend each given-up request with its original key until it has an answer; returns the rest."""
    left: list[Pending] = []
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {log.account.key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        for item in log.pending:
            while True:
                response = await http.request(
                    item.method, item.path, json=item.body, headers={"Idempotency-Key": item.key}
                )
                log.attempts.append(
                    Attempt(time.monotonic(), item.method, item.path, item.key, response.status_code,
                            response.json().get("errorKey"), None,
                            response.headers.get("Idempotent-Replayed") == "true", response.json())
                )  # fmt: skip
                if response.status_code < 300:
                    body = response.json()
                    if item.path == SEARCH_PATH and body.get("items"):
                        log.charged[(SEARCH, item.body["company_name"])] += SEARCH_PRICE
                    elif item.path != SEARCH_PATH and body.get("creditsUsed"):
                        log.charged[("event", str(body["event"]["id"]))] += int(body["creditsUsed"])
                    break
                if response.status_code < 500 and response.status_code != 409:
                    break
                if time.monotonic() > deadline:
                    left.append(item)
                    break
                await asyncio.sleep(0.5)
    return left


async def run_db_restart_drill(report: Report, config: DrillConfig | None = None) -> None:
    cfg = config or DrillConfig()
    pg = PrivatePostgres()
    server = None
    db: Database | None = None
    try:
        report.step("private PostgreSQL: initdb, start, create and migrate a database")
        pg.init()
        pg.start()
        url = await create_database(pg, "drill_restart")
        db = Database(make_engine(url, null_pool=True))
        events, companies = await seed_catalog(db, cfg.events, cfg.companies)
        accounts = await make_accounts(db, cfg.accounts, cfg.credits)
        report.step(f"seeded {len(events)} events with contacts, {len(companies)} companies, "
                    f"{len(accounts)} accounts × {cfg.credits} credits")  # fmt: skip
        server, base = start_server(url, log=cfg.server_log)
        if not report.check("showfloor serve is ready", await wait_status(base, "/readyz", 200, 30)):
            return
        await _drive(report, cfg, pg, server, base, db, accounts, events, companies)
    finally:
        if server is not None:
            stop_process(server)
        if db is not None:
            await db.dispose()
        pg.destroy()


async def _drive(
    report: Report,
    cfg: DrillConfig,
    pg: PrivatePostgres,
    server: Any,
    base: str,
    db: Database,
    accounts: list[DrillAccount],
    events: list[str],
    companies: list[str],
) -> None:
    stop = asyncio.Event()
    logs = [ClientLog(a) for a in accounts for _ in range(cfg.clients_per_account)]
    report.step(f"{len(logs)} SDK clients: event unlocks and company searches, every attempt recorded")
    tasks = [
        asyncio.create_task(client_loop(base, log, events, companies, stop, n)) for n, log in enumerate(logs)
    ]
    try:
        await asyncio.sleep(cfg.warmup_seconds)
        report.step("pg_ctl stop -m fast (mid-run)")
        await asyncio.to_thread(pg.stop, "fast")
        down_at = time.monotonic()
        await _check_while_down(report, base, accounts[0])
        await asyncio.sleep(max(0.0, cfg.down_seconds - (time.monotonic() - down_at)))
        report.step(f"database down {time.monotonic() - down_at:.1f} s; pg_ctl start")
        await asyncio.to_thread(pg.start)
        up_at = time.monotonic()
        ready = await wait_status(base, "/readyz", 200, 30)
        report.check(
            "/readyz answers 200 again, same server process",
            ready and server.poll() is None,
            f"after {time.monotonic() - up_at:.1f} s, pid {server.pid}",
        )
        await asyncio.sleep(cfg.after_seconds)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    after = sum(1 for log in logs for t in log.ok_at if t > up_at)
    report.check("clients kept going after the restart", after > 0, f"{after} answers after the restart")
    report.check(
        "every retry of a paid request reused its Idempotency-Key", all(log.key_reuse_ok for log in logs)
    )
    rests = await asyncio.gather(*(resolve_pending(base, log, cfg.resolve_seconds) for log in logs))
    left = [item for rest in rests for item in rest]
    gave_up = sum(len(log.pending) for log in logs)
    report.step(f"{gave_up} requests given up by the SDK, resent with their key; {len(left)} still running")
    if cfg.resolve_seconds > RUNNING_LEASE.total_seconds():  # outlasts a running key's lease: all answered
        report.check(
            "every request given up was answered when resent with its original key",
            not left,
            f"{gave_up - len(left)} of {gave_up} answered",
        )
    await _check_attempts(report, logs, down_at, up_at)
    await _check_ledger(report, db, logs, left)


async def _check_while_down(report: Report, base: str, account: DrillAccount) -> None:
    readyz: httpx.Response | None = None
    api: httpx.Response | None = None
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            readyz = await http.get("/readyz")
            if readyz.status_code == 503:
                break
            await asyncio.sleep(0.1)
        headers = {"Authorization": f"Bearer {account.key}"}
        api = await http.get("/external/credits/balance", headers=headers)
    report.check(
        "/readyz answers 503 while the database is down",
        readyz is not None and readyz.status_code == 503,
        f"got {readyz.status_code if readyz else None}",
    )
    body = api.json() if api.headers.get("content-type", "").startswith("application/json") else {}
    report.check(
        "the API answers 503 SERVICE_UNAVAILABLE in the error body while down",
        api.status_code == 503 and body.get("errorKey") == "SERVICE_UNAVAILABLE" and body.get("code") == 503,
        f"got {api.status_code} {body.get('errorKey')}",
    )


async def _check_attempts(report: Report, logs: list[ClientLog], down_at: float, up_at: float) -> None:
    attempts = [a for log in logs for a in log.attempts]
    statuses = Counter(a.status if a.status is not None else a.error for a in attempts)
    report.step(f"{len(attempts)} attempts: {dict(statuses)}")
    bad = [a for a in attempts if a.status is not None and a.status >= 500 and a.status != 503]
    report.check(NEVER_500, not bad, f"{len(bad)}: {bad[:1]}")
    malformed = [
        a
        for a in attempts
        if a.status == 503
        and not (isinstance(a.body, dict) and a.body.get("errorKey") == "SERVICE_UNAVAILABLE")
    ]
    report.check("every 503 carries errorKey SERVICE_UNAVAILABLE", not malformed, f"{len(malformed)} without")
    failed_in_outage = [
        a for a in attempts if down_at <= a.at <= up_at + 5 and (a.status is None or a.status >= 500)
    ]
    report.check(
        "the outage was felt by the clients (503s or connection errors)",
        bool(failed_in_outage),
        f"{len(failed_in_outage)} failed attempts",
    )


async def _check_ledger(report: Report, db: Database, logs: list[ClientLog], left: list[Pending]) -> None:
    observed: dict[int, Counter[tuple[str, str]]] = {}
    for log in logs:
        observed.setdefault(log.account.id, Counter()).update(log.charged)
    ledger = await charges_by_account(db)
    mismatched = [
        f"account {a}: clients saw {sum(observed.get(a, Counter()).values())}, "
        f"ledger has {sum(ledger.get(a, Counter()).values())}"
        for a in set(observed) | set(ledger)
        if +observed.get(a, Counter()) != +ledger.get(a, Counter())
    ]
    total = sum(sum(c.values()) for c in ledger.values())
    report.check(
        "every charge a client saw succeed is in the ledger, and no other",
        not mismatched,
        "; ".join(mismatched) or f"{total} credits in {sum(len(c) for c in ledger.values())} charges",
    )
    kinds = await operation_kinds(db)
    report.check("only grants and debits in the ledger", set(kinds) <= {"grant", "debit"}, str(dict(kinds)))
    if left:
        async with db.read() as session:
            states = (
                await session.scalars(
                    select(IdempotencyRecord.state).where(IdempotencyRecord.key.in_([p.key for p in left]))
                )
            ).all()
        report.check(
            "requests still unresolved never completed (their transaction rolled back)",
            all(state != "done" for state in states),
            f"{len(left)} keys, states {Counter(states)}",
        )
    await check_ledger_health(db, report)
