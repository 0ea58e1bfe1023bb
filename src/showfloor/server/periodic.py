"""Background work inside ``showfloor serve``: the periodic jobs below, and (on SQLite by default) the
contact-unlock worker. ``showfloor worker`` runs the unlock worker as a process of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.ledger.expiry import sweep_expired
from showfloor.server.notify.jobs import purge_outbox
from showfloor.server.notify.notices import send_expiring_notices
from showfloor.server.paid.idempotency import purge_idempotency_records

log = logging.getLogger("showfloor.jobs")

Job = Callable[[Database, Settings], Awaitable[None]]

# Every periodic job, each run again ``settings.sweep_interval_seconds`` after it ends.
PERIODIC_JOBS: tuple[Job, ...] = (
    sweep_expired,
    purge_idempotency_records,
    send_expiring_notices,
    purge_outbox,
)


class BackgroundJobs:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for job in PERIODIC_JOBS:
            self._tasks.append(asyncio.create_task(self._loop(job)))
        if self.settings.run_embedded_worker:  # unlock work and webhook delivery inside the server
            from showfloor.server.notify.worker import embedded_delivery
            from showfloor.server.unlocks.worker import embedded_worker

            for job in (embedded_worker, embedded_delivery):
                self._tasks.append(asyncio.create_task(self._loop(job, restart_after=1.0)))

    async def _loop(self, job: Job, restart_after: float | None = None) -> None:
        """Run ``job`` again and again; a long-running job (the worker) is restarted if it ever ends."""
        while True:
            try:
                await job(self.db, self.settings)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic job failed", extra={"job": getattr(job, "__name__", str(job))})
            await asyncio.sleep(restart_after or self.settings.sweep_interval_seconds)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
