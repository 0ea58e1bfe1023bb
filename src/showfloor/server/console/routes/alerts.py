"""Balance alerts: the account's thresholds (in credits) and the state of each, set through
``ledger.alerts.set_thresholds``, the service of ``PUT /external/credits/alerts`` and ``showfloor admin
alerts`` (the rules, e.g. how many and how large, live there). Crossings are told by webhook
(docs/spend-controls.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from showfloor.server.console.deps import CheckedUser, User
from showfloor.server.console.web import ConsoleRoute, read_form, redirect, render
from showfloor.server.db.uow import Database
from showfloor.server.errors import InvalidRequest
from showfloor.server.ledger import alerts

router = APIRouter(prefix="/console/alerts", route_class=ConsoleRoute, include_in_schema=False)

NOTICES = {"saved": "The balance alerts are saved. Each starts in the state the balance is in now."}
MAX_FIELD = 1000


def parse_thresholds(text: str) -> list[int]:
    """Credits separated by commas, spaces or new lines ("5000, 1000"); thousands may be written 5_000."""
    if len(text) > MAX_FIELD:
        raise InvalidRequest("The list of thresholds is too long.")
    words = [w for w in re.split(r"[,;\s]+", text.replace("_", "")) if w]
    if not all(w.isdigit() and len(w) <= 13 for w in words):
        raise InvalidRequest("Write each threshold as a whole number of credits, separated by commas.")
    return [int(w) for w in words]


@router.get("")
async def alerts_page(
    request: Request, user: User, notice: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    db: Database = request.app.state.db
    async with db.read() as session:
        body = alerts.alerts_body(await alerts.list_alerts(session, user.account_id))
    context = {
        "active": "alerts",
        "body": body,
        "notice": NOTICES.get(notice),
        "limit": alerts.MAX_THRESHOLDS,
    }
    return render(request, "alerts.html", context)


@router.post("")
async def set_alerts(request: Request, user: CheckedUser) -> Response:
    thresholds = parse_thresholds((await read_form(request)).get("thresholds"))
    db: Database = request.app.state.db
    async with db.write() as session:
        await alerts.set_thresholds(session, user.account_id, thresholds, datetime.now(UTC))
    return redirect(request, "/console/alerts?notice=saved")
