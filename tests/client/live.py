"""A real ``showfloor serve`` process on a free port over a fresh SQLite file, for SDK and CLI tests.

The schema comes from ``showfloor admin migrate``; accounts, keys and credits from the admin CLI
(``--json``); a tiny catalog from the test factories (the only in-process step).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from showfloor.client import NotFound

T = TypeVar("T")
SHOWFLOOR = [sys.executable, "-m", "showfloor"]


@dataclass
class Account:
    id: str
    key: str


@dataclass
class Catalog:
    event: str  # public eventId of the event with contacts
    event_internal: str
    empty_event: str  # an event with no contacts
    exhibitor: str
    company: str
    deliverable: list[str] = field(default_factory=list)  # personnel with an email
    no_email: str = ""
    opted_out: str = ""
    paginated_keyword: str = "Paginated Expo"
    paginated_count: int = 5


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    catalog: Catalog

    def admin(self, *args: str) -> Any:
        done = subprocess.run(
            [*SHOWFLOOR, "admin", *args, "--json"], env=self.env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"showfloor admin {' '.join(args)} failed: {done.stderr}")
        return json.loads(done.stdout)

    pool: dict[int, list[Account]] = field(default_factory=dict)

    def create_account(self, credits: int = 0, name: str = "sdk-test") -> Account:
        account = self.admin("accounts", "create", "--name", name)
        key = self.admin("keys", "create", "--account", account["id"])
        if credits:
            self.admin("credits", "grant", "--account", account["id"], "--gift", "--amount", str(credits))
        return Account(id=account["id"], key=key["key"])

    def prepare_accounts(self, amounts: list[int]) -> None:
        """Create accounts ahead, in one in-process transaction: the admin CLI costs three
        subprocesses per account, too slow for a pool (``create_account`` keeps that path covered)."""
        for amount, account in zip(
            amounts, asyncio.run(_provision(self.env["SHOWFLOOR_DATABASE_URL"], amounts)), strict=True
        ):
            self.pool.setdefault(amount, []).append(account)

    def new_account(self, credits: int = 0) -> Account:
        """A fresh account holding exactly ``credits`` gift credits."""
        ready = self.pool.get(credits)
        return ready.pop() if ready else self.create_account(credits)


async def _provision(database_url: str, amounts: list[int]) -> list[Account]:
    from showfloor.server.accounts import service as accounts
    from showfloor.server.db.engine import make_engine
    from showfloor.server.db.uow import Database
    from showfloor.server.ledger import service as ledger

    db = Database(make_engine(database_url, null_pool=True))
    made: list[Account] = []
    try:
        async with db.write() as session:
            for n, amount in enumerate(amounts):
                account = await accounts.create_account(session, f"pool-{n}")
                issued = await accounts.create_key(session, account.id)
                if amount:
                    await ledger.grant(
                        session, account.id, "gift", amount, expires_at=None, op_key=f"test-pool:{account.id}"
                    )
                made.append(Account(id=str(account.id), key=issued.key))
    finally:
        await db.dispose()
    return made


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _seed(database_url: str) -> Catalog:
    from showfloor.server.db.engine import make_engine
    from showfloor.server.db.uow import Database
    from tests import factories as f

    db = Database(make_engine(database_url, null_pool=True))
    try:
        async with db.write() as s:
            event = await f.make_event(s, name="Globex World Expo")
            empty = await f.make_event(s, name="Quiet Fair")
            company = await f.make_exhibitor(s, event, company_name="Globex Dynamics")
            for _ in range(2):
                await f.make_exhibitor(s, event)
            ok = [await f.make_person(s, event, company) for _ in range(3)]
            no_email = await f.make_person(s, event, company, email=None, phone=None)
            opted_out = await f.make_person(s, event, company, opted_out=True)
            for n in range(5):
                await f.make_event(s, name=f"Paginated Expo {n}")
            return Catalog(
                event=event.event_id,
                event_internal=str(event.id),
                empty_event=empty.event_id,
                exhibitor=str(company.id),
                company="Globex Dynamics",
                deliverable=[str(p.id) for p in ok],
                no_email=str(no_email.id),
                opted_out=str(opted_out.id),
            )
    finally:
        await db.dispose()


def start_server(tmp: Path) -> Iterator[LiveServer]:
    database_url = f"sqlite+aiosqlite:///{tmp / 'live.db'}"
    env = {
        **os.environ,
        "SHOWFLOOR_DATABASE_URL": database_url,
        "SHOWFLOOR_RATE_LIMIT_ENABLED": "false",
        "SHOWFLOOR_LOG_LEVEL": "WARNING",
        "SHOWFLOOR_WORKER_POLL_SECONDS": "0.1",
        "SHOWFLOOR_WORKER_RETRY_BASE_SECONDS": "0",
    }
    for name in ("SHOWFLOOR_API_KEY", "LENSMOR_API_KEY", "SHOWFLOOR_BASE_URL"):
        env.pop(name, None)
    subprocess.run([*SHOWFLOOR, "admin", "migrate"], env=env, check=True, capture_output=True, timeout=120)
    catalog = asyncio.run(_seed(database_url))
    server = serve(env, tmp)
    try:
        yield LiveServer(base_url=next(server), env=env, catalog=catalog)
    finally:
        server.close()


def serve(env: dict[str, str], tmp: Path) -> Iterator[str]:
    """``showfloor serve`` on a free port with ``env``, until the generator is closed; yields its URL
    once ``/healthz`` answers. The log goes to ``tmp/server.log``."""
    port = free_port()
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [*SHOWFLOOR, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"showfloor serve exited: {(tmp / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("showfloor serve did not answer /healthz within 60 s")
            time.sleep(0.1)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def or_skip_missing(endpoint: str, call: Callable[[], T]) -> T:
    """Run ``call``; skip the test when the server has no route for ``endpoint`` yet."""
    try:
        return call()
    except NotFound as exc:
        if exc.message == "Not Found":  # the framework's answer for an unknown route
            pytest.skip(f"server has no {endpoint} yet (404)")
        raise
