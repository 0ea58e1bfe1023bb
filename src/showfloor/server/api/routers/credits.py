"""``GET /external/credits/balance`` and ``GET /external/credits/transactions`` (our addition)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from showfloor.server.api.deps import ReadPrincipal, ReadSession
from showfloor.server.api.pagination import Page, PageQuery, envelope
from showfloor.server.ledger.balance import get_balance
from showfloor.server.ledger.history import list_entries

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


class CreditTransaction(BaseModel):
    id: str
    createdAt: int
    type: str
    amount: int
    bucket: str | None
    businessCode: str | None
    callSource: str | None
    apiKeyPrefix: str | None
    resourceType: str | None
    resourceId: str | None
    operationId: str
    grantId: str | None


@router.get("/balance", response_model=CreditBalance, summary="Credit balance of the API key owner")
async def balance(principal: ReadPrincipal, session: ReadSession) -> CreditBalance:
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


@router.get(
    "/transactions",
    response_model=Page[CreditTransaction],
    summary="Ledger history of the API key owner's account, newest first",
)
async def transactions(
    principal: ReadPrincipal,
    session: ReadSession,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 20,
    entry_type: Annotated[str | None, Query(alias="type", max_length=16)] = None,
) -> dict[str, Any]:
    items, total = await list_entries(
        session, principal.account_id, page=page, page_size=page_size, entry_type=entry_type
    )
    return envelope([item.to_api() for item in items], total, page, page_size)
