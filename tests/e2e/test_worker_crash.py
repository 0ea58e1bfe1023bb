"""Real ``showfloor worker`` processes on PostgreSQL: SIGKILL mid-batch then restart, and two workers
sharing one batch. Short leases (2 s) and a slow fault provider keep items in flight when we strike."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from showfloor.server.db.uow import Database
from showfloor.server.models import ContactUnlock, LedgerOperation, UnlockTaskItem
from showfloor.server.unlocks import service
from tests.conftest import Databases, new_account
from tests.integration.unlock_support import (
    assert_settled_cleanly,
    available_now,
    give_credits,
    op_total,
    seed_cast,
)


def start_worker(
    url: str, *, latency_ms: int, concurrency: int = 4, lease: float = 2.0, **settings: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SHOWFLOOR_DATABASE_URL": url,
        "SHOWFLOOR_UNLOCK_FAULT_LATENCY_MS": str(latency_ms),
        "SHOWFLOOR_WORKER_POLL_SECONDS": "0.1",
        "SHOWFLOOR_WORKER_RETRY_BASE_SECONDS": "0.1",
        "SHOWFLOOR_LOG_LEVEL": "WARNING",
        **{f"SHOWFLOOR_{name.upper()}": value for name, value in settings.items()},
    }
    cmd = [sys.executable, "-m", "showfloor", "worker", "--provider", "fault"]
    cmd += ["--concurrency", str(concurrency), "--lease-seconds", str(lease)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


async def settled_count(db: Database) -> int:
    async with db.read() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(UnlockTaskItem)
                .where(UnlockTaskItem.status.in_(("unlocked", "failed")))
            )
            or 0
        )


async def wait_settled(
    db: Database, at_least: int, limit_seconds: float, procs: list[subprocess.Popen[bytes]]
) -> int:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        n = await settled_count(db)
        if n >= at_least:
            return n
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(
                    f"worker exited early: {proc.stderr.read().decode() if proc.stderr else ''}"
                )
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {await settled_count(db)} items settled after {limit_seconds} s")


async def submit_batch(db: Database, account_id: int, ids: list[int]) -> int:
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


async def test_worker_killed_mid_batch_then_restarted_settles_everything_once(
    databases: Databases, pg_db: Database, processes: list[subprocess.Popen[bytes]]
) -> None:
    url = await databases.url("postgres")
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 1000)
    cast = await seed_cast(pg_db, deliverable=12, no_email=4)
    await submit_batch(pg_db, account.id, list(cast.people.values()))

    first = start_worker(url, latency_ms=400)
    processes.append(first)
    settled = await wait_settled(pg_db, 4, 30, [first])
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert settled < 16
    async with pg_db.read() as session:
        in_flight = await session.scalar(
            select(func.count()).select_from(UnlockTaskItem).where(UnlockTaskItem.status == "processing")
        )
    assert in_flight, "the kill should leave claimed, unsettled items behind"

    second = start_worker(url, latency_ms=50)
    processes.append(second)
    await wait_settled(pg_db, 16, 30, [second])
    await asyncio.sleep(0.3)  # let the last settlement's task close commit
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) == 0

    await assert_settled_cleanly(pg_db, account.id)
    assert await op_total(pg_db, account.id, "capture") == 12 * 15
    assert await available_now(pg_db, account.id) == 1000 - 12 * 15
    async with pg_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(ContactUnlock)) == 12
        resumed = await session.scalar(
            select(func.count()).select_from(UnlockTaskItem).where(UnlockTaskItem.attempts > 1)
        )
        assert resumed, "items held by the killed worker are resumed after their lease expires"
        # Exactly one capture or release per item.
        ops = (
            await session.scalars(
                select(LedgerOperation.op_key).where(LedgerOperation.kind.in_(("capture", "release")))
            )
        ).all()
    per_item = [key for key in ops if ":item:" in key]
    assert len(per_item) == 16 == len({key.rsplit(":", 1)[0] for key in per_item})


async def test_worker_killed_between_the_answers_and_the_groups_commit(
    databases: Databases, pg_db: Database, processes: list[subprocess.Popen[bytes]]
) -> None:
    """Every provider answer is in hand, waiting for its group (a group that never fills, a wait that
    never ends), when the worker is killed: nothing was written, and a new worker settles every item
    exactly once with no hold left open."""
    url = await databases.url("postgres")
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 1000)
    cast = await seed_cast(pg_db, deliverable=6, no_email=2)
    await submit_batch(pg_db, account.id, list(cast.people.values()))

    first = start_worker(
        url,
        latency_ms=0,
        concurrency=8,
        log_level="DEBUG",
        log_format="text",
        worker_settle_group="32",
        worker_settle_wait_ms="600000",
    )
    processes.append(first)
    assert first.stderr is not None
    answered = 0
    deadline = time.monotonic() + 30
    while answered < 8 and time.monotonic() < deadline:
        line = await asyncio.to_thread(first.stderr.readline)
        answered += b"answer waiting for settlement" in line
    assert answered == 8, "every item's answer should be in hand before the kill"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert await settled_count(pg_db) == 0
    assert await op_total(pg_db, account.id, "capture") == 0
    assert await op_total(pg_db, account.id, "release") == 0
    assert await available_now(pg_db, account.id) == 1000 - 8 * 15  # the whole hold is still held

    second = start_worker(url, latency_ms=0, lease=2.0)
    processes.append(second)
    await wait_settled(pg_db, 8, 30, [second])
    await asyncio.sleep(0.3)  # let the task's close commit
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) == 0
    await assert_settled_cleanly(pg_db, account.id)
    assert await op_total(pg_db, account.id, "capture") == 6 * 15
    assert await available_now(pg_db, account.id) == 1000 - 6 * 15
    async with pg_db.read() as session:
        ops = (
            await session.scalars(
                select(LedgerOperation.op_key).where(LedgerOperation.kind.in_(("capture", "release")))
            )
        ).all()
    per_item = [key for key in ops if ":item:" in key]
    assert len(per_item) == 8 == len({key.rsplit(":", 1)[0] for key in per_item})


async def test_two_worker_processes_share_a_batch_without_overlap(
    databases: Databases, pg_db: Database, processes: list[subprocess.Popen[bytes]]
) -> None:
    url = await databases.url("postgres")
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 1000)
    cast = await seed_cast(pg_db, deliverable=40)
    workers = [start_worker(url, latency_ms=150, lease=10.0) for _ in range(2)]
    processes.extend(workers)
    await asyncio.sleep(1.5)  # both processes up before the work arrives
    await submit_batch(pg_db, account.id, list(cast.people.values()))
    await wait_settled(pg_db, 40, 30, workers)
    await asyncio.sleep(0.3)
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    async with pg_db.read() as session:
        rows = (await session.execute(select(UnlockTaskItem.attempts, UnlockTaskItem.lease_owner))).all()
    assert {attempts for attempts, _ in rows} == {1}, "no item was claimed twice"
    assert len({owner for _, owner in rows}) == 2, "both workers took part"
    await assert_settled_cleanly(pg_db, account.id)
    assert await available_now(pg_db, account.id) == 1000 - 40 * 15
