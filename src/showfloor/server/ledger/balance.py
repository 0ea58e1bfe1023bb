"""Balance as ``LEDGER.md`` defines it: active grants' remaining credits minus what open holds took.

A grant is active when it is not voided and not past ``expires_at`` at the moment of reading (expiry
is exact at read time, whether or not the sweep has run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Subquery, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.base import UtcDateTime
from showfloor.server.db.prepared import PreparedQuery, Row
from showfloor.server.models import Account, CreditGrant, HoldAllocation

BUCKETS = ("subscription", "addon", "gift")


def can_pay(unlimited: bool, available: int, amount: int) -> bool:
    """The funds rule: an unlimited account is never refused; any other pays only what it has available.
    (``sql/ledger_spend.sql`` applies the same test.)"""
    return unlimited or amount <= available


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


def _active_grants_statement() -> PreparedQuery:
    """Each active grant of ``:account_id`` at ``:now``: bucket, amount, available, expiry."""
    account_id: ColumnElement[int] = bindparam("account_id", type_=BigInteger)
    held = held_per_grant(account_id)
    return PreparedQuery(
        select(
            CreditGrant.bucket,
            CreditGrant.amount,
            (CreditGrant.remaining - func.coalesce(held.c.held, 0)).label("available"),
            CreditGrant.expires_at,
        )
        .outerjoin(held, held.c.grant_id == CreditGrant.id)
        .where(CreditGrant.account_id == account_id, active_grant(bindparam("now", type_=UtcDateTime)))
    )


# Read by the balance endpoint and by every paid action (a prepared query, see db/prepared.py).
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
    return [
        GrantBalance(str(r["bucket"]), int(r["amount"]), int(r["available"]), r["expires_at"]) for r in rows
    ]


def _balance_of(rows: Iterable[Row]) -> Balance:
    """Sum the active grants' rows (bucket, amount, available, expires_at) into a ``Balance``."""
    amounts = dict.fromkeys(BUCKETS, 0)
    balances = dict.fromkeys(BUCKETS, 0)
    reset_at: datetime | None = None
    addon_expire_at: datetime | None = None
    for row in rows:
        bucket, amount, available, expires_at = (
            row["bucket"],
            row["amount"],
            row["available"],
            row["expires_at"],
        )
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


def _account_flags_statement(*, lock: bool) -> PreparedQuery:
    stmt = select(Account.unlimited, Account.plan_id).where(
        Account.id == bindparam("account_id", type_=BigInteger)
    )
    return PreparedQuery(stmt.with_for_update() if lock else stmt)  # no FOR UPDATE on SQLite


_ACCOUNT_FLAGS = {lock: _account_flags_statement(lock=lock) for lock in (False, True)}


async def account_balance(
    session: AsyncSession, account_id: int, now: datetime, *, lock: bool
) -> AccountBalance | None:
    """The account's flags and balance (None: no such account). ``lock=True`` takes the account row
    lock first (PostgreSQL ``FOR UPDATE``; SQLite's write unit already holds the database lock)."""
    flags = await _ACCOUNT_FLAGS[lock].first(session, {"account_id": account_id})
    if flags is None:
        return None
    balance = await get_balance(session, account_id, now)
    return AccountBalance(bool(flags["unlimited"]), flags["plan_id"], balance)


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


def epoch_ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def credit_balance_body(b: Balance) -> dict[str, Any]:
    """The reference's ``CreditBalance`` object (``GET /external/credits/balance``, and the
    ``balanceAfter`` of a visitor unlock)."""
    return {
        "totalAmount": b.total_amount,
        "totalBalance": b.total_balance,
        "subscriptionAmount": b.amounts["subscription"],
        "subscriptionBalance": b.balances["subscription"],
        "addonAmount": b.amounts["addon"],
        "addonBalance": b.balances["addon"],
        "addonExpireAt": epoch_ms(b.addon_expire_at),
        "giftAmount": b.amounts["gift"],
        "giftBalance": b.balances["gift"],
        "resetAt": epoch_ms(b.reset_at),
    }
