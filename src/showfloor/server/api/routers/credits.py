"""``GET /external/credits/balance``; our additions ``GET /external/credits/transactions`` and
``GET``/``PUT /external/credits/alerts`` (balance alerts, docs/spend-controls.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from showfloor.server.api.deps import CurrentPrincipal, ReadPrincipal, ReadSession, WriteSession
from showfloor.server.api.pagination import Page, PageQuery, envelope
from showfloor.server.errors import InvalidRequest
from showfloor.server.ledger import alerts
from showfloor.server.ledger.activity import list_activity
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


# --- GET /external/credits/activity (our addition, docs/compatibility.md): one row per operation ---


class CreditActivity(BaseModel):
    operationId: str
    occurredAt: int
    occurredAtIso: str
    type: str
    action: str
    label: str
    description: str
    credits: int
    balanceChange: int
    businessCode: str | None
    callSource: str | None
    apiKeyPrefix: str | None
    taskId: str | None
    eventId: str | None
    resourceType: str | None
    resourceId: str | None
    delivered: int | None
    unitCredits: int | None
    held: int | None
    released: int | None
    pending: int | None
    bucket: str | None


def parse_instant(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time; without an offset it is UTC."""
    if value is None or value == "":
        return None
    text = value.strip()
    if "T" in text and " " in text:  # an unencoded "+01:00" arrives as " 01:00"
        text = text.replace(" ", "+", 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            f"{name} must be an ISO 8601 date or date-time (e.g. 2026-12-01 or 2026-12-01T09:00:00Z), got {value!r}"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@router.get(
    "/activity",
    response_model=Page[CreditActivity],
    summary="Credit activity: one row per operation (a task with its hold, captures and releases is one)",
)
async def activity(
    principal: ReadPrincipal,
    session: ReadSession,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 50,
    since: Annotated[
        str | None, Query(max_length=40, description="ISO 8601, inclusive; UTC if no offset")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=40, description="ISO 8601, exclusive; UTC if no offset")
    ] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    source: Annotated[str | None, Query(max_length=16, description="api or agent")] = None,
    key_prefix: Annotated[str | None, Query(alias="keyPrefix", max_length=40)] = None,
) -> dict[str, Any]:
    rows, total = await list_activity(
        session,
        principal.account_id,
        since=parse_instant("since", since),
        until=parse_instant("until", until),
        action=action,
        source=source,
        api_key_prefix=key_prefix,
        page=page,
        page_size=page_size,
    )
    return envelope([row.to_api() for row in rows], total, page, page_size)


class BalanceAlertState(BaseModel):
    threshold: int
    kind: Literal["threshold", "depleted"]
    state: Literal["ok", "low"]


class BalanceAlerts(BaseModel):
    thresholds: list[int] = Field(description="The thresholds set, highest first (credits).")
    alerts: list[BalanceAlertState] = Field(
        description="Each threshold's state, and the depleted alert (threshold 0) while any is set."
    )


class BalanceAlertsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thresholds: list[StrictInt] = Field(
        max_length=alerts.MAX_THRESHOLDS,
        description="Thresholds in credits (1 or more each); an empty list removes every alert.",
    )


@router.get(
    "/alerts", response_model=BalanceAlerts, summary="Balance alerts of the API key owner (our addition)"
)
async def get_alerts(principal: ReadPrincipal, session: ReadSession) -> dict[str, object]:
    return alerts.alerts_body(await alerts.list_alerts(session, principal.account_id))


@router.put(
    "/alerts", response_model=BalanceAlerts, summary="Set the balance alert thresholds (our addition)"
)
async def put_alerts(
    body: BalanceAlertsIn, principal: CurrentPrincipal, session: WriteSession
) -> dict[str, object]:
    rows = await alerts.set_thresholds(session, principal.account_id, body.thresholds, datetime.now(UTC))
    return alerts.alerts_body(rows)
