"""Liveness (process up) and readiness (database reachable)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from showfloor.server.api.deps import DB

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="Database is reachable", responses={503: {"description": "Database unreachable"}}
)
async def readyz(db: DB) -> JSONResponse:
    if await db.ping():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
