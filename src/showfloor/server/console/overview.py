"""What the Overview page shows: balance by bucket, each grant's expiry, holds in flight, and credits
spent per day (net of refunds) over the last 30 days by action and by call source.

Every figure is a read of the ledger tables; the balance itself comes from ``ledger.balance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.ledger.balance import Balance, GrantBalance, active_grants, get_balance
from showfloor.server.models import CreditHold, LedgerOperation, UnlockTask

CHART_DAYS = 30
SPENDING_KINDS = ("debit", "capture", "refund")


@dataclass(frozen=True)
class HoldInFlight:
    hold_id: int
    created_at: datetime
    outstanding: int
    task_id: int | None
    task_kind: str | None
    items_done: int
    items_total: int


@dataclass(frozen=True)
class DaySpend:
    day: date
    action: str  # the business code's label, e.g. "Event Unlock"
    source: str  # "api" | "agent"
    credits: int


@dataclass(frozen=True)
class Overview:
    balance: Balance
    grants: list[GrantBalance]
    holds: list[HoldInFlight]
    spend: list[DaySpend]
    days: list[date]


async def holds_in_flight(session: AsyncSession, account_id: int, limit: int = 50) -> list[HoldInFlight]:
    task = and_(
        UnlockTask.hold_id == CreditHold.id, UnlockTask.account_id == account_id, UnlockTask.status == "open"
    )
    rows = await session.execute(
        select(
            CreditHold.id,
            CreditHold.created_at,
            CreditHold.amount - CreditHold.captured - CreditHold.released,
            UnlockTask.id,
            UnlockTask.kind,
            UnlockTask.item_count - UnlockTask.items_left,
            UnlockTask.item_count,
        )
        .outerjoin(UnlockTask, task)
        .where(CreditHold.account_id == account_id, CreditHold.state == "open")
        .order_by(CreditHold.id.desc())
        .limit(limit)
    )
    return [
        HoldInFlight(int(h), at, int(out), t, kind, int(done or 0), int(total or 0))
        for h, at, out, t, kind, done, total in rows
    ]


def _utc_day(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", LedgerOperation.created_at), Date)
    return func.date(LedgerOperation.created_at)  # SQLite keeps UTC text


async def spend_by_day(session: AsyncSession, account_id: int, today: date) -> list[DaySpend]:
    """Net credits spent per UTC day since ``today - 29``, per action label and call source."""
    since = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=CHART_DAYS - 1)
    day = _utc_day(session)
    signed = case((LedgerOperation.kind == "refund", -LedgerOperation.amount), else_=LedgerOperation.amount)
    rows = await session.execute(
        select(day, LedgerOperation.business_code, LedgerOperation.call_source, func.sum(signed))
        .where(
            LedgerOperation.account_id == account_id,
            LedgerOperation.created_at >= since,
            LedgerOperation.kind.in_(SPENDING_KINDS),
        )
        .group_by(day, LedgerOperation.business_code, LedgerOperation.call_source)
    )
    out: list[DaySpend] = []
    for raw_day, code, source, credits in rows:
        when = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day))
        action = (code or "Other").split(" - ")[0]
        out.append(DaySpend(when, action, "agent" if source == "agent" else "api", int(credits or 0)))
    return out


def chart_days(today: date) -> list[date]:
    return [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]


async def load_overview(session: AsyncSession, account_id: int, now: datetime) -> Overview:
    today = now.date()
    return Overview(
        balance=await get_balance(session, account_id, now),
        grants=sorted(
            await active_grants(session, account_id, now),
            key=lambda g: (g.expires_at is None, g.expires_at or now),
        ),
        holds=await holds_in_flight(session, account_id),
        spend=await spend_by_day(session, account_id, today),
        days=chart_days(today),
    )
