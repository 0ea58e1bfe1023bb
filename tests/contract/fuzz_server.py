"""A real ``showfloor serve`` for the fuzzer: fresh SQLite file, migrated by the CLI, a tiny catalog,
an account with a key and credits. Rate limiting is off so the fuzzer is never throttled."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from showfloor.server.accounts import service as accounts
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from tests.factories import make_event, make_exhibitor, make_person

SHOWFLOOR = str(Path(sys.executable).with_name("showfloor"))


@dataclass(frozen=True)
class FuzzServer:
    base_url: str
    key: str
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
    env.update(
        SHOWFLOOR_DATABASE_URL=db_url,
        SHOWFLOOR_RATE_LIMIT_ENABLED="false",
        SHOWFLOOR_LOG_LEVEL="WARNING",
    )
    return env


async def seed(db_url: str) -> str:
    """A few events, exhibitors and people; an account with 10 million credits. Returns its API key."""
    db = Database(make_engine(db_url, null_pool=True))
    try:
        async with db.write() as session:
            for n in range(3):
                event = await make_event(session, name=f"Fuzz Expo {n}")
                company = await make_exhibitor(session, event, company_name=f"Fuzz Company {n}")
                for _ in range(3):
                    await make_person(session, event, company)
                await make_person(session, event, None, visitor_only=True)
            account = await accounts.create_account(session, "fuzzer")
            issued = await accounts.create_key(session, account.id)
            await ledger.grant(
                session,
                account.id,
                "subscription",
                10_000_000,
                expires_at=datetime.now(UTC) + timedelta(days=30),
                op_key="fuzz-seed",
            )
    finally:
        await db.dispose()
    return issued.key


@contextmanager
def running_server(workdir: Path, key: str, db_url: str) -> Iterator[FuzzServer]:
    port = free_port()
    log = workdir / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [SHOWFLOOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env(db_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"showfloor serve exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"showfloor serve did not become ready: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield FuzzServer(base_url, key, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def migrate(db_url: str) -> None:
    subprocess.run([SHOWFLOOR, "admin", "migrate"], env=server_env(db_url), check=True, capture_output=True)
