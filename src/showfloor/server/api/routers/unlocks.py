"""Event unlocks: ``POST /external/events/{id}/unlock``, ``/visitors/unlock``, ``/full-access/unlock``.

``{id}`` is the event's internal ``id`` or public ``eventId``. Each accepts ``x-call-source`` and an
optional ``Idempotency-Key`` (see ``showfloor.server.api.paid``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from showfloor.server.access import unlock as event_unlock
from showfloor.server.api.deps import DB, AppSettings
from showfloor.server.api.openapi import business_error_response, error_responses
from showfloor.server.api.paid import PaidContext, run_paid

router = APIRouter(prefix="/external/events", tags=["events"])

EventRef = Annotated[str, Path(min_length=1, max_length=100)]
ERRORS = error_responses(402, 404, 409)


@router.post(
    "/{id}/unlock",
    status_code=201,
    summary="Unlock base event access (2,000 credits by default)",
    responses=ERRORS,
)
async def unlock_event(id: EventRef, paid: PaidContext, db: DB, settings: AppSettings) -> JSONResponse:
    return await run_paid(paid, db, settings, lambda s: event_unlock.unlock_event(s, paid.caller, id))


@router.post(
    "/{id}/visitors/unlock",
    status_code=201,
    summary="Unlock the event's visitor layer",
    responses={**ERRORS, **business_error_response()},
)
async def unlock_visitors(id: EventRef, paid: PaidContext, db: DB, settings: AppSettings) -> JSONResponse:
    return await run_paid(paid, db, settings, lambda s: event_unlock.unlock_visitors(s, paid.caller, id))


@router.post(
    "/{id}/full-access/unlock",
    status_code=201,
    summary="Unlock every missing access layer",
    responses={**ERRORS, **business_error_response()},
)
async def unlock_full_access(id: EventRef, paid: PaidContext, db: DB, settings: AppSettings) -> JSONResponse:
    return await run_paid(paid, db, settings, lambda s: event_unlock.unlock_full_access(s, paid.caller, id))
