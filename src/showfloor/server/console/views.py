"""Reads the console needs besides the API's own: per-page lookups, each one query for the whole page."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.models import EventUnlock


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
