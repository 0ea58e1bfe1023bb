"""Resolving the identifiers clients send: events by internal ``id`` or public ``event_id``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import LAYERS, EventAccess, access_from_layers, layer_columns
from showfloor.server.errors import NotFound
from showfloor.server.models.catalog import Event, Exhibitor, Personnel

T = TypeVar("T")

# Numeric ids beyond BIGINT cannot exist; comparing them would overflow on PostgreSQL.
_MAX_ID = 2**63 - 1


def parse_numeric_id(value: str) -> int | None:
    """The integer an id string denotes, or None when it cannot be one of our numeric ids."""
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= _MAX_ID else None


async def find_event_ref(
    id_or_event_id: str,
    by_event_id: Callable[[str], Awaitable[T | None]],
    by_pk: Callable[[int], Awaitable[T | None]],
) -> T:
    """The one lookup order for an event reference: the public ``event_id`` first (as the reference
    advises), then the internal ``id`` when the text can be one; ``NotFound`` otherwise."""
    key = id_or_event_id.strip()
    if key:
        found = await by_event_id(key)
        if found is not None:
            return found
        pk = parse_numeric_id(key)
        if pk is not None:
            found = await by_pk(pk)
            if found is not None:
                return found
    raise NotFound(f"Event not found: {id_or_event_id}")


async def resolve_event(session: AsyncSession, id_or_event_id: str) -> Event:
    """The event whose public ``event_id`` or internal ``id`` matches."""

    async def by_event_id(key: str) -> Event | None:
        return await session.scalar(select(Event).where(Event.event_id == key))

    async def by_pk(pk: int) -> Event | None:
        return await session.get(Event, pk)

    return await find_event_ref(id_or_event_id, by_event_id, by_pk)


# Built once: constructing the layer subqueries per request cost more CPU than running them.
_EVENT_WITH_LAYERS = select(Event, *layer_columns(bindparam("account_id", type_=BigInteger)))
_EVENT_WITH_LAYERS_BY_EVENT_ID = _EVENT_WITH_LAYERS.where(Event.event_id == bindparam("key", type_=String))
_EVENT_WITH_LAYERS_BY_ID = _EVENT_WITH_LAYERS.where(Event.id == bindparam("pk", type_=BigInteger))


async def resolve_event_with_access(
    session: AsyncSession, id_or_event_id: str, account_id: int, plan_id: int | None
) -> tuple[Event, EventAccess]:
    """``resolve_event`` and the account's access to the event, the unlocked layers read in the same query."""

    async def by_event_id(key: str) -> Any:
        params = {"account_id": account_id, "key": key}
        return (await session.execute(_EVENT_WITH_LAYERS_BY_EVENT_ID, params)).first()

    async def by_pk(pk: int) -> Any:
        return (await session.execute(_EVENT_WITH_LAYERS_BY_ID, {"account_id": account_id, "pk": pk})).first()

    row = await find_event_ref(id_or_event_id, by_event_id, by_pk)
    layers = {layer for layer, unlocked in zip(LAYERS, row[1:], strict=True) if unlocked}
    return row[0], await access_from_layers(session, plan_id, layers)


async def resolve_exhibitor(session: AsyncSession, exhibitor_id: str) -> Exhibitor:
    pk = parse_numeric_id(exhibitor_id)
    exhibitor = await session.get(Exhibitor, pk) if pk is not None else None
    if exhibitor is None:
        raise NotFound(f"Exhibitor not found: {exhibitor_id}")
    return exhibitor


async def resolve_personnel(session: AsyncSession, personnel_id: str) -> Personnel:
    pk = parse_numeric_id(personnel_id)
    person = await session.get(Personnel, pk) if pk is not None else None
    if person is None:
        raise NotFound(f"Personnel not found: {personnel_id}")
    return person
