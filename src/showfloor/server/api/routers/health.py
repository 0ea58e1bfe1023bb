"""Liveness (process up) and readiness (database reachable; Redis trouble is reported, never fatal)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from showfloor.server.api.deps import DB
from showfloor.server.api.ratelimit import RateLimiter

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="Database is reachable", responses={503: {"description": "Database unreachable"}}
)
async def readyz(db: DB, request: Request) -> JSONResponse:
    # A degraded Redis leaves the process serving (rate limits counted per process): 200, said in the body.
    limiter: RateLimiter | None = request.app.state.rate_limiter
    status = await limiter.redis_status() if limiter is not None else None
    redis: dict[str, Any] = {"redis": status} if status is not None else {}
    if await db.ping():
        return JSONResponse({"status": "ready", **redis})
    return JSONResponse({"status": "unavailable", "database": "unreachable", **redis}, status_code=503)
