"""``make chaos``: the fault drills in one run, printing what each did and what it checked.

    .venv/bin/python bench/chaos.py [--only restart,provider,worker,webhooks,redis] [--resolve-seconds 75]

1. restart  — PostgreSQL stopped (``pg_ctl stop -m fast``) and started under a paid-action load against one
   ``showfloor serve`` (tests/e2e/db_restart_drill.py). Requests the SDK gave up on are resent with their
   original Idempotency-Key for up to --resolve-seconds (a key claimed just before the database went away
   stays "running" for the server's lease, ``RUNNING_LEASE`` in paid/idempotency.py), so each ends with a
   definitive answer.
2. provider — the enrichment provider down for a while, then down longer than the attempt limit
   (tests/e2e/provider_outage_drill.py).
3. worker   — a ``showfloor worker`` SIGKILLed mid-batch, then a new one started (the mechanics of
   tests/e2e/test_worker_crash.py, reused): every item settled once, holds resolved, reconcile clean.
4. webhooks — a ``showfloor worker`` SIGKILLed while a webhook request is in flight, then the receiver down
   while events arrive (tests/e2e/webhook_drill.py): every event delivered, a resent one with the same
   ``webhook-id``, every request verified with the SDK, no transaction left open.
5. redis    — Redis (rate-limit counters) black-holed, refused, then restored under ``serve --workers 2``
   (tests/e2e/redis_drill.py): every request answered, limits per process meanwhile, /readyz 200 and
   "degraded", the degradation logged once per process, shared limits again once Redis is back.

Each drill runs on its own private PostgreSQL (initdb in a temporary folder, free port; the shared server
is not touched). Exit status 1 if any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root, for ``tests``

from sqlalchemy import func, select
from tests.e2e.db_restart_drill import DrillConfig, run_db_restart_drill
from tests.e2e.drill_support import Report, create_database, make_accounts
from tests.e2e.private_pg import PrivatePostgres
from tests.e2e.provider_outage_drill import run_provider_outage_drill
from tests.e2e.redis_drill import run_redis_drill
from tests.e2e.test_worker_crash import start_worker, submit_batch, wait_settled
from tests.e2e.webhook_drill import run_webhook_drill
from tests.integration.unlock_support import (
    assert_settled_cleanly,
    available_now,
    op_total,
    seed_cast,
)

from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.models import ContactUnlock, LedgerOperation, UnlockTaskItem

CREDITS = 1000
PRICE = 15


async def worker_kill_drill(report: Report) -> None:
    pg = PrivatePostgres()
    db: Database | None = None
    procs = []
    try:
        report.step("private PostgreSQL; 16 contacts (12 with an email) in one batch; fault provider 400 ms")
        pg.init()
        pg.start()
        url = await create_database(pg, "drill_worker_kill")
        db = Database(make_engine(url, null_pool=True))
        (account,) = await make_accounts(db, 1, CREDITS, prefix="kill")
        cast = await seed_cast(db, deliverable=12, no_email=4)
        await submit_batch(db, account.id, list(cast.people.values()))
        first = start_worker(url, latency_ms=400)
        procs.append(first)
        settled = await wait_settled(db, 4, 30, [first])
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        async with db.read() as session:
            in_flight = await session.scalar(
                select(func.count()).select_from(UnlockTaskItem).where(UnlockTaskItem.status == "processing")
            )
        report.step(f"SIGKILL after {settled} items settled; {in_flight} claimed and unsettled")
        report.check("the kill left claimed, unsettled items behind", bool(in_flight) and settled < 16)
        second = start_worker(url, latency_ms=50)
        procs.append(second)
        report.step("second worker started")
        await wait_settled(db, 16, 30, [second])
        await asyncio.sleep(0.3)  # let the last settlement's task close commit
        second.send_signal(signal.SIGTERM)
        report.check("second worker stopped cleanly", second.wait(timeout=10) == 0)
        await _worker_kill_checks(report, db, account.id)
    except AssertionError as exc:
        report.check("worker-kill drill ran to the end", False, str(exc) or type(exc).__name__)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        if db is not None:
            await db.dispose()
        pg.destroy()


async def _worker_kill_checks(report: Report, db: Database, account_id: int) -> None:
    try:
        await assert_settled_cleanly(db, account_id)
        clean = ""
    except AssertionError as exc:
        clean = str(exc) or "assertion failed"
    report.check("every task closed, item settled, hold resolved; reconcile clean", not clean, clean)
    captured = await op_total(db, account_id, "capture")
    report.check("captured = price × delivered", captured == 12 * PRICE, f"{captured}")
    left = await available_now(db, account_id)
    report.check("balance = credits − price × delivered", left == CREDITS - 12 * PRICE, f"{left}")
    async with db.read() as session:
        unlocked = await session.scalar(select(func.count()).select_from(ContactUnlock))
        resumed = await session.scalar(
            select(func.count()).select_from(UnlockTaskItem).where(UnlockTaskItem.attempts > 1)
        )
        keys = (
            await session.scalars(
                select(LedgerOperation.op_key).where(LedgerOperation.kind.in_(("capture", "release")))
            )
        ).all()
    per_item = [key for key in keys if ":item:" in key]
    report.check("12 contacts recorded for the account", unlocked == 12, f"{unlocked}")
    report.check("items of the killed worker resumed by the second", bool(resumed), f"{resumed} resumed")
    report.check(
        "exactly one capture or release per item",
        len(per_item) == 16 == len({key.rsplit(":", 1)[0] for key in per_item}),
        f"{len(per_item)} settlements",
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--only", default="restart,provider,worker,webhooks,redis")
    parser.add_argument("--resolve-seconds", type=float, default=75.0)
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    report = Report(verbose=True)
    if "restart" in wanted:
        print("== database restart under load", flush=True)
        await run_db_restart_drill(report, DrillConfig(resolve_seconds=args.resolve_seconds))
    if "provider" in wanted:
        print("== enrichment provider outage", flush=True)
        await run_provider_outage_drill(report)
    if "worker" in wanted:
        print("== worker killed mid-batch (SIGKILL) and restarted", flush=True)
        await worker_kill_drill(report)
    if "webhooks" in wanted:
        print("== webhook delivery: worker killed mid-delivery, receiver down", flush=True)
        await run_webhook_drill(report)
    if "redis" in wanted:
        print("== Redis black-holed, refused and restored under serve --workers 2", flush=True)
        await run_redis_drill(report)
    passed = sum(1 for _, ok, _ in report.checks if ok)
    print(f"\n{passed}/{len(report.checks)} checks passed")
    for failure in report.failures:
        print(f"  FAILED {failure}")
    return 0 if report.checks and not report.failures else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
