"""``showfloor worker``: one worker process, stopped cleanly by SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from showfloor.server.config import Settings
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.logging import configure_logging
from showfloor.server.metrics import serve_in_thread
from showfloor.server.notify.worker import run_beside
from showfloor.server.unlocks.heartbeat import keep_alive
from showfloor.server.unlocks.worker import UnlockWorker

log = logging.getLogger("showfloor.worker")


def run_worker(
    *,
    concurrency: int | None,
    provider: str | None,
    lease_seconds: float | None,
    metrics: tuple[str, int] | None = None,
) -> None:
    overrides: dict[str, Any] = {}
    if concurrency is not None:
        overrides["worker_concurrency"] = concurrency
    if provider is not None:
        overrides["unlock_provider"] = provider
    if lease_seconds is not None:
        overrides["worker_lease_seconds"] = lease_seconds
    settings = Settings(**overrides)  # fails fast on a bad option or environment
    configure_logging(settings.log_level, settings.log_format)
    if metrics is not None:
        serve_in_thread(*metrics)
    asyncio.run(_main(settings))


async def _main(settings: Settings) -> None:
    # Every in-flight item may hold a connection while it settles, plus one for claiming.
    pool = settings.worker_concurrency + 2
    db = Database(
        make_engine(
            settings.database_url,
            pool_size=pool,
            max_overflow=0,
            statement_timeout_ms=settings.db_worker_statement_timeout_ms,
        )
    )
    worker = UnlockWorker.from_settings(db, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker started",
        extra={
            "worker_id": worker.worker_id,
            "provider": worker.provider.name,
            "concurrency": worker.concurrency,
        },
    )
    interval = settings.worker_heartbeat_seconds
    heartbeat = asyncio.create_task(keep_alive(db, worker.worker_id, "process", interval, stop))
    try:
        await run_beside(worker.run(stop), settings, stop)  # webhook delivery runs beside the unlock worker
    finally:
        stop.set()
        await heartbeat
        await worker.provider.aclose()
        await db.dispose()
        log.info("worker stopped", extra={"worker_id": worker.worker_id, "settled": worker.processed})
