"""Liveness (process up) and readiness (database reachable; Redis trouble is reported, never fatal)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from showfloor.server.api.deps import DB, AppSettings
from showfloor.server.api.ratelimit import RateLimiter
from showfloor.server.unlocks.heartbeat import worker_status

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="Database is reachable", responses={503: {"description": "Database unreachable"}}
)
async def readyz(db: DB, settings: AppSettings, request: Request) -> JSONResponse:
    """200 while the database answers. ``redis``: a degraded Redis leaves the process serving (rate limits
    counted per process). ``unlockWorkers`` tells whether unlock items are pending with no live worker
    (``status: "no_live_worker"``): readiness of this API process is unaffected, so it stays 200, but an
    operator should start ``showfloor worker`` (docs/operations.md)."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    status = await limiter.redis_status() if limiter is not None else None
    redis: dict[str, Any] = {"redis": status} if status is not None else {}
    if not await db.ping():
        return JSONResponse({"status": "unavailable", "database": "unreachable", **redis}, status_code=503)
    try:
        async with db.read() as session:
            workers = (await worker_status(session, settings.worker_heartbeat_seconds)).to_api()
    except SQLAlchemyError:  # e.g. an older schema: readiness is about the database answering
        workers = {"status": "unknown"}
    return JSONResponse({"status": "ready", **redis, "unlockWorkers": workers})
