"""Balance snapshots returned by paid actions (``balanceAfter``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.ledger.balance import balance_after, get_balance


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


async def short_balance(
    session: AsyncSession, account_id: int, now: datetime, *, unlimited: bool
) -> dict[str, Any]:
    """``{subscriptionBalance, permanentBalance, totalBalance, unlimited}`` (base and full-access unlock)."""
    return await balance_after(session, account_id, now, unlimited=unlimited)


async def credit_balance(session: AsyncSession, account_id: int, now: datetime) -> dict[str, Any]:
    """The full ``CreditBalance`` (visitor unlock), the same fields as ``GET /external/credits/balance``."""
    b = await get_balance(session, account_id, now)
    return {
        "totalAmount": b.total_amount,
        "totalBalance": b.total_balance,
        "subscriptionAmount": b.amounts["subscription"],
        "subscriptionBalance": b.balances["subscription"],
        "addonAmount": b.amounts["addon"],
        "addonBalance": b.balances["addon"],
        "addonExpireAt": _ms(b.addon_expire_at),
        "giftAmount": b.amounts["gift"],
        "giftBalance": b.balances["gift"],
        "resetAt": _ms(b.reset_at),
    }
