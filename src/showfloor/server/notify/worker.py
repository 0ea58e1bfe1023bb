"""The webhook delivery loop: dispatch and claim in one short transaction, send each claimed attempt
with NO transaction open (``Sender`` never sees the database), record each outcome in a short
transaction of its own. Up to ``webhook_concurrency`` attempts are in flight at once.

It runs beside the unlock worker in ``showfloor worker`` (``run_beside``) and, where the embedded worker
runs (the SQLite default), inside ``showfloor serve`` (``embedded_delivery``, a periodic job).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

from showfloor.server.config import Settings
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.notify import outbox
from showfloor.server.notify.sender import Attempt, Outcome, Sender

log = logging.getLogger("showfloor.webhooks")
T = TypeVar("T")
STOP_GRACE_SECONDS = 5.0  # on a clean stop, attempts in flight get this long to finish and be recorded


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookWorker:
    def __init__(
        self, db: Database, settings: Settings, *, sender: Sender | None = None, worker_id: str | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.sender = sender or Sender(settings)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:webhooks:{secrets.token_hex(3)}"
        self.concurrency = settings.webhook_concurrency
        self.attempted = 0

    async def aclose(self) -> None:
        await self.sender.aclose()

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> int:
        """Deliver until ``stop`` is set (or, with ``until_idle``, until nothing is due or in flight);
        returns how many attempts were made."""
        stop = stop or asyncio.Event()
        inflight: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                dispatched, claimed = await self._dispatch_and_claim(self.concurrency - len(inflight))
                inflight.update(asyncio.create_task(self._attempt(a)) for a in claimed)
                if not inflight:
                    if until_idle and not dispatched:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.webhook_poll_seconds)
                    continue
                _, inflight = await asyncio.wait(
                    inflight, timeout=self.settings.webhook_poll_seconds, return_when=asyncio.FIRST_COMPLETED
                )
            if inflight:  # stopping: let attempts in flight finish briefly rather than send them twice
                _, inflight = await asyncio.wait(inflight, timeout=STOP_GRACE_SECONDS)
        finally:
            for task in inflight:  # abandoned: their leases expire and they are sent again later
                task.cancel()
            for task in inflight:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return self.attempted

    async def _dispatch_and_claim(self, free: int) -> tuple[int, list[Attempt]]:
        try:
            async with self.db.write() as session:
                now = _now()
                dispatched = await outbox.dispatch(session, now)
                claimed = (
                    await outbox.claim(
                        session, self.worker_id, free, self.settings.webhook_lease_seconds, now
                    )
                    if free > 0
                    else []
                )
            return dispatched, claimed
        except Exception:
            log.exception("dispatching or claiming webhook deliveries failed")
            await asyncio.sleep(self.settings.webhook_poll_seconds)
            return 0, []

    async def _attempt(self, attempt: Attempt) -> None:
        try:
            outcome = await self.sender.send(attempt, _now())  # no transaction is open here
        except Exception as exc:  # a bug, not the receiver's doing: recorded as a failed attempt
            log.exception("webhook attempt raised", extra={"delivery_id": attempt.delivery_id})
            outcome = Outcome(False, error=f"attempt failed: {type(exc).__name__}")
        self.attempted += 1
        try:
            async with self.db.write() as session:
                state = await outbox.record(
                    session,
                    attempt,
                    outcome,
                    _now(),
                    self.worker_id,
                    retry_base=self.settings.webhook_retry_base_seconds,
                    retry_cap=self.settings.webhook_retry_max_seconds,
                )
        except Exception:
            # Left as claimed: the lease expires and the delivery is attempted again (same webhook-id).
            log.exception("recording a webhook attempt failed", extra={"delivery_id": attempt.delivery_id})
            return
        log.info(
            "webhook attempt",
            extra={
                "delivery_id": attempt.delivery_id,
                "event_id": attempt.event_id,
                "attempt": attempt.attempt,
                "status": outcome.status,
                "error": outcome.error,
                "state": state,
            },
        )


async def run_beside(main: Awaitable[T], settings: Settings, stop: asyncio.Event) -> T:
    """Run ``main`` (the unlock worker) with a webhook delivery loop beside it, on a pool of its own,
    until ``stop``; ``showfloor worker`` wraps its main coroutine in this."""
    db = Database(
        make_engine(
            settings.database_url,
            pool_size=settings.webhook_concurrency + 1,
            max_overflow=0,
            statement_timeout_ms=settings.db_worker_statement_timeout_ms,
        )
    )
    webhooks = WebhookWorker(db, settings)
    loop = asyncio.create_task(webhooks.run(stop))
    try:
        return await main
    finally:
        if not stop.is_set():  # ``main`` ended on its own (or failed): stop delivering too
            loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await webhooks.aclose()
        await db.dispose()


async def embedded_delivery(db: Database, settings: Settings) -> None:
    """The in-process delivery loop of ``showfloor serve`` where the embedded worker runs."""
    worker = WebhookWorker(db, settings)
    try:
        await worker.run()
    finally:
        await worker.aclose()
