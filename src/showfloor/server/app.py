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
from showfloor.server.api.metrics_listener import MetricsListenerOnly
from showfloor.server.api.middleware import RequestContextMiddleware
from showfloor.server.api.openapi import install_openapi
from showfloor.server.api.proxies import TrustedProxies, parse_networks
from showfloor.server.api.query_params import index_scalar_query_params, reject_repeated_scalars
from showfloor.server.api.ratelimit import RateLimiter
from showfloor.server.api.request_guard import RequestGuardMiddleware
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
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )
        app.state.db = Database(engine)
        index_scalar_query_params(app)
        app.state.rate_limiter = RateLimiter(settings) if settings.rate_limit_enabled else None
        jobs_db = _jobs_database(app.state.db, settings) if run_background_jobs else None
        jobs = BackgroundJobs(jobs_db, settings) if jobs_db is not None else None
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
            if jobs_db is not None and jobs_db is not app.state.db:
                await jobs_db.dispose()
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
    # Inside the request context (its request id is the error bodies' traceId), before any routing.
    app.add_middleware(RequestGuardMiddleware, max_body_bytes=settings.max_request_body_bytes)
    if settings.metrics_port is not None:  # inside the request context (ids, logs)
        app.add_middleware(MetricsListenerOnly, metrics_port=settings.metrics_port)
    app.add_middleware(RequestContextMiddleware)
    if settings.trusted_proxies:  # outermost: the request log and everything inside see the real client
        app.add_middleware(TrustedProxies, networks=parse_networks(settings.trusted_proxies))
    install_openapi(app)
    return app


def _jobs_database(api_db: Database, settings: Settings) -> Database:
    """The periodic jobs (and an embedded worker) run with the workers' statement timeout, not the API's:
    on PostgreSQL they get a pool of their own (connections open lazily). SQLite has no statement timeout."""
    if api_db.is_sqlite:
        return api_db
    return Database(
        make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            statement_timeout_ms=settings.db_worker_statement_timeout_ms,
        )
    )
