"""The webhook drill: real ``showfloor worker`` processes delivering to a local receiver, on a private
PostgreSQL. Used by tests/e2e/test_webhook_drill.py and ``make chaos`` (bench/chaos.py).

Phase 1, a worker SIGKILLed mid-delivery: the receiver holds the first request it gets; the worker is
killed while that request is in flight; a new worker sends it again once the lease expires. Phase 2,
the receiver down (its port closed) while events arrive: attempts fail and are retried, then delivered
once it is back. Throughout: every event delivered, with the same ``webhook-id`` on every attempt,
every request verified with the SDK, nothing failed, and no database transaction left open.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from showfloor.client import WebhookVerificationError, verify_webhook
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.models import OutboxEvent, WebhookDelivery
from showfloor.server.notify.endpoints import create_endpoint
from tests.e2e.drill_support import Report, create_database, make_accounts, start_worker, stop_process
from tests.e2e.private_pg import PrivatePostgres
from tests.e2e.provider_outage_drill import wait_until
from tests.integration.webhook_support import Receiver

WORKER_ENV = {
    "SHOWFLOOR_WEBHOOK_ALLOW_PRIVATE": "true",
    "SHOWFLOOR_WEBHOOK_CONNECT_TIMEOUT_SECONDS": "0.5",
    "SHOWFLOOR_WEBHOOK_READ_TIMEOUT_SECONDS": "2",
    "SHOWFLOOR_WEBHOOK_LEASE_SECONDS": "3",
    "SHOWFLOOR_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "SHOWFLOOR_WEBHOOK_RETRY_MAX_SECONDS": "1",
    "SHOWFLOOR_WEBHOOK_POLL_SECONDS": "0.1",
}


@dataclass(frozen=True)
class WebhookDrillConfig:
    events: int = 8  # credits.granted events per phase


async def _grant_events(db: Database, account_id: int, count: int, tag: str) -> None:
    async with db.write() as session:
        for n in range(count):
            await ledger.grant(session, account_id, "gift", 1 + n, expires_at=None, op_key=f"{tag}:{n}")


async def _states(db: Database) -> Counter[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)
        )
        return Counter({state: int(n) for state, n in rows.all()})


async def _event_ids(db: Database) -> set[str]:
    async with db.read() as session:
        return set((await session.scalars(select(OutboxEvent.public_id))).all())


async def _all_delivered(db: Database, expected: int) -> bool:
    states = await _states(db)
    return states["delivered"] == expected and sum(states.values()) == expected


async def run_webhook_drill(report: Report, config: WebhookDrillConfig | None = None) -> None:
    cfg = config or WebhookDrillConfig()
    pg = PrivatePostgres()
    receiver = Receiver(hold=True)
    db: Database | None = None
    procs: list[subprocess.Popen[bytes]] = []
    try:
        report.step("private PostgreSQL; a local webhook receiver that holds the first request it gets")
        pg.init()
        pg.start()
        url = await create_database(pg, "drill_webhooks")
        db = Database(make_engine(url, null_pool=True))
        (account,) = await make_accounts(db, 1, 100, prefix="hooks")
        await receiver.start()
        async with db.write() as session:
            endpoint = await create_endpoint(
                session, account.id, url=receiver.url(), event_types=None, description="drill",
                allow_private=True, now=datetime.now(UTC),
            )  # fmt: skip
        await _grant_events(db, account.id, cfg.events, "phase1")
        expected = cfg.events + 1  # and the seed grant's credits.granted

        first = start_worker(url, **WORKER_ENV)
        procs.append(first)
        arrived = await wait_until(lambda: _arrived(receiver), 30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        in_flight = receiver.ids()[:1]
        states = await _states(db)
        report.step(f"SIGKILL with {len(receiver.received)} request(s) in flight; deliveries {dict(states)}")
        report.check(
            "the kill caught a delivery in flight, not yet recorded", arrived and states["delivered"] == 0
        )

        receiver.hold = False
        receiver.release.set()
        second = start_worker(url, **WORKER_ENV)
        procs.append(second)
        delivered = await wait_until(lambda: _all_delivered(db, expected), 30)
        report.check("after a restart every event is delivered", delivered, str(dict(await _states(db))))
        resent = receiver.ids().count(in_flight[0]) if in_flight else 0
        report.check(
            "the request in flight at the kill was sent again with the same webhook-id",
            resent >= 2,
            f"{resent} times",
        )

        report.step("phase 2: the receiver is down while new events arrive")
        await receiver.stop()
        await _grant_events(db, account.id, cfg.events, "phase2")
        expected += cfg.events

        retried = await wait_until(lambda: _retrying(db), 30)
        report.check("attempts fail and are retried while the receiver is down", retried)
        report.check("nothing given up during a short outage", (await _states(db))["failed"] == 0)
        await receiver.start()
        delivered = await wait_until(lambda: _all_delivered(db, expected), 30)
        report.check("once it is back every event is delivered", delivered, str(dict(await _states(db))))
        code = stop_process(second)
        report.check("worker stopped cleanly (SIGTERM)", code == 0, f"exit {code}")
        await _final_checks(report, db, receiver, endpoint["secret"])
    except AssertionError as exc:
        report.check("webhook drill ran to the end", False, str(exc) or type(exc).__name__)
    finally:
        for proc in procs:
            stop_process(proc)
        await receiver.stop()
        if db is not None:
            await db.dispose()
        pg.destroy()


async def _retrying(db: Database) -> bool:
    async with db.read() as session:
        waiting = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.state == "pending", WebhookDelivery.attempts >= 2)
        )
    return bool(waiting)


async def _arrived(receiver: Receiver) -> bool:
    return bool(receiver.received)


async def _final_checks(report: Report, db: Database, receiver: Receiver, secret: str) -> None:
    events = await _event_ids(db)
    seen = set(receiver.ids())
    report.check(
        "every event reached the receiver (at least once)", events <= seen, f"{len(events - seen)} missing"
    )
    report.check("no request carried an unknown webhook-id", seen <= events, f"{len(seen - events)} unknown")
    bad = 0
    for request in receiver.received:
        try:
            verify_webhook(request.body, request.headers, secret)
        except WebhookVerificationError:
            bad += 1
    report.check(
        "every request verifies with the SDK", bad == 0, f"{bad} of {len(receiver.received)} refused"
    )
    async with db.engine.connect() as conn:
        open_xacts = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                )
            )
        ).scalar_one()
    report.check("no transaction left open", open_xacts == 0, f"{open_xacts} open")
