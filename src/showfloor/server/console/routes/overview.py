"""The Overview page: balance by bucket, expiries, holds in flight, 30 days of spending."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from showfloor.server.console.chart import series_of, stacked_bars
from showfloor.server.console.deps import User
from showfloor.server.console.overview import load_overview
from showfloor.server.console.web import ConsoleRoute, render
from showfloor.server.db.uow import Database

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@router.get("")
async def overview(request: Request, user: User) -> Response:
    db: Database = request.app.state.db
    async with db.read() as session:
        data = await load_overview(session, user.account_id, datetime.now(UTC))
    by_action = series_of((p.day, p.action, p.credits) for p in data.spend)
    by_source = series_of((p.day, p.source, p.credits) for p in data.spend)
    return render(
        request,
        "overview.html",
        {
            "active": "overview",
            "data": data,
            "by_action": by_action,
            "by_source": by_source,
            "action_chart": stacked_bars(
                data.days, by_action, "Credits spent per day by action, last 30 days"
            ),
            "source_chart": stacked_bars(
                data.days, by_source, "Credits spent per day by source, last 30 days"
            ),
            "spent_total": sum(p.credits for p in data.spend),
        },
    )
