"""A real ``showfloor serve`` over a fresh SQLite file with a small demo catalog, for browser tests.

The demo account (``make demo``'s, with its credits) has a console user; a second account has one too.
Unlock tasks run on the server's embedded worker through the fault provider with some latency, so a
task's progress can be seen moving.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.client.live import serve

SHOWFLOOR = [sys.executable, "-m", "showfloor"]
PASSWORD = "browser test password"
OWNER_EMAIL = "owner@demo.test"
OTHER_EMAIL = "someone@globex.test"


@dataclass(frozen=True)
class Site:
    base_url: str
    database_url: str
    owner_account: int
    other_account: int


async def _seed(database_url: str) -> tuple[int, int]:
    from showfloor.data.demo import load_demo
    from showfloor.data.demo_setup import ensure_demo_account
    from showfloor.data.generator import size_for
    from showfloor.server.accounts import service as accounts
    from showfloor.server.console import users
    from showfloor.server.console.passwords import hash_password
    from showfloor.server.db.engine import make_engine
    from showfloor.server.db.uow import Database

    db = Database(make_engine(database_url, null_pool=True))
    try:
        await load_demo(db, size_for(1.0, events=12, exhibitors=300, personnel=3000))
        demo = await ensure_demo_account(db)
        password_hash = await hash_password(PASSWORD)
        now = datetime.now(UTC)
        async with db.write() as session:
            other = await accounts.create_account(session, "globex")
            for account_id, email in ((demo.account_id, OWNER_EMAIL), (other.id, OTHER_EMAIL)):
                user = await users.create_user(session, account_id, email, now)
                user.password_hash = password_hash
        return demo.account_id, other.id
    finally:
        await db.dispose()


def start_site(tmp: Path) -> Iterator[Site]:
    database_url = f"sqlite+aiosqlite:///{tmp / 'console.db'}"
    env = {
        **os.environ,
        "SHOWFLOOR_DATABASE_URL": database_url,
        "SHOWFLOOR_LOG_LEVEL": "WARNING",
        "SHOWFLOOR_UNLOCK_PROVIDER": "fault",
        "SHOWFLOOR_UNLOCK_FAULT_LATENCY_MS": "600",
        "SHOWFLOOR_WORKER_CONCURRENCY": "1",
        "SHOWFLOOR_WORKER_POLL_SECONDS": "0.1",
    }
    subprocess.run([*SHOWFLOOR, "admin", "migrate"], env=env, check=True, capture_output=True, timeout=120)
    with ThreadPoolExecutor(1) as thread:  # its own event loop, whatever runs in this thread
        owner, other = thread.submit(asyncio.run, _seed(database_url)).result()
    server = serve(env, tmp)
    try:
        yield Site(next(server), database_url, owner, other)
    finally:
        server.close()


async def _emit(database_url: str, account_id: int, event_type: str) -> None:
    from showfloor.server.db.engine import make_engine
    from showfloor.server.db.uow import Database
    from showfloor.server.notify.events import emit
    from showfloor.server.notify.outbox import dispatch

    db = Database(make_engine(database_url, null_pool=True))
    try:
        async with db.write() as session:
            await emit(session, account_id, event_type, {"amount": 5})
            await dispatch(session, datetime.now(UTC))  # one delivery per endpoint, now
    finally:
        await db.dispose()


def emit_event(site: Site, account_id: int, event_type: str) -> None:
    """An outbox event for ``account_id``, fanned out to its webhook endpoints (as a grant would)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _emit(site.database_url, account_id, event_type)).result()
