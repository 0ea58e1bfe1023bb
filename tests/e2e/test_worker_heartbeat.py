"""Issue 18, item 22: ``/readyz`` reports unlock items pending with no live worker, on both databases,
from the heartbeats of real ``showfloor worker`` processes (started, stopped, SIGKILLed) and of the
embedded worker of ``serve`` on SQLite."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from showfloor.server.app import create_app
from showfloor.server.db.uow import Database
from showfloor.server.models import WorkerHeartbeat
from tests.conftest import new_account, test_settings
from tests.e2e.test_worker_crash import submit_batch
from tests.integration.unlock_support import give_credits, seed_cast

BEAT = "0.3"  # seconds between heartbeats; a worker is dead after three missed beats


def start_worker(url: str) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")},
        "SHOWFLOOR_DATABASE_URL": url,
        "SHOWFLOOR_WORKER_HEARTBEAT_SECONDS": BEAT,
        "SHOWFLOOR_UNLOCK_FAULT_LATENCY_MS": "600000",  # items stay in flight: nothing settles
        "SHOWFLOOR_WORKER_POLL_SECONDS": "0.1",
        "SHOWFLOOR_LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "showfloor", "worker", "--provider", "fault", "--lease-seconds", "600"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
async def api(db_url: str, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(test_settings(db_url, worker_heartbeat_seconds=float(BEAT)), run_background_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as client:
            yield client


async def workers(api: httpx.AsyncClient) -> dict[str, Any]:
    ready = await api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    return dict(ready.json()["unlockWorkers"])


async def until(api: httpx.AsyncClient, status: str, procs: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    """Poll /readyz until ``unlockWorkers.status`` is ``status`` (a state we wait for, not a timing)."""
    deadline = time.monotonic() + 60
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        seen = await workers(api)
        if seen["status"] == status:
            return seen
        for proc in procs:
            if proc.returncode is None and proc.poll() is not None and status == "ok":
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "worker exited")
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never reported {status!r}; last: {seen}")


async def heartbeat_rows(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(WorkerHeartbeat)) or 0)


async def test_readyz_reports_pending_items_with_no_live_worker(
    api: httpx.AsyncClient, db: Database, db_url: str, processes: list[subprocess.Popen[bytes]]
) -> None:
    assert await workers(api) == {"status": "idle", "liveWorkers": 0, "itemsPending": False}
    account = await new_account(db)
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=3)
    await submit_batch(db, account.id, list(cast.people.values()))
    assert await workers(api) == {"status": "no_live_worker", "liveWorkers": 0, "itemsPending": True}

    first = start_worker(db_url)
    processes.append(first)
    alive = await until(api, "ok", [first])
    assert alive["liveWorkers"] == 1 and alive["itemsPending"] is True
    first.send_signal(signal.SIGKILL)  # no goodbye: its row goes stale
    first.wait(timeout=10)
    dead = await until(api, "no_live_worker", [])
    assert dead["liveWorkers"] == 0 and await heartbeat_rows(db) == 1

    second = start_worker(db_url)
    processes.append(second)
    await until(api, "ok", [second])
    second.send_signal(signal.SIGTERM)  # a clean stop removes its row at once
    assert second.wait(timeout=30) == 0
    assert await workers(api) == {"status": "no_live_worker", "liveWorkers": 0, "itemsPending": True}
    assert await heartbeat_rows(db) == 1  # only the killed worker's stale row is left


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_embedded_worker_of_serve_counts(db_url: str, db: Database) -> None:
    settings = test_settings(
        db_url,
        embedded_worker=True,
        worker_heartbeat_seconds=float(BEAT),
        unlock_provider="fault",
        unlock_fault_latency_ms=600000,
    )
    app = create_app(settings, run_background_jobs=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as client:
            seen = await until(client, "ok", [])
            assert seen["liveWorkers"] == 1
        async with db.read() as session:
            kinds = (await session.scalars(select(WorkerHeartbeat.kind))).all()
        assert kinds == ["embedded"]
    assert await heartbeat_rows(db) == 0  # serve stopped: the row went with it
