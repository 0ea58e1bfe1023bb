"""Contacts: the people whose email or phone the account unlocked (and a CSV of them), starting an
email or phone unlock for selected people (quote from the API's precheck -> confirm -> the API's
submission), and unlock tasks with live progress (htmx polls a fragment until the task is done)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.api.paid import Work
from showfloor.server.catalog.identifiers import parse_numeric_id
from showfloor.server.config import Settings
from showfloor.server.console import contacts
from showfloor.server.console.deps import CheckedUser, User
from showfloor.server.console.formatting import spreadsheet_safe
from showfloor.server.console.paid import CONSOLE_CALL_SOURCE, new_idempotency_key, run_console_paid
from showfloor.server.console.sessions import SignedIn
from showfloor.server.console.web import ConsoleRoute, read_form, redirect, render
from showfloor.server.db.uow import Database
from showfloor.server.errors import InvalidRequest, NotFound
from showfloor.server.paid.decision import Caller
from showfloor.server.paid.errors import MAX_SELECTION
from showfloor.server.paid.precheck import precheck
from showfloor.server.unlocks import service as unlocks

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE = 50
Kind = Literal["email", "phone"]
ACTION = {"email": "unlock_contact_emails", "phone": "unlock_contact_phones"}
API_PATH = {"email": "/external/contacts/unlock", "phone": "/external/contacts/unlock-phone"}
TaskId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NOTICES = {"nothing": "Nothing to unlock: every selected person is already unlocked or being unlocked."}


@router.get("/contacts")
async def contacts_page(
    request: Request,
    user: User,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    db: Database = request.app.state.db
    async with db.read() as session:
        rows, total = await contacts.unlocked_page(session, user.account_id, page, PAGE_SIZE)
        tasks = await contacts.recent_tasks(session, user.account_id, limit=5)
    return render(
        request,
        "contacts.html",
        {
            "active": "contacts",
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / PAGE_SIZE)),
            "tasks": tasks,
            "notice": NOTICES.get(notice),
        },
    )


@router.get("/contacts.csv")
async def contacts_csv(request: Request, user: User) -> Response:
    db: Database = request.app.state.db
    columns = ["personnel_id", "name", "title", "company", "email", "phone", "unlocked_at"]

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        async for chunk in contacts.all_unlocked(db, user.account_id):
            for c in chunk:
                cells = [c.person.name, c.person.title, c.person.company, c.email, c.phone]
                writer.writerow([c.person.id, *map(spreadsheet_safe, cells), c.unlocked_at.isoformat()])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.getvalue():
            yield buffer.getvalue()

    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="contacts-{user.account_id}-{stamp}.csv"'},
    )


def _selection(form_ids: list[str]) -> list[str]:
    ids = list(dict.fromkeys(i.strip() for i in form_ids if i.strip()))
    if not ids:
        raise InvalidRequest("Select at least one person.")
    return ids


def _kind(value: str) -> Kind:
    if value == "email":
        return "email"
    if value == "phone":
        return "phone"
    raise InvalidRequest("Choose an email or a phone unlock.")


async def _quote_page(
    request: Request,
    user: SignedIn,
    kind: Kind,
    ids: list[str],
    event_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    params: dict[str, Any] = {"personnel_ids": ids, **({"event_id": event_id} if event_id else {})}
    async with db.read() as session:
        quote = await precheck(
            session, user.account_id, ACTION[kind], params, CONSOLE_CALL_SOURCE, settings.preview_limit
        )
        pks = [pk for pk in (parse_numeric_id(i) for i in ids[:50]) if pk is not None]
        names = await contacts.people(session, pks)
    return render(
        request,
        "contacts_quote.html",
        {
            "active": "contacts",
            "kind": kind,
            "ids": ids,
            "event_id": event_id,
            "quote": quote,
            "names": [names[pk] for pk in pks if pk in names],
            "idempotency_key": new_idempotency_key(),
            "error": error,
            "max_ids": MAX_SELECTION,
        },
        status,
    )


@router.post("/contacts/quote")
async def quote(request: Request, user: CheckedUser) -> Response:
    form = await read_form(request)
    return await _quote_page(
        request, user, _kind(form.get("kind")), _selection(form.all("personnel_ids")), form.get("event_id")
    )


@router.post("/contacts/unlock")
async def unlock(request: Request, user: CheckedUser) -> Response:
    form = await read_form(request)
    kind, ids, event_id = _kind(form.get("kind")), _selection(form.all("personnel_ids")), form.get("event_id")
    body = {"personnel_ids": ids, "event_id": event_id or None}

    def work_for(caller: Caller) -> Work:
        async def work(session: AsyncSession) -> dict[str, Any]:
            submission = await unlocks.submit(
                session,
                account_id=caller.account_id,
                api_key_id=caller.api_key_id,
                kind=kind,
                personnel_ids=ids,
                event_ref=event_id or None,
                call_source=caller.call_source,
            )
            return submission.body()

        return work

    outcome = await run_console_paid(
        request,
        user,
        api_path=API_PATH[kind],
        body=body,
        idempotency_key=form.get("idempotency_key"),
        work_for=work_for,
    )
    if outcome.ok:
        task_id = outcome.body.get("task_id")
        return redirect(
            request, f"/console/tasks/{kind}/{task_id}" if task_id else "/console/contacts?notice=nothing"
        )
    if outcome.error_code == "IDEMPOTENCY_KEY_IN_USE":
        return redirect(request, "/console/tasks")
    status = outcome.status if outcome.status >= 400 else 400
    return await _quote_page(request, user, kind, ids, event_id, error=outcome.message, status=status)


@router.get("/tasks")
async def tasks_page(request: Request, user: User) -> Response:
    db: Database = request.app.state.db
    async with db.read() as session:
        tasks = await contacts.recent_tasks(session, user.account_id)
    return render(request, "tasks.html", {"active": "contacts", "tasks": tasks})


async def _task_context(request: Request, user: SignedIn, kind: Kind, task_id: int) -> dict[str, Any]:
    db: Database = request.app.state.db
    async with db.read() as session:
        summary = await contacts.task_summary(session, user.account_id, task_id)
        if summary is None or summary.kind != kind:
            raise NotFound(f"Unlock task not found: {task_id}")
        view = await unlocks.task_status(session, user.account_id, kind, str(task_id))
        names = await contacts.people(session, [item.personnel_id for item in view.items])
    counts: dict[str, int] = {}
    for item in view.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return {"active": "contacts", "task": summary, "view": view, "names": names, "counts": counts}


@router.get("/tasks/{kind}/{task_id}")
async def task_page(request: Request, user: User, kind: Kind, task_id: TaskId) -> Response:
    return render(request, "task.html", await _task_context(request, user, kind, task_id))


@router.get("/tasks/{kind}/{task_id}/progress")
async def task_progress(request: Request, user: User, kind: Kind, task_id: TaskId) -> Response:
    """The progress fragment htmx polls; once the task is done it comes back without the poll."""
    return render(request, "task_progress.html", await _task_context(request, user, kind, task_id))
