"""Event catalogue reads: list with filters, detail, brief."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from showfloor.server.catalog import serializers
from showfloor.server.catalog.filters import is_sqlite, lowered
from showfloor.server.catalog.identifiers import resolve_event
from showfloor.server.catalog.search import keyword_condition
from showfloor.server.models.catalog import Event

# Catalogue order: soonest start first (undated last), then the stable id.
EVENT_ORDER = (Event.date_start.asc().nulls_last(), Event.id.asc())


@dataclass(frozen=True)
class EventFilters:
    keyword: str | None = None
    country: str | None = None
    city: str | None = None
    date_start_from: date | None = None
    date_start_to: date | None = None
    event_types: Sequence[str] = field(default_factory=list)
    qualities: Sequence[str] = field(default_factory=list)
    sponsor_match_starred: int | None = None
    has_visitors: int | None = None


def event_conditions(filters: EventFilters, *, sqlite: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.keyword and filters.keyword.strip():
        conditions.append(keyword_condition("events", filters.keyword, sqlite=sqlite))
    if filters.country and filters.country.strip():
        conditions.append(func.lower(Event.country) == filters.country.strip().lower())
    if filters.city and filters.city.strip():
        conditions.append(func.lower(Event.city) == filters.city.strip().lower())
    if filters.date_start_from is not None:
        conditions.append(Event.date_start >= filters.date_start_from)
    if filters.date_start_to is not None:
        conditions.append(Event.date_start <= filters.date_start_to)
    if filters.event_types:
        conditions.append(func.lower(Event.event_type).in_(lowered(filters.event_types)))
    if filters.qualities:
        conditions.append(func.lower(Event.quality).in_(lowered(filters.qualities)))
    if filters.sponsor_match_starred is not None:
        conditions.append(Event.sponsor_match_starred.is_(bool(filters.sponsor_match_starred)))
    if filters.has_visitors is not None:
        conditions.append(Event.visitor_count > 0 if filters.has_visitors else Event.visitor_count == 0)
    return conditions


async def paged_events(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], page: int, page_size: int
) -> tuple[list[Event], int]:
    """A page of the matching events in catalogue order, and the exact matching total.

    The window count runs in a subquery under the page's ORDER BY … LIMIT. Planned as one query,
    PostgreSQL 15 costs ``count(*) OVER ()`` under a LIMIT as if it could stop after the first rows, and
    for a keyword walks the ``date_start`` index testing the regex on every event instead of reading the
    matches through the trigram index and sorting them (docs/benchmarks.md, the catalog section)."""
    matched = select(Event.id, Event.date_start).where(*conditions).subquery("matched")
    counted = select(matched.c.id, matched.c.date_start, func.count().over().label("total")).subquery(
        "counted"
    )
    order = (counted.c.date_start.asc().nulls_last(), counted.c.id.asc())
    page_ids = (
        select(counted.c.id, counted.c.date_start, counted.c.total)
        .order_by(*order)
        .limit(page_size)
        .offset((page - 1) * page_size)
        .subquery("page_ids")
    )
    rows = (
        await session.execute(
            # Only what an item shows; touching any other attribute raises instead of lazy-loading.
            select(Event, page_ids.c.total)
            .options(load_only(*serializers.EVENT_ITEM_COLUMNS, raiseload=True))
            .join(page_ids, page_ids.c.id == Event.id)
            .order_by(page_ids.c.date_start.asc().nulls_last(), page_ids.c.id.asc())
        )
    ).all()
    if rows:
        return [row[0] for row in rows], int(rows[0][1])
    if page == 1:
        return [], 0
    total = await session.scalar(select(func.count()).select_from(Event).where(*conditions))
    return [], int(total or 0)


async def list_events(
    session: AsyncSession, filters: EventFilters, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    events, total = await paged_events(
        session, event_conditions(filters, sqlite=is_sqlite(session)), page, page_size
    )
    return [serializers.event_item(e) for e in events], total


async def event_detail(session: AsyncSession, id_or_event_id: str) -> dict[str, Any]:
    return {"event": serializers.event_detail(await resolve_event(session, id_or_event_id))}


async def event_brief(session: AsyncSession, id_or_event_id: str) -> dict[str, Any]:
    event = await resolve_event(session, id_or_event_id)
    return {
        "event": serializers.event_item(event),
        "summary": {
            "attendeeCount": event.attendee_count,
            "exhibitorCount": event.exhibitor_count,
            "topCategories": serializers.category_names(event)[:5],
            "dataFreshness": "database_snapshot",
        },
    }
