"""``GET /external/credits/balance``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from showfloor.server.api.deps import DB, CurrentPrincipal
from showfloor.server.ledger.balance import get_balance

router = APIRouter(prefix="/external/credits", tags=["credits"])


def epoch_ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


class CreditBalance(BaseModel):
    totalAmount: int
    totalBalance: int
    subscriptionAmount: int
    subscriptionBalance: int
    addonAmount: int
    addonBalance: int
    addonExpireAt: int | None
    giftAmount: int
    giftBalance: int
    resetAt: int | None


@router.get("/balance", response_model=CreditBalance, summary="Credit balance of the API key owner")
async def balance(principal: CurrentPrincipal, db: DB) -> CreditBalance:
    async with db.read() as session:
        b = await get_balance(session, principal.account_id, datetime.now(UTC))
    return CreditBalance(
        totalAmount=b.total_amount,
        totalBalance=b.total_balance,
        subscriptionAmount=b.amounts["subscription"],
        subscriptionBalance=b.balances["subscription"],
        addonAmount=b.amounts["addon"],
        addonBalance=b.balances["addon"],
        addonExpireAt=epoch_ms(b.addon_expire_at),
        giftAmount=b.amounts["gift"],
        giftBalance=b.balances["gift"],
        resetAt=epoch_ms(b.reset_at),
    )
