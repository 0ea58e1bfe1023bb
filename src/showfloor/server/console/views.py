"""Reads the console needs besides the API's own: per-page lookups, each one query for the whole page."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import NotFound
from showfloor.server.models import ApiKey, EventUnlock


async def layers_by_event(
    session: AsyncSession, account_id: int, event_ids: Sequence[int]
) -> dict[int, set[str]]:
    """Event id -> the access layers the account unlocked, for a page of events."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(EventUnlock.event_id, EventUnlock.layer).where(
            EventUnlock.account_id == account_id, EventUnlock.event_id.in_(list(event_ids))
        )
    )
    found: dict[int, set[str]] = {}
    for event_id, layer in rows:
        found.setdefault(int(event_id), set()).add(str(layer))
    return found


async def key_of_account(session: AsyncSession, account_id: int, key_id: int) -> ApiKey:
    """One API key of the account, for a change to it; another account's key is NotFound (404)."""
    key = await session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.account_id == account_id))
    if key is None:
        raise NotFound("API key not found")
    return key
