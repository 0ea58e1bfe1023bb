"""Periodic work that runs inside ``showfloor serve``: the expiry sweep, and on SQLite the task worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database

log = logging.getLogger("showfloor.jobs")

Job = Callable[[Database, Settings], Awaitable[None]]

# Filled by the modules that own periodic work (ledger expiry sweep, unlock workers).
PERIODIC_JOBS: list[Job] = []


class BackgroundJobs:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for job in PERIODIC_JOBS:
            self._tasks.append(asyncio.create_task(self._loop(job)))
        if self.settings.run_embedded_worker:
            # Imported here: the worker pulls in the unlock services, which the app imports later.
            from showfloor.server.jobs.worker import embedded_worker

            self._tasks.append(asyncio.create_task(self._loop(embedded_worker, restart_after=1.0)))

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
