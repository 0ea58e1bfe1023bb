"""The contact-unlock worker: claim items under a lease (one query claims up to the free slots), call
the provider with no transaction open (up to ``concurrency`` calls at once), settle in short transactions.

Settlement in groups: a provider slot is freed as soon as the answer is in hand, and the answer waits
for its group. A task's answers settle together in one transaction (``settlement.settle``) once
``settle_group`` of them are ready (``SHOWFLOOR_WORKER_SETTLE_GROUP``, default 32) or the oldest has
waited ``settle_wait`` (``SHOWFLOOR_WORKER_SETTLE_WAIT_MS``, default 50 ms), whichever comes first; the
tasks settle side by side, each task's groups one after the other (they all lock the task's hold and task
row). Each item keeps its own guard and operation keys, so a group that fails is settled again item by
item, and a crash before a group commits leaves its items to their leases (docs/unlocks.md).

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
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.unlocks.answers import INVALID_RESULT, invalid_answer
from showfloor.server.unlocks.claim import ClaimedItem, claim, reschedule
from showfloor.server.unlocks.providers import (
    Outcome,
    PermanentProviderError,
    Provider,
    TransientProviderError,
    build_provider,
)
from showfloor.server.unlocks.settlement import ItemOutcome, settle

log = logging.getLogger("showfloor.worker")
MAX_BACKOFF_SECONDS = 60.0
Ready = tuple[ClaimedItem, ItemOutcome]


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
        settle_group: int = 32,
        settle_wait_seconds: float = 0.05,
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
        self.settle_group = max(1, settle_group)
        self.settle_wait = settle_wait_seconds
        self._ready: dict[int, list[Ready]] = defaultdict(list)  # task id -> answers waiting, oldest first
        self._since: dict[int, float] = {}  # task id -> when its oldest waiting answer arrived (loop time)
        self._arrived = asyncio.Event()
        self._flush = False  # stopping: settle what is waiting without waiting for full groups
        self._settler: asyncio.Task[None] | None = None
        self._settling = 0  # items the settler is working through

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
            settle_group=settings.worker_settle_group,
            settle_wait_seconds=settings.worker_settle_wait_ms / 1000,
        )

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> int:
        """Work until ``stop`` is set (or, with ``until_idle``, until nothing is claimable, in flight or
        waiting to be settled)."""
        stop = stop or asyncio.Event()
        inflight: set[asyncio.Task[None]] = set()
        # Watched beside the provider calls: a stop must not wait for the slowest call in flight.
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                claimed: list[ClaimedItem] = []
                # Provider slots; answers waiting for settlement count too beyond two groups' worth (one
                # settling, one filling), so a slow database slows claiming instead of piling up leases.
                free = min(
                    self.concurrency - len(inflight),
                    self.concurrency + 2 * self.settle_group - len(inflight) - self._unsettled(),
                )
                if free > 0:
                    claimed = await self._claim(free)
                    for item in claimed:
                        inflight.add(asyncio.create_task(self._process(item)))
                waiting = set(inflight)
                if self._settler is not None and not self._settler.done():
                    waiting.add(self._settler)
                if not waiting:
                    if until_idle:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.poll_seconds)
                    continue
                # Wait for a slot; when nothing was claimable (or settling holds us back), look again soon.
                timeout = None if claimed and free > 0 else self.poll_seconds
                if free <= 0 and not inflight:
                    timeout = 0.01
                done, _ = await asyncio.wait(
                    waiting | {stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done - {stopping}:
                    inflight.discard(task)
                    task.result()
            for task in inflight:  # stopping: calls in flight are abandoned (their leases expire) …
                task.cancel()
            if self._settler is not None:  # … but answers already in hand are settled, not thrown away
                self._flush = True
                self._arrived.set()
                await self._settler
        finally:
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopping
            for task in inflight:
                task.cancel()
            for task in inflight:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self._settler is not None:
                self._settler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._settler
        return self.processed

    async def _claim(self, limit: int) -> list[ClaimedItem]:
        try:
            return await claim(self.db, self.worker_id, limit, self.lease_seconds, _now())
        except Exception:
            log.exception("claiming unlock items failed")
            await asyncio.sleep(self.poll_seconds)
            return []

    async def _process(self, item: ClaimedItem) -> None:
        try:
            outcome = await self._lookup(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Leave the lease to expire: the item is retried later, settlement stays idempotent.
            log.exception("looking up unlock item failed", extra={"item_id": item.item_id})
            return
        if outcome is not None:  # None: rescheduled
            self._enqueue(item, outcome)  # the slot is free for the next provider call

    def _unsettled(self) -> int:
        return sum(len(ready) for ready in self._ready.values()) + self._settling

    def _enqueue(self, item: ClaimedItem, outcome: ItemOutcome) -> None:
        waiting = self._ready[item.task_id]
        if not waiting:
            self._since[item.task_id] = asyncio.get_running_loop().time()
        waiting.append((item, outcome))
        log.debug("answer waiting for settlement", extra={"item_id": item.item_id, "task_id": item.task_id})
        self._arrived.set()
        if self._settler is None or self._settler.done():
            self._settler = asyncio.create_task(self._settle_ready())

    def _take_due(self) -> dict[int, list[Ready]]:
        """The answers to settle now: full groups, and every answer of a task whose oldest has waited
        ``settle_wait`` (or all of them when stopping)."""
        now = asyncio.get_running_loop().time()
        due: dict[int, list[Ready]] = {}
        for task_id, ready in list(self._ready.items()):
            if self._flush or now - self._since[task_id] >= self.settle_wait:
                due[task_id], rest = ready, []
            elif len(ready) >= self.settle_group:
                full = len(ready) - len(ready) % self.settle_group
                due[task_id], rest = ready[:full], ready[full:]
            else:
                continue
            if rest:
                self._ready[task_id], self._since[task_id] = rest, now  # the rest starts a new wait
            else:
                del self._ready[task_id], self._since[task_id]
        return due

    async def _settle_ready(self) -> None:
        """Settle answers as their groups come due, until none is waiting (the next answer restarts it):
        the tasks side by side, each task's groups one after the other. Every settlement of a task locks
        the task's one hold and task row, so more of them at once would only queue on those rows."""
        while self._ready:
            due = self._take_due()
            if not due:
                oldest = min(self._since.values())
                timeout = max(0.0, oldest + self.settle_wait - asyncio.get_running_loop().time())
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), timeout)
                continue
            self._settling = sum(len(ready) for ready in due.values())
            await asyncio.gather(*(self._settle_task(due[task_id]) for task_id in sorted(due)))
            self._settling = 0

    async def _settle_task(self, ready: list[Ready]) -> None:
        for start in range(0, len(ready), self.settle_group):
            await self._settle_group(ready[start : start + self.settle_group])

    async def _settle_group(self, group: list[Ready]) -> None:
        try:
            settled = await settle(self.db, [(item.item_id, outcome) for item, outcome in group], _now())
        except asyncio.CancelledError:
            raise
        except Exception:
            if len(group) == 1:
                # Leave the lease to expire: the item is retried later, settlement stays idempotent.
                log.exception("settling unlock item failed", extra={"item_id": group[0][0].item_id})
                return
            # One bad item must not hold back the others: settle them one by one.
            log.warning("settling a group failed; settling its items one by one", exc_info=True)
            for entry in group:
                await self._settle_group([entry])
            return
        self.processed += len(group)
        if settled.finished is not None:
            log.info("unlock task finished", extra=settled.finished.log_fields())

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
                problem = invalid_answer(item.person.kind, result.value)
                if problem is None:
                    return ItemOutcome(value=result.value)
                # Not retried: the provider answered, and would answer the same. Never logs the value.
                log.warning(
                    "provider answer does not fit; item fails with INVALID_RESULT",
                    extra={"item_id": item.item_id, "provider": self.provider.name, "problem": problem},
                )
                return ItemOutcome(error_code=INVALID_RESULT)
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
    from showfloor.server.unlocks.heartbeat import keep_alive

    worker = UnlockWorker.from_settings(db, settings)
    stop = asyncio.Event()
    interval = settings.worker_heartbeat_seconds
    heartbeat = asyncio.create_task(keep_alive(db, worker.worker_id, "embedded", interval, stop))
    try:
        await worker.run()
    finally:
        stop.set()
        await heartbeat
        await worker.provider.aclose()
