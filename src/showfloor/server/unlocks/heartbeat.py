"""Worker heartbeats: each unlock worker (``showfloor worker``, or the embedded worker of ``serve``)
keeps one row in ``worker_heartbeats`` fresh while it runs, and deletes it when it stops cleanly. A
row not refreshed for ``STALE_INTERVALS`` heartbeat intervals belongs to a dead worker.

``/readyz`` uses ``worker_status`` to report unlock items that are pending with no live worker: the
API keeps accepting unlock tasks then, but nothing would ever settle them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.uow import Database
from showfloor.server.models import UnlockTaskItem, WorkerHeartbeat

log = logging.getLogger("showfloor.worker")
STALE_INTERVALS = 3
PENDING_STATUSES = ("pending", "processing")


def _now() -> datetime:
    return datetime.now(UTC)


async def beat(db: Database, worker_id: str, kind: str, started_at: datetime) -> None:
    """Insert or refresh this worker's row (one short write unit)."""
    now = _now()
    async with db.write() as session:
        refreshed = await session.execute(
            update(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id).values(seen_at=now)
        )
        if refreshed.rowcount == 0:  # type: ignore[attr-defined]
            session.add(WorkerHeartbeat(worker_id=worker_id, kind=kind, started_at=started_at, seen_at=now))


async def forget(db: Database, worker_id: str) -> None:
    async with db.write() as session:
        await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id))


async def keep_alive(db: Database, worker_id: str, kind: str, interval: float, stop: asyncio.Event) -> None:
    """Beat every ``interval`` seconds until ``stop`` is set, then remove the row. A failed beat (the
    database is down) is logged and retried at the next interval; the worker itself carries on."""
    started = _now()
    try:
        while not stop.is_set():
            try:
                await beat(db, worker_id, kind, started)
            except Exception:
                log.warning("worker heartbeat failed", extra={"worker_id": worker_id}, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(forget(db, worker_id))


@dataclass(frozen=True)
class WorkerStatus:
    live_workers: int
    items_pending: bool

    @property
    def state(self) -> str:
        """``ok`` (a live worker), ``idle`` (no worker, nothing pending) or ``no_live_worker``."""
        if self.live_workers:
            return "ok"
        return "no_live_worker" if self.items_pending else "idle"

    def to_api(self) -> dict[str, int | str | bool]:
        return {"status": self.state, "liveWorkers": self.live_workers, "itemsPending": self.items_pending}


async def worker_status(session: AsyncSession, interval: float, now: datetime | None = None) -> WorkerStatus:
    fresh_after = (now or _now()) - timedelta(seconds=interval * STALE_INTERVALS)
    live = await session.scalar(
        select(func.count()).select_from(WorkerHeartbeat).where(WorkerHeartbeat.seen_at >= fresh_after)
    )
    # EXISTS, not a count: a readiness probe stays cheap however long the queue is.
    pending = await session.scalar(select(exists().where(UnlockTaskItem.status.in_(PENDING_STATUSES))))
    return WorkerStatus(int(live or 0), bool(pending))
