"""Contact email/phone unlocks: submit a batch (asynchronous task with a credit hold) and poll it.

``POST /external/contacts/unlock`` (15 credits per chargeable contact), ``POST …/unlock-phone`` (150),
``GET …/unlock-tasks/{taskId}``, ``GET …/unlock-phone-tasks/{taskId}``. Submissions honour
``Idempotency-Key`` like every paid POST. See docs/unlocks.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt, StrictStr

from showfloor.server.api.deps import DB, AppSettings, ReadPrincipal, ReadSession
from showfloor.server.api.openapi import error_responses
from showfloor.server.api.paid import PaidContext, run_paid
from showfloor.server.unlocks import service

router = APIRouter(prefix="/external/contacts", tags=["contacts"])


class UnlockRequest(BaseModel):
    # No maxItems here: more than 2000 ids is the reference's 422, not a validation 400.
    personnel_ids: list[StrictStr | StrictInt] = Field(
        description="Personnel ids (numeric strings; numbers accepted), 1-2000, duplicates ignored."
    )
    event_id: Annotated[StrictStr, Field(min_length=1, max_length=100)] | StrictInt | None = Field(
        default=None, description="Optional event `id` or `eventId`; every id must belong to it."
    )


async def _submit(
    kind: str, body: UnlockRequest, paid: PaidContext, db: DB, settings: AppSettings
) -> JSONResponse:
    principal = paid.principal

    async def work(session: Any) -> dict[str, Any]:
        submission = await service.submit(
            session,
            account_id=principal.account_id,
            api_key_id=principal.api_key_id,
            kind=kind,
            personnel_ids=[str(pid) for pid in body.personnel_ids],
            event_ref=None if body.event_id is None else str(body.event_id),
            call_source=paid.call_source,
        )
        return submission.body()

    return await run_paid(paid, db, settings, work)


@router.post(
    "/unlock",
    status_code=201,
    summary="Unlock contact emails (asynchronous task)",
    responses=error_responses(402, 404, 409, 422),
)
async def unlock_emails(
    body: UnlockRequest, paid: PaidContext, db: DB, settings: AppSettings
) -> JSONResponse:
    return await _submit("email", body, paid, db, settings)


@router.post(
    "/unlock-phone",
    status_code=201,
    summary="Unlock contact phone numbers (asynchronous task)",
    responses=error_responses(402, 404, 409, 422),
)
async def unlock_phones(
    body: UnlockRequest, paid: PaidContext, db: DB, settings: AppSettings
) -> JSONResponse:
    return await _submit("phone", body, paid, db, settings)


TaskId = Annotated[str, Path(alias="taskId", description="Task id returned as `task_id` (decimal string).")]


@router.get(
    "/unlock-tasks/{taskId}", summary="Poll a contact email unlock task", responses=error_responses(404)
)
async def email_task(task_id: TaskId, principal: ReadPrincipal, session: ReadSession) -> dict[str, Any]:
    view = await service.task_status(session, principal.account_id, "email", task_id)
    return view.body()


@router.get(
    "/unlock-phone-tasks/{taskId}", summary="Poll a contact phone unlock task", responses=error_responses(404)
)
async def phone_task(task_id: TaskId, principal: ReadPrincipal, session: ReadSession) -> dict[str, Any]:
    view = await service.task_status(session, principal.account_id, "phone", task_id)
    return view.body()
