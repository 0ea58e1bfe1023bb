"""Per-key spend caps (docs/spend-controls.md): credits an API key may spend per UTC day and per UTC
calendar month.

A capped key's spending per period lives in a counter row: debits and holds count when taken, releases of
a hold give back to the periods the hold was taken in. The counter is read and written under the account
lock (lock order: the account row, grants, then the counter row), in the same step as the funds check:
``take`` here for SQLite (the Python twin, called by ``spending.spend``), ``sql/ledger_spend.sql`` on
PostgreSQL; ``give_back`` and ``sql/ledger_settle.sql`` for releases.

Counters exist only while the key has a cap: ``set_caps`` fills the current day's and month's counters
from the ledger (``spent_in_period``), ``clear`` removes them, and ``reconcile`` checks every counter
against the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.locking import for_update
from showfloor.server.errors import InvalidRequest, NotFound, SpendCapExceeded
from showfloor.server.ledger.operations import lock_account_row
from showfloor.server.models import (
    ApiKey,
    ApiKeySpendCap,
    ApiKeySpendCounter,
    CreditHold,
    LedgerOperation,
)

PERIODS = ("day", "month")


def period_start(period: str, at: datetime) -> date:
    """The first day of the UTC day or month ``at`` falls in."""
    day = at.astimezone(UTC).date()
    return day if period == "day" else day.replace(day=1)


def period_end(period: str, start: date) -> date:
    if period == "day":
        return date.fromordinal(start.toordinal() + 1)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True)
class CapUse:
    """One cap of a key and what the key spent in its current period."""

    period: str
    cap: int
    spent: int
    period_start: date

    def refuses(self, amount: int) -> bool:
        return self.spent + amount > self.cap

    def refusal(self, amount: int) -> SpendCapExceeded:
        return SpendCapExceeded(self.cap, self.period, self.spent, amount)


def _limits(caps: ApiKeySpendCap) -> list[tuple[str, int]]:
    pairs = (("day", caps.daily_cap), ("month", caps.monthly_cap))
    return [(period, cap) for period, cap in pairs if cap is not None]


async def _caps_of(session: AsyncSession, api_key_id: int) -> ApiKeySpendCap | None:
    stmt = select(ApiKeySpendCap).where(ApiKeySpendCap.api_key_id == api_key_id)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def _counter(session: AsyncSession, api_key_id: int, period: str, start: date) -> ApiKeySpendCounter:
    """The counter row of one period, created at 0 (a period no spend of the capped key has reached)."""
    stmt = for_update(
        session,
        select(ApiKeySpendCounter).where(
            ApiKeySpendCounter.api_key_id == api_key_id,
            ApiKeySpendCounter.period == period,
            ApiKeySpendCounter.period_start == start,
        ),
    ).execution_options(populate_existing=True)
    row: ApiKeySpendCounter | None = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        row = ApiKeySpendCounter(api_key_id=api_key_id, period=period, period_start=start, spent=0)
        session.add(row)
    return row


async def take(session: AsyncSession, api_key_id: int | None, amount: int, now: datetime) -> list[CapUse]:
    """Count ``amount`` against the key's caps, or raise ``SpendCapExceeded`` (day checked first) and
    count nothing. Returns the caps this spend reached exactly. The caller holds the account lock."""
    if api_key_id is None:
        return []
    caps = await _caps_of(session, api_key_id)
    if caps is None:
        return []
    counted: list[tuple[ApiKeySpendCounter, int]] = []
    for period, cap in _limits(caps):
        counter = await _counter(session, api_key_id, period, period_start(period, now))
        use = CapUse(period, cap, counter.spent, counter.period_start)
        if use.refuses(amount):
            raise use.refusal(amount)
        counted.append((counter, cap))
    reached: list[CapUse] = []
    for counter, cap in counted:
        counter.spent += amount
        if counter.spent == cap:
            reached.append(CapUse(counter.period, cap, counter.spent, counter.period_start))
    return reached


async def give_back(session: AsyncSession, api_key_id: int | None, taken_at: datetime, amount: int) -> None:
    """A release of ``amount`` credits of a hold taken at ``taken_at`` by the key: the periods it was
    counted in get them back (nothing when the key has no counters)."""
    if api_key_id is None or amount <= 0:
        return
    await session.flush()
    await session.execute(
        update(ApiKeySpendCounter)
        .where(ApiKeySpendCounter.api_key_id == api_key_id, _periods_of(taken_at))
        .values(spent=ApiKeySpendCounter.spent - amount)
        .execution_options(synchronize_session=False)
    )


def _periods_of(at: datetime) -> ColumnElement[bool]:
    return or_(
        *(
            and_(
                ApiKeySpendCounter.period == period,
                ApiKeySpendCounter.period_start == period_start(period, at),
            )
            for period in PERIODS
        )
    )


async def uses(session: AsyncSession, api_key_id: int | None, now: datetime) -> list[CapUse]:
    """The key's caps with what it spent in the current periods (no lock: the precheck)."""
    if api_key_id is None:
        return []
    caps = await _caps_of(session, api_key_id)
    if caps is None:
        return []
    found: list[CapUse] = []
    for period, cap in _limits(caps):
        start = period_start(period, now)
        spent = await session.scalar(
            select(ApiKeySpendCounter.spent).where(
                ApiKeySpendCounter.api_key_id == api_key_id,
                ApiKeySpendCounter.period == period,
                ApiKeySpendCounter.period_start == start,
            )
        )
        found.append(CapUse(period, cap, int(spent or 0), start))
    return found


def refusal(caps: list[CapUse], amount: int) -> SpendCapExceeded | None:
    """The first cap (day, then month) ``amount`` would exceed, as the refusal execution raises."""
    for use in caps:
        if use.refuses(amount):
            return use.refusal(amount)
    return None


async def spent_in_period(session: AsyncSession, api_key_id: int, period: str, start: date) -> int:
    """From the ledger: the key's debits and holds taken in the period, minus the releases of those
    holds (a release is attributed like its hold)."""
    begin, end = _at(start), _at(period_end(period, start))
    taken = await session.scalar(
        select(func.coalesce(func.sum(LedgerOperation.amount), 0)).where(
            LedgerOperation.api_key_id == api_key_id,
            LedgerOperation.kind.in_(("debit", "hold")),
            LedgerOperation.created_at >= begin,
            LedgerOperation.created_at < end,
        )
    )
    released = await session.scalar(
        select(func.coalesce(func.sum(LedgerOperation.amount), 0))
        .join(CreditHold, CreditHold.id == LedgerOperation.hold_id)
        .where(
            LedgerOperation.api_key_id == api_key_id,
            LedgerOperation.kind == "release",
            CreditHold.created_at >= begin,
            CreditHold.created_at < end,
        )
    )
    return int(taken or 0) - int(released or 0)


def _new_cap(name: str, given: int | None, current: int | None) -> int | None:
    """``given``: None keeps ``current``, 0 removes the cap, else a positive number of credits."""
    if given is None:
        return current
    if given < 0:
        raise InvalidRequest(f"The {name} cap must be a positive number of credits (0 removes it)")
    return given or None


async def set_caps(
    session: AsyncSession,
    api_key_id: int,
    now: datetime,
    *,
    daily: int | None = None,
    monthly: int | None = None,
    clear: bool = False,
) -> ApiKeySpendCap | None:
    """Change the key's caps (None: keep that period's cap; 0 or ``clear``: remove it); returns the caps
    now in force (None: none). The counters of the current day and month are filled again from the
    ledger, under the account lock, so a cap set mid-period counts what the key already spent in it."""
    key = await session.get(ApiKey, api_key_id)
    if key is None:
        raise NotFound(f"API key {api_key_id} not found")
    await lock_account_row(session, key.account_id)
    caps = await _caps_of(session, api_key_id)
    daily = None if clear else _new_cap("daily", daily, caps.daily_cap if caps else None)
    monthly = None if clear else _new_cap("monthly", monthly, caps.monthly_cap if caps else None)
    await session.execute(delete(ApiKeySpendCounter).where(ApiKeySpendCounter.api_key_id == api_key_id))
    if daily is None and monthly is None:
        if caps is not None:
            await session.delete(caps)
        await session.flush()
        return None
    if caps is None:
        caps = ApiKeySpendCap(api_key_id=api_key_id, updated_at=now)
        session.add(caps)
    caps.daily_cap, caps.monthly_cap, caps.updated_at = daily, monthly, now
    for period, _cap in _limits(caps):
        start = period_start(period, now)
        spent = await spent_in_period(session, api_key_id, period, start)
        session.add(ApiKeySpendCounter(api_key_id=api_key_id, period=period, period_start=start, spent=spent))
    await session.flush()
    return caps


async def caps_by_key(session: AsyncSession, api_key_ids: list[int]) -> dict[int, ApiKeySpendCap]:
    if not api_key_ids:
        return {}
    rows = await session.scalars(select(ApiKeySpendCap).where(ApiKeySpendCap.api_key_id.in_(api_key_ids)))
    return {row.api_key_id: row for row in rows}


async def counter_problems(session: AsyncSession, account_id: int) -> list[str]:
    """Every spend counter of the account's keys that differs from what the ledger says the key spent in
    its period."""
    problems: list[str] = []
    counters = select(ApiKeySpendCounter).join(ApiKey, ApiKey.id == ApiKeySpendCounter.api_key_id)
    for row in (await session.scalars(counters.where(ApiKey.account_id == account_id))).all():
        expected = await spent_in_period(session, row.api_key_id, row.period, row.period_start)
        if row.spent != expected:
            problems.append(
                f"api key {row.api_key_id}: spend counter {row.period} {row.period_start} is {row.spent}, "
                f"the ledger says {expected}"
            )
    return problems
