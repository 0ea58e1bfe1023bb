"""``create_app(settings)``: the ASGI application. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from showfloor import __version__
from showfloor.server.accounts.key_use import KeyUse
from showfloor.server.agents.mcp_http import install_mcp, mcp_sessions
from showfloor.server.api.errors import install_error_handlers
from showfloor.server.api.middleware import RequestContextMiddleware
from showfloor.server.api.openapi import install_openapi
from showfloor.server.api.query_params import reject_repeated_scalars
from showfloor.server.api.ratelimit import RateLimiter
from showfloor.server.api.routers import ROUTERS
from showfloor.server.config import Settings
from showfloor.server.console import install_console
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.notify import metrics as _notify_metrics  # noqa: F401  (registers the webhook gauges)
from showfloor.server.periodic import BackgroundJobs


def create_app(settings: Settings | None = None, *, run_background_jobs: bool = True) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        app.state.db = Database(engine)
        app.state.rate_limiter = RateLimiter(settings) if settings.rate_limit_enabled else None
        jobs = BackgroundJobs(app.state.db, settings) if run_background_jobs else None
        if jobs is not None:
            await jobs.start()
        key_use_flusher = asyncio.create_task(app.state.key_use.run(app.state.db))
        try:
            async with mcp_sessions(app):
                yield
        finally:
            key_use_flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await key_use_flusher
            with contextlib.suppress(Exception):
                await app.state.key_use.flush(app.state.db)
            if jobs is not None:
                await jobs.stop()
            await app.state.db.dispose()

    app = FastAPI(
        title="Showfloor API",
        version=__version__,
        description="Event-intelligence API with credit-metered access, compatible with Lensmor.",
        lifespan=lifespan,
        dependencies=[Depends(reject_repeated_scalars)],
    )
    app.state.settings = settings
    app.state.key_use = KeyUse()
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_console(app)
    install_mcp(app)
    app.add_middleware(RequestContextMiddleware)
    install_openapi(app)
    return app
