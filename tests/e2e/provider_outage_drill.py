"""The provider-outage drill: a real ``showfloor worker --provider http`` against a small local enrichment
service that we stop and start.

Phase 1, a short outage: the items of a batch are retried while the provider is down, nothing is charged
meanwhile, and they are delivered (captured) once it is back. Phase 2, an outage longer than the attempt
limit: every item fails ``PROVIDER_UNAVAILABLE`` and is released, nothing is charged, the task ends
``failed``. Throughout: holds resolved, reconcile clean. Used by tests/e2e/test_provider_outage.py and
``make chaos`` (bench/chaos.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.ledger.balance import available
from showfloor.server.models import LedgerOperation, UnlockTask, UnlockTaskItem
from showfloor.server.unlocks import service
from tests.e2e.drill_support import (
    Report,
    check_ledger_health,
    create_database,
    make_accounts,
    start_worker,
    stop_process,
)
from tests.e2e.private_pg import PrivatePostgres, free_port
from tests.factories import make_event, make_person

PRICE = 15  # contact email, default plan
CREDITS = 10_000


@dataclass
class FakeProvider:
    """A minimal HTTP/1.1 enrichment service (one request per connection). ``stop()`` closes the port,
    so the worker's calls fail with a connection error: the provider is down."""

    port: int = field(default_factory=free_port)
    calls: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/lookup"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            person = json.loads(await asyncio.wait_for(reader.readexactly(length), 5))
            self.calls += 1
            if str(person.get("full_name", "")).startswith("Ghost"):
                answer = {"outcome": "no_email", "value": None}
            else:
                answer = {"outcome": "delivered", "value": f"p{person['personnel_id']}@provider.example"}
            body = json.dumps(answer).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


@dataclass(frozen=True)
class OutageConfig:
    deliverable: int = 12
    ghosts: int = 3  # the provider finds no email for them (released, not charged)
    short_outage_seconds: float = 1.5  # after the first retries were seen
    doomed: int = 8  # phase 2 batch


async def seed_people(db: Database, deliverable: int, ghosts: int) -> list[int]:
    async with db.write() as session:
        event = await make_event(session)
        ids = [(await make_person(session, event)).id for _ in range(deliverable)]
        for n in range(ghosts):
            ids.append((await make_person(session, event, full_name=f"Ghost {n}")).id)
    return ids


async def submit(db: Database, account_id: int, ids: list[int]) -> int:
    async with db.write() as session:
        out = await service.submit(
            session,
            account_id=account_id,
            api_key_id=None,
            kind="email",
            personnel_ids=[str(i) for i in ids],
            event_ref=None,
            call_source="api",
        )
    assert out.task_id is not None
    return out.task_id


async def task_state(db: Database, task_id: int) -> tuple[str, dict[str, int], int, int]:
    """(task status, items per status, credits captured, credits released) for one task."""
    async with db.read() as session:
        task = await session.get(UnlockTask, task_id)
        assert task is not None
        items = dict(
            (
                await session.execute(
                    select(UnlockTaskItem.status, func.count())
                    .where(UnlockTaskItem.task_id == task_id)
                    .group_by(UnlockTaskItem.status)
                )
            ).all()
        )
        sums = dict(
            (
                await session.execute(
                    select(LedgerOperation.kind, func.sum(LedgerOperation.amount))
                    .where(LedgerOperation.hold_id == task.hold_id)
                    .group_by(LedgerOperation.kind)
                )
            ).all()
        )
    return task.status, items, int(sums.get("capture", 0)), int(sums.get("release", 0))


async def retried_items(db: Database, task_id: int) -> tuple[int, set[str | None]]:
    async with db.read() as session:
        rows = (
            await session.execute(
                select(UnlockTaskItem.attempts, UnlockTaskItem.error_code).where(
                    UnlockTaskItem.task_id == task_id
                )
            )
        ).all()
    return sum(1 for attempts, _ in rows if attempts >= 2), {code for _, code in rows}


async def balance_now(db: Database, account_id: int) -> int:
    async with db.read() as session:
        return await available(session, account_id, datetime.now(UTC))


async def wait_until(predicate: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return False


def worker_env(provider: FakeProvider, max_attempts: int) -> dict[str, str]:
    return {
        "SHOWFLOOR_UNLOCK_PROVIDER": "http",
        "SHOWFLOOR_UNLOCK_HTTP_URL": provider.url,
        "SHOWFLOOR_UNLOCK_HTTP_RETRIES": "0",
        "SHOWFLOOR_UNLOCK_HTTP_TIMEOUT_SECONDS": "1",
        "SHOWFLOOR_WORKER_CONCURRENCY": "4",
        "SHOWFLOOR_WORKER_LEASE_SECONDS": "5",
        "SHOWFLOOR_WORKER_RETRY_BASE_SECONDS": "0.2",
        "SHOWFLOOR_WORKER_MAX_ATTEMPTS": str(max_attempts),
    }


async def run_provider_outage_drill(report: Report, config: OutageConfig | None = None) -> None:
    cfg = config or OutageConfig()
    pg = PrivatePostgres()
    provider = FakeProvider()
    db: Database | None = None
    worker = None
    try:
        report.step("private PostgreSQL; a local HTTP enrichment provider, DOWN to begin with")
        pg.init()
        pg.start()
        url = await create_database(pg, "drill_provider")
        db = Database(make_engine(url, null_pool=True))
        (account,) = await make_accounts(db, 1, CREDITS, prefix="outage")
        worker = start_worker(url, **worker_env(provider, max_attempts=30))
        await _short_outage(report, cfg, db, provider, account.id)
        code = stop_process(worker)
        report.check("worker stopped cleanly (SIGTERM)", code == 0, f"exit {code}")
        worker = start_worker(url, **worker_env(provider, max_attempts=3))
        await _long_outage(report, cfg, db, provider, account.id)
        code = stop_process(worker)
        report.check("worker stopped cleanly (SIGTERM)", code == 0, f"exit {code}")
        worker = None
        await check_ledger_health(db, report)
    finally:
        if worker is not None:
            stop_process(worker)
        await provider.stop()
        if db is not None:
            await db.dispose()
        pg.destroy()


async def _short_outage(
    report: Report, cfg: OutageConfig, db: Database, provider: FakeProvider, account_id: int
) -> None:
    ids = await seed_people(db, cfg.deliverable, cfg.ghosts)
    task = await submit(db, account_id, ids)
    report.step(f"phase 1: submitted {len(ids)} contacts while the provider is down")

    async def retrying() -> bool:
        return (await retried_items(db, task))[0] > 0

    # The outage lasts until the worker (a fresh process) has retried items, then a little longer.
    seen = await wait_until(retrying, 20)
    await asyncio.sleep(cfg.short_outage_seconds)
    status, items, captured, released = await task_state(db, task)
    retried, codes = await retried_items(db, task)
    report.check(
        "items were retried during the outage",
        seen and "PROVIDER_UNAVAILABLE" in codes,
        f"{retried} items with ≥ 2 attempts, codes {sorted(c or '-' for c in codes)}",
    )
    report.check("nothing charged while the provider is down", captured == 0, f"captured {captured}")
    report.check("no item given up during a short outage", "failed" not in items, str(items))
    await provider.start()
    report.step("provider up again")

    async def settled() -> bool:
        return (await task_state(db, task))[0] != "open"

    done = await wait_until(settled, 30)
    status, items, captured, released = await task_state(db, task)
    report.check(
        "after the outage every item settled: delivered ones captured, the rest released",
        done
        and items == {"unlocked": cfg.deliverable, "failed": cfg.ghosts}
        and captured == cfg.deliverable * PRICE
        and released == cfg.ghosts * PRICE,
        f"task {status}, items {items}, captured {captured}, released {released}",
    )
    left = await balance_now(db, account_id)
    report.check(
        "balance = credits − price × delivered",
        left == CREDITS - cfg.deliverable * PRICE,
        f"{left} (provider answered {provider.calls} calls)",
    )


async def _long_outage(
    report: Report, cfg: OutageConfig, db: Database, provider: FakeProvider, account_id: int
) -> None:
    await provider.stop()
    before = await balance_now(db, account_id)
    ids = await seed_people(db, cfg.doomed, 0)
    task = await submit(db, account_id, ids)
    report.step(f"phase 2: provider down, worker max 3 attempts; submitted {len(ids)} contacts")

    async def settled() -> bool:
        return (await task_state(db, task))[0] != "open"

    done = await wait_until(settled, 30)
    calls = provider.calls
    status, items, captured, released = await task_state(db, task)
    _, codes = await retried_items(db, task)
    report.check(
        "a long outage fails every item PROVIDER_UNAVAILABLE and releases its credits",
        done
        and status == "failed"
        and items == {"failed": cfg.doomed}
        and codes == {"PROVIDER_UNAVAILABLE"}
        and captured == 0
        and released == cfg.doomed * PRICE,
        f"task {status}, items {items}, codes {codes}, captured {captured}, released {released}",
    )
    after = await balance_now(db, account_id)
    report.check("nothing charged for them", after == before, f"balance {before} → {after}")
    await provider.start()
    await asyncio.sleep(1.0)
    report.check(
        "settled items are not worked again once the provider is back",
        provider.calls == calls,
        f"{provider.calls - calls} new calls",
    )
