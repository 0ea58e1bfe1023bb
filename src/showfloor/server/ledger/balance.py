"""Balance as ``LEDGER.md`` defines it: active grants' remaining credits minus what open holds took.

A grant is active when it is not voided and not past ``expires_at`` at the moment of reading (expiry
is exact at read time, whether or not the sweep has run).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Subquery, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.base import UtcDateTime
from showfloor.server.db.fast import FastStatement
from showfloor.server.models import Account, CreditGrant, HoldAllocation

BUCKETS = ("subscription", "addon", "gift")


@dataclass(frozen=True)
class Balance:
    amounts: dict[str, int]
    balances: dict[str, int]
    reset_at: datetime | None
    addon_expire_at: datetime | None

    @property
    def total_amount(self) -> int:
        return sum(self.amounts.values())

    @property
    def total_balance(self) -> int:
        return sum(self.balances.values())


def active_grant(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return and_(
        CreditGrant.voided_at.is_(None),
        or_(CreditGrant.expires_at.is_(None), CreditGrant.expires_at > now),
    )


def held_per_grant(account_id: int | ColumnElement[int]) -> Subquery:
    """Outstanding held credits per grant of one account (allocation amount − captured − released)."""
    return (
        select(
            HoldAllocation.grant_id,
            func.sum(HoldAllocation.amount - HoldAllocation.captured - HoldAllocation.released).label("held"),
        )
        .join(CreditGrant, CreditGrant.id == HoldAllocation.grant_id)
        .where(CreditGrant.account_id == account_id)
        .group_by(HoldAllocation.grant_id)
        .subquery()
    )


def _active_grants_statement() -> FastStatement:
    """Each active grant of ``:account_id`` at ``:now``: bucket, amount, available, expiry."""
    account_id: ColumnElement[int] = bindparam("account_id", type_=BigInteger)
    held = held_per_grant(account_id)
    return FastStatement(
        select(
            CreditGrant.bucket,
            CreditGrant.amount,
            CreditGrant.remaining - func.coalesce(held.c.held, 0),
            CreditGrant.expires_at,
        )
        .outerjoin(held, held.c.grant_id == CreditGrant.id)
        .where(CreditGrant.account_id == account_id, active_grant(bindparam("now", type_=UtcDateTime)))
    )


# Read by the balance endpoint and by every paid action (a fast statement, see db/fast.py).
_ACTIVE_GRANTS = _active_grants_statement()


async def get_balance(session: AsyncSession, account_id: int, now: datetime) -> Balance:
    rows = await _ACTIVE_GRANTS.all(session, {"account_id": account_id, "now": now})
    return _balance_of(rows)


@dataclass(frozen=True)
class GrantBalance:
    bucket: str
    amount: int
    available: int  # remaining minus what open holds took
    expires_at: datetime | None


async def active_grants(session: AsyncSession, account_id: int, now: datetime) -> list[GrantBalance]:
    """The account's active grants one by one (the console shows when each expires)."""
    rows = await _ACTIVE_GRANTS.all(session, {"account_id": account_id, "now": now})
    return [GrantBalance(str(b), int(amount), int(avail), expires) for b, amount, avail, expires in rows]


def _balance_of(rows: Iterable[Sequence[Any]]) -> Balance:
    """Sum (bucket, amount, available, expires_at) rows of active grants into a ``Balance``."""
    amounts = dict.fromkeys(BUCKETS, 0)
    balances = dict.fromkeys(BUCKETS, 0)
    reset_at: datetime | None = None
    addon_expire_at: datetime | None = None
    for bucket, amount, available, expires_at in rows:
        amounts[bucket] += int(amount)
        balances[bucket] += int(available)
        if bucket == "subscription" and expires_at is not None and available > 0:
            reset_at = expires_at if reset_at is None else min(reset_at, expires_at)
        if bucket == "addon" and expires_at is not None:
            addon_expire_at = expires_at if addon_expire_at is None else max(addon_expire_at, expires_at)
    return Balance(amounts, balances, reset_at, addon_expire_at)


@dataclass(frozen=True)
class AccountBalance:
    unlimited: bool
    plan_id: int | None
    balance: Balance


def _account_with_grants_statement(*, lock: bool) -> FastStatement:
    """PostgreSQL: the account's flags and its active grants in one statement (the account row
    locked when ``lock``): one row per grant, or one row with NULL grant columns when it has none."""
    account_id: ColumnElement[int] = bindparam("account_id", type_=BigInteger)
    held = held_per_grant(account_id)
    grants = (
        select(
            CreditGrant.bucket,
            CreditGrant.amount,
            (CreditGrant.remaining - func.coalesce(held.c.held, 0)).label("available"),
            CreditGrant.expires_at,
        )
        .outerjoin(held, held.c.grant_id == CreditGrant.id)
        .where(CreditGrant.account_id == Account.id, active_grant(bindparam("now", type_=UtcDateTime)))
        .lateral("g")
    )
    stmt = (
        select(Account.unlimited, Account.plan_id, *grants.c)
        .select_from(Account)
        .outerjoin(grants, true())
        .where(Account.id == account_id)
    )
    return FastStatement(stmt.with_for_update(of=Account) if lock else stmt)


_LOCKED_ACCOUNT_WITH_GRANTS = _account_with_grants_statement(lock=True)
_ACCOUNT_WITH_GRANTS = _account_with_grants_statement(lock=False)
_ACCOUNT_FLAGS = FastStatement(
    select(Account.unlimited, Account.plan_id).where(Account.id == bindparam("account_id", type_=BigInteger))
)


async def account_balance(
    session: AsyncSession, account_id: int, now: datetime, *, lock: bool
) -> AccountBalance | None:
    """The account's flags and balance (None: no such account). ``lock=True`` takes the account row
    lock first (PostgreSQL ``FOR UPDATE``; SQLite's write unit already holds the database lock). One
    round trip on PostgreSQL, where every paid action starts with it."""
    params = {"account_id": account_id, "now": now}
    if session.get_bind().dialect.name == "postgresql":
        rows = await (_LOCKED_ACCOUNT_WITH_GRANTS if lock else _ACCOUNT_WITH_GRANTS).all(session, params)
        if not rows:
            return None
        grants = [row[2:] for row in rows if row[2] is not None]
        return AccountBalance(bool(rows[0][0]), rows[0][1], _balance_of(grants))
    flags = await _ACCOUNT_FLAGS.first(session, params)
    if flags is None:
        return None
    return AccountBalance(bool(flags[0]), flags[1], await get_balance(session, account_id, now))


async def available(session: AsyncSession, account_id: int, now: datetime) -> int:
    """Credits the account can spend now (all buckets, holds deducted)."""
    return (await get_balance(session, account_id, now)).total_balance


async def balance_after(
    session: AsyncSession, account_id: int, now: datetime, *, unlimited: bool | None = None
) -> dict[str, Any]:
    """The ``balanceAfter`` snapshot paid endpoints return (``permanentBalance`` is the gift balance).
    Pass ``unlimited`` when the caller already read the account row."""
    balance = await get_balance(session, account_id, now)
    if unlimited is None:
        unlimited = bool(await session.scalar(select(Account.unlimited).where(Account.id == account_id)))
    return {
        "subscriptionBalance": balance.balances["subscription"],
        "permanentBalance": balance.balances["gift"],
        "totalBalance": balance.total_balance,
        "unlimited": bool(unlimited),
    }
