"""Activity: one row per operation as a person understands it (``ledger.activity.list_activity``, the
same rows as ``GET /external/credits/activity``), filtered by date, action, key and source, as a CSV
download, and the raw ledger one click away: each row's operations and entries, and every entry
(``ledger.history.list_entries``, the rows of ``/external/credits/transactions``)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from showfloor.server.accounts import service as accounts
from showfloor.server.catalog.filters import parse_day
from showfloor.server.console.deps import User
from showfloor.server.console.formatting import spreadsheet_safe
from showfloor.server.console.ledger import operations_of
from showfloor.server.console.web import ConsoleRoute, render
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError, InvalidRequest, NotFound
from showfloor.server.ledger.activity import ACTIONS, SOURCES, ActivityRow, list_activity
from showfloor.server.ledger.history import list_entries

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE = 50
CSV_CHUNK = 1000  # rows per list_activity call while streaming the CSV
Text = Annotated[str, Query(max_length=40)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
OperationId = Annotated[int, Path(ge=1, le=2**63 - 1)]
CSV_COLUMNS = [
    "operation_id",
    "occurred_at",
    "type",
    "action",
    "description",
    "credits",
    "balance_change",
    "call_source",
    "api_key_prefix",
    "task_id",
    "event_id",
    "delivered",
    "unit_credits",
]


@dataclass(frozen=True)
class Filters:
    """The page's filters as typed (``date_to`` is a whole UTC day, inclusive)."""

    date_from: str = ""
    date_to: str = ""
    action: str = ""
    key: str = ""
    source: str = ""

    def query(self) -> str:
        return urlencode({k: v for k, v in vars(self).items() if v})

    def arguments(self) -> dict[str, Any]:
        """``list_activity``'s keyword arguments; a bad value is InvalidRequest, as on the API."""
        start, end = parse_day(self.date_from, "From"), parse_day(self.date_to, "To")
        if self.action and self.action not in ACTIONS:
            raise InvalidRequest(f"Unknown action {self.action!r}")
        if self.source and self.source not in SOURCES:
            raise InvalidRequest(f"Unknown source {self.source!r}")
        return {
            "since": _midnight(start),
            "until": _midnight(end + timedelta(days=1)) if end else None,
            "action": self.action or None,
            "source": self.source or None,
            "api_key_prefix": self.key or None,
        }


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), UTC)


def _filters(date_from: str, date_to: str, action: str, key: str, source: str) -> Filters:
    return Filters(date_from.strip(), date_to.strip(), action.strip(), key.strip(), source.strip())


@router.get("/activity")
async def activity_page(
    request: Request,
    user: User,
    date_from: Text = "",
    date_to: Text = "",
    action: Text = "",
    key: Text = "",
    source: Text = "",
    page: Page = 1,
) -> Response:
    filters = _filters(date_from, date_to, action, key, source)
    db: Database = request.app.state.db
    rows: list[ActivityRow] = []
    total, error, status = 0, None, 200
    async with db.read() as session:
        keys = await accounts.list_keys(session, user.account_id)
        try:
            rows, total = await list_activity(
                session, user.account_id, **filters.arguments(), page=page, page_size=PAGE_SIZE
            )
        except DomainError as exc:  # shown beside the filters as typed
            error, status = exc.message, 400
    context = {
        "active": "activity",
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "filters": filters,
        "query": filters.query(),
        "actions": ACTIONS,
        "sources": SOURCES,
        "key_prefixes": [k.prefix for k in keys],
        "error": error,
    }
    return render(request, "activity.html", context, status)


def _csv_row(row: ActivityRow) -> list[object]:
    return [
        row.operation_id,
        row.occurred_at.isoformat(),
        row.type,
        row.action,
        spreadsheet_safe(row.description),  # it may begin with an operator's business code
        row.credits,
        row.balance_change,
        spreadsheet_safe(row.call_source),
        spreadsheet_safe(row.api_key_prefix),
        row.task_id or "",
        row.event_id or "",
        "" if row.delivered is None else row.delivered,
        "" if row.unit_credits is None else row.unit_credits,
    ]


@router.get("/activity.csv")
async def activity_csv(
    request: Request,
    user: User,
    date_from: Text = "",
    date_to: Text = "",
    action: Text = "",
    key: Text = "",
    source: Text = "",
) -> Response:
    """Every row matching the filters, newest first, read ``CSV_CHUNK`` rows per query."""
    arguments = _filters(date_from, date_to, action, key, source).arguments()  # refused before streaming
    db: Database = request.app.state.db

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        page = 1
        while True:
            async with db.read() as session:
                rows, total = await list_activity(
                    session, user.account_id, **arguments, page=page, page_size=CSV_CHUNK
                )
            writer.writerows(_csv_row(row) for row in rows)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if page * CSV_CHUNK >= total or not rows:
                break
            page += 1

    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="activity-{user.account_id}-{stamp}.csv"'},
    )


@router.get("/activity/{operation_id}")
async def activity_ledger(request: Request, user: User, operation_id: OperationId) -> Response:
    """The raw ledger of one activity row: its operations and the entries each wrote."""
    db: Database = request.app.state.db
    async with db.read() as session:
        raw = await operations_of(session, user.account_id, operation_id)
    if not raw:
        raise NotFound(f"Ledger operation not found: {operation_id}")
    return render(request, "activity_ledger.html", {"active": "activity", "raw": raw, "head": operation_id})


@router.get("/ledger")
async def ledger_page(request: Request, user: User, page: Page = 1) -> Response:
    """Every ledger entry of the account, newest first (the rows of ``/external/credits/transactions``)."""
    db: Database = request.app.state.db
    async with db.read() as session:
        entries, total = await list_entries(session, user.account_id, page=page, page_size=PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    context = {"active": "activity", "entries": entries, "total": total, "page": page, "pages": pages}
    return render(request, "ledger.html", context)
