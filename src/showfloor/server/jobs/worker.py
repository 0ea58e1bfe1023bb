"""The contact-unlock worker: claim items under a lease, call the provider with no transaction open,
settle each item in its own short transaction.

``showfloor worker`` runs one ``UnlockWorker`` per process (several processes share the work on
PostgreSQL); ``showfloor serve`` runs one in-process when ``settings.run_embedded_worker`` (the SQLite
default). A worker that dies leaves leases that expire; another worker then resumes those items, and
per-item settlement is idempotent, so nothing is charged twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from datetime import UTC, datetime, timedelta

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.jobs.claim import ClaimedItem, claim_items, reschedule
from showfloor.server.unlocks.providers import (
    Outcome,
    PermanentProviderError,
    Provider,
    TransientProviderError,
    build_provider,
)
from showfloor.server.unlocks.settlement import ItemOutcome, settle_item

log = logging.getLogger("showfloor.worker")
MAX_BACKOFF_SECONDS = 60.0


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


class UnlockWorker:
    def __init__(
        self,
        db: Database,
        provider: Provider,
        *,
        worker_id: str | None = None,
        concurrency: int = 16,
        lease_seconds: float = 30.0,
        max_attempts: int = 5,
        retry_base_seconds: float = 1.0,
        poll_seconds: float = 0.5,
    ) -> None:
        self.db = db
        self.provider = provider
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.poll_seconds = poll_seconds
        # The provider must answer well inside the lease, or another worker could take the item over.
        self.lookup_timeout = lease_seconds * 0.8
        self.processed = 0

    @classmethod
    def from_settings(
        cls, db: Database, settings: Settings, provider: Provider | None = None
    ) -> UnlockWorker:
        return cls(
            db,
            provider or build_provider(settings),
            concurrency=settings.worker_concurrency,
            lease_seconds=settings.worker_lease_seconds,
            max_attempts=settings.worker_max_attempts,
            retry_base_seconds=settings.worker_retry_base_seconds,
            poll_seconds=settings.worker_poll_seconds,
        )

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> int:
        """Work until ``stop`` is set (or, with ``until_idle``, until nothing is claimable or in flight)."""
        stop = stop or asyncio.Event()
        inflight: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                claimed: list[ClaimedItem] = []
                free = self.concurrency - len(inflight)
                if free > 0:
                    claimed = await self._claim(free)
                    for item in claimed:
                        inflight.add(asyncio.create_task(self._process(item)))
                if not inflight:
                    if until_idle:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.poll_seconds)
                    continue
                # Wait for a slot; when nothing was claimable, also wake up to look again.
                timeout = None if claimed or free <= 0 else self.poll_seconds
                done, inflight = await asyncio.wait(
                    inflight, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    task.result()
        finally:
            for task in inflight:
                task.cancel()
            for task in inflight:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return self.processed

    async def _claim(self, limit: int) -> list[ClaimedItem]:
        try:
            async with self.db.write() as session:
                return await claim_items(session, self.worker_id, limit, self.lease_seconds, _now())
        except Exception:
            log.exception("claiming unlock items failed")
            await asyncio.sleep(self.poll_seconds)
            return []

    async def _process(self, item: ClaimedItem) -> None:
        try:
            outcome = await self._lookup(item)
            if outcome is None:
                return  # rescheduled
            async with self.db.write() as session:
                await settle_item(session, item.item_id, outcome, _now())
            self.processed += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            # Leave the lease to expire: the item is retried later, settlement stays idempotent.
            log.exception("settling unlock item failed", extra={"item_id": item.item_id})

    async def _lookup(self, item: ClaimedItem) -> ItemOutcome | None:
        if item.attempts > self.max_attempts:
            return ItemOutcome(error_code="ATTEMPTS_EXHAUSTED")
        try:
            result = await asyncio.wait_for(self.provider.lookup(item.person), self.lookup_timeout)
        except PermanentProviderError as exc:
            return ItemOutcome(error_code=exc.code)
        except TransientProviderError as exc:
            code = exc.code
        except TimeoutError:
            code = "PROVIDER_TIMEOUT"
        except Exception:
            log.exception("provider raised an unexpected error", extra={"item_id": item.item_id})
            code = "PROVIDER_ERROR"
        else:
            if result.outcome is Outcome.DELIVERED and result.value:
                return ItemOutcome(value=result.value)
            if result.outcome is Outcome.INELIGIBLE:
                return ItemOutcome(error_code="INELIGIBLE")
            return ItemOutcome(error_code="NO_EMAIL" if item.person.kind == "email" else "NO_PHONE")
        if item.attempts >= self.max_attempts:
            return ItemOutcome(error_code=code)
        await self._retry_later(item, code)
        return None

    async def _retry_later(self, item: ClaimedItem, code: str) -> None:
        delay = min(MAX_BACKOFF_SECONDS, self.retry_base_seconds * 2 ** (item.attempts - 1))
        delay *= random.uniform(0.5, 1.0)  # jitter, so retries of a failed burst spread out
        async with self.db.write() as session:
            await reschedule(session, item.item_id, self.worker_id, _now() + timedelta(seconds=delay), code)


def _now() -> datetime:
    return datetime.now(UTC)


async def embedded_worker(db: Database, settings: Settings) -> None:
    """The in-process worker of ``showfloor serve`` (started by BackgroundJobs when enabled)."""
    worker = UnlockWorker.from_settings(db, settings)
    try:
        await worker.run()
    finally:
        await worker.provider.aclose()
