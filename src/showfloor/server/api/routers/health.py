"""Liveness (process up) and readiness (database reachable)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from showfloor.server.api.deps import DB, AppSettings
from showfloor.server.unlocks.heartbeat import worker_status

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="Database is reachable", responses={503: {"description": "Database unreachable"}}
)
async def readyz(db: DB, settings: AppSettings) -> JSONResponse:
    """200 while the database answers. ``unlockWorkers`` tells whether unlock items are pending with no
    live worker (``status: "no_live_worker"``): readiness of this API process is unaffected, so it
    stays 200, but an operator should start ``showfloor worker`` (docs/operations.md)."""
    if not await db.ping():
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    try:
        async with db.read() as session:
            workers = (await worker_status(session, settings.worker_heartbeat_seconds)).to_api()
    except Exception:  # e.g. an older schema: readiness is about the database answering
        workers = {"status": "unknown"}
    return JSONResponse({"status": "ready", "unlockWorkers": workers})
