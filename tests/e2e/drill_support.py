"""Shared machinery of the fault drills (tests/e2e and bench/chaos.py): a report of checks, real
``showfloor serve`` / ``showfloor worker`` processes, a recording HTTP transport, seeding and ledger sums.

Every wait here is bounded in time; every process started here is stopped by whoever started it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from showfloor.server.accounts import service as accounts
from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import upgrade
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.models import CreditGrant, CreditHold, LedgerOperation
from tests.e2e.private_pg import PrivatePostgres, free_port


class DrillFailed(AssertionError):
    pass


@dataclass
class Report:
    """What a drill did (``step``) and what it checked (``check``); printed as it goes when ``verbose``."""

    verbose: bool = False
    started: float = field(default_factory=time.monotonic)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def _say(self, line: str) -> None:
        if self.verbose:
            print(f"[{time.monotonic() - self.started:6.1f}s] {line}", flush=True)

    def step(self, what: str) -> None:
        self._say(f"  .. {what}")

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, ok, detail))
        self._say(f"  {'OK  ' if ok else 'FAIL'} {name}{f' ({detail})' if detail else ''}")
        return ok

    @property
    def failures(self) -> list[str]:
        return [f"{name}: {detail}" for name, ok, detail in self.checks if not ok]

    def raise_on_failure(self) -> None:
        if self.failures:
            raise DrillFailed("; ".join(self.failures))


# -- databases ------------------------------------------------------------------------------------


async def create_database(pg: PrivatePostgres, name: str) -> str:
    """A fresh, migrated database on the private server; returns its SQLAlchemy URL."""
    import asyncpg  # the server extra's driver; imported here so the module loads without it

    conn = await asyncpg.connect(pg.dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = pg.url(name)
    engine = make_engine(url, null_pool=True)
    await upgrade(engine)
    await engine.dispose()
    return url


@dataclass(frozen=True)
class DrillAccount:
    id: int
    key: str
    credits: int


async def make_accounts(db: Database, count: int, credits: int, prefix: str = "drill") -> list[DrillAccount]:
    out: list[DrillAccount] = []
    async with db.write() as session:
        for n in range(count):
            account = await accounts.create_account(session, f"{prefix}-{n}")
            await ledger.grant(session, account.id, "gift", credits, expires_at=None, op_key="drill:seed")
            issued = await accounts.create_key(session, account.id)
            out.append(DrillAccount(account.id, issued.key, credits))
    return out


# -- processes ------------------------------------------------------------------------------------


def drill_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
    env.update(
        {
            "SHOWFLOOR_DATABASE_URL": database_url,
            "SHOWFLOOR_RATE_LIMIT_ENABLED": "false",
            "SHOWFLOOR_LOG_LEVEL": "WARNING",
            "SHOWFLOOR_EMBEDDED_WORKER": "false",
        }
    )
    env.update(extra)
    return env


def start_server(
    database_url: str, *, workers: int = 1, log: Path | None = None, **extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    """``showfloor serve`` on a free port; its output goes to ``log`` (kept for a post-mortem) if given."""
    port = free_port()
    cmd = [sys.executable, "-m", "showfloor", "serve", "--port", str(port), "--workers", str(workers)]
    with open(log or os.devnull, "ab") as out:
        proc = subprocess.Popen(cmd, env=drill_env(database_url, **extra), stdout=out, stderr=out)
    return proc, f"http://127.0.0.1:{port}"


def start_worker(database_url: str, **extra: str) -> subprocess.Popen[bytes]:
    env = drill_env(database_url, SHOWFLOOR_WORKER_POLL_SECONDS="0.1", **extra)
    cmd = [sys.executable, "-m", "showfloor", "worker"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(timeout=timeout)


async def wait_status(base: str, path: str, want: int, within: float) -> bool:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(path)).status_code == want:
                    return True
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    return False


# -- recording every attempt ----------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    at: float  # time.monotonic()
    method: str
    path: str
    key: str | None  # Idempotency-Key
    status: int | None  # None: transport error
    error_key: str | None
    error: str | None
    replayed: bool
    body: Any


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport and keeps every attempt (retries included) with its outcome."""

    def __init__(self, attempts: list[Attempt]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.attempts = attempts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError as exc:
            self.attempts.append(
                Attempt(time.monotonic(), request.method, request.url.path, key, None, None,
                        type(exc).__name__, False, None)
            )  # fmt: skip
            raise
        await response.aread()
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = response.text[:200]
        error_key = body.get("errorKey") if isinstance(body, dict) else None
        self.attempts.append(
            Attempt(time.monotonic(), request.method, request.url.path, key, response.status_code,
                    error_key, None, response.headers.get("Idempotent-Replayed") == "true", body)
        )  # fmt: skip
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


# -- ledger sums ----------------------------------------------------------------------------------


async def charges_by_account(db: Database) -> dict[int, Counter[tuple[str, str]]]:
    """Per account: credits charged (debits and captures) per (resource type, resource id)."""
    out: dict[int, Counter[tuple[str, str]]] = {}
    async with db.read() as session:
        rows = (
            await session.execute(
                select(
                    LedgerOperation.account_id,
                    LedgerOperation.resource_type,
                    LedgerOperation.resource_id,
                    func.sum(LedgerOperation.amount),
                )
                .where(LedgerOperation.kind.in_(("debit", "capture")))
                .group_by(
                    LedgerOperation.account_id, LedgerOperation.resource_type, LedgerOperation.resource_id
                )
            )
        ).all()
    for account_id, rtype, rid, total in rows:
        out.setdefault(account_id, Counter())[(str(rtype), str(rid))] += int(total)
    return out


async def operation_kinds(db: Database) -> Counter[str]:
    async with db.read() as session:
        rows = (
            await session.execute(select(LedgerOperation.kind, func.count()).group_by(LedgerOperation.kind))
        ).all()
    return Counter({kind: int(n) for kind, n in rows})


async def check_ledger_health(db: Database, report: Report) -> None:
    """No negative grant, no open hold, ``reconcile()`` clean for every account."""
    async with db.read() as session:
        negative = await session.scalar(
            select(func.count()).select_from(CreditGrant).where(CreditGrant.remaining < 0)
        )
        open_holds = await session.scalar(
            select(func.count()).select_from(CreditHold).where(CreditHold.state != "closed")
        )
        problems = await reconcile(session, None, datetime.now(UTC))
    report.check("no negative balance (no grant below zero)", negative == 0, f"{negative} negative")
    report.check("every credit hold resolved", open_holds == 0, f"{open_holds} open")
    report.check("reconcile() finds no problem", not problems, "; ".join(problems[:5]))
