"""The events other packages emit, one call each, in the caller's transaction (see ``events.emit``).

Each function shapes one event type's ``data`` (documented in docs/webhooks.md) so that the emission
site in the ledger, access or unlock code stays a single line. Times in ``data`` are epoch
milliseconds and ids are strings, as everywhere in the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.models import CreditGrant
from showfloor.server.notify.events import (
    CREDITS_BALANCE_ALERT,
    CREDITS_EXPIRED,
    CREDITS_GRANTED,
    EVENT_UNLOCKED,
    SPEND_CAP_REACHED,
    UNLOCK_TASK_COMPLETED,
    emit,
)


def epoch_ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _grant(grant: CreditGrant) -> dict[str, Any]:
    return {"grantId": str(grant.id), "bucket": grant.bucket, "expiresAt": epoch_ms(grant.expires_at)}


async def credits_granted(session: AsyncSession, grant: CreditGrant) -> None:
    """``ledger.service.grant`` wrote ``grant`` (not on a replayed operation key)."""
    data = {**_grant(grant), "amount": grant.amount, "note": grant.note}
    await emit(session, grant.account_id, CREDITS_GRANTED, data, now=grant.created_at)


async def credits_expired(session: AsyncSession, grant: CreditGrant, lost: int, now: datetime) -> None:
    """The expiry sweep wrote off ``lost`` unspent, unheld credits of ``grant``."""
    data = {**_grant(grant), "amount": lost}
    await emit(
        session,
        grant.account_id,
        CREDITS_EXPIRED,
        data,
        dedup_key=f"{CREDITS_EXPIRED}:grant:{grant.id}",
        now=now,
    )


class Caller(Protocol):
    @property
    def account_id(self) -> int: ...
    @property
    def call_source(self) -> str: ...


class UnlockedEvent(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def event_id(self) -> str | None: ...
    @property
    def name(self) -> str: ...


async def event_unlocked(
    session: AsyncSession, caller: Caller, event: UnlockedEvent, layers: Sequence[str], credits: int
) -> None:
    """An event unlock recorded ``layers`` ("base", "visitor"; blanks ignored) for the caller's account;
    nothing when none was (the layers were already unlocked)."""
    layers = [layer for layer in layers if layer]
    if not layers:
        return
    data = {
        "event": {"id": str(event.id), "eventId": event.event_id, "name": event.name},
        "layers": layers,
        "creditsUsed": credits,
        "callSource": caller.call_source,
    }
    await emit(session, caller.account_id, EVENT_UNLOCKED, data)


async def unlock_task_completed(
    session: AsyncSession, account_id: int, data: dict[str, Any], now: datetime
) -> None:
    """A contact unlock task closed; ``data`` is ``unlocks.settlement.FinishedTask.event_data()``."""
    await emit(session, account_id, UNLOCK_TASK_COMPLETED, data, now=now)


async def spend_cap_reached(
    session: AsyncSession,
    account_id: int,
    api_key_id: int,
    period: str,
    period_start: date,
    cap: int,
    spent: int,
    required: int | None,
    now: datetime,
) -> None:
    """A spend of the key reached its cap for the period exactly (``required`` None), or the cap refused
    one (``required``: what it needed). At most one per key, period and period start, whichever comes
    first (the outbox's dedup key): the owner learns once that the key hit its cap."""
    start = datetime.combine(period_start, time(), tzinfo=UTC)
    data = {
        "apiKeyId": str(api_key_id),
        "period": period,
        "periodStart": epoch_ms(start),
        "cap": cap,
        "spent": spent,
        "refused": required is not None,
        "required": required,
    }
    dedup = f"{SPEND_CAP_REACHED}:key:{api_key_id}:{period}:{period_start.isoformat()}"
    await emit(session, account_id, SPEND_CAP_REACHED, data, dedup_key=dedup, now=now)


async def balance_alert(
    session: AsyncSession, account_id: int, alert: str, threshold: int, balance: int, now: datetime
) -> None:
    """The available balance crossed an alert threshold (``ledger.alerts``): ``dropped`` below it,
    ``depleted`` (threshold 0), or ``recovered`` back to it. Once per crossing: the alert's state row,
    updated under lock, decides (no dedup key: the same threshold may be crossed again later)."""
    data = {"alert": alert, "threshold": threshold, "availableBalance": balance}
    await emit(session, account_id, CREDITS_BALANCE_ALERT, data, now=now)
