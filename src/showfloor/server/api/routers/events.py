"""Event catalogue reads: ``/external/events/list``, ``/external/events/brief``, ``/external/events/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from showfloor.server.api.deps import ReadPrincipal, ReadSession
from showfloor.server.api.openapi import error_responses
from showfloor.server.api.pagination import PageQuery, envelope
from showfloor.server.catalog import events
from showfloor.server.catalog.filters import multi_values, parse_day

router = APIRouter(prefix="/external/events", tags=["events"])

PageParam = PageQuery
PageSizeParam = Annotated[int, Query(alias="pageSize", ge=1, le=100)]
MultiParam = Annotated[list[str] | None, Query()]
Flag = Annotated[int | None, Query(ge=0, le=1)]
EventRef = Annotated[str, Query(min_length=1, max_length=100)]


@router.get("/list", summary="List events")
async def list_events(
    principal: ReadPrincipal,
    session: ReadSession,
    page: PageParam = 1,
    page_size: PageSizeParam = 20,
    keyword: Annotated[str | None, Query(max_length=200)] = None,
    country: Annotated[str | None, Query(max_length=100)] = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    date_start_from: Annotated[str | None, Query(max_length=10)] = None,
    date_start_to: Annotated[str | None, Query(max_length=10)] = None,
    event_type: MultiParam = None,
    event_type_brackets: Annotated[list[str] | None, Query(alias="event_type[]")] = None,
    quality: MultiParam = None,
    quality_brackets: Annotated[list[str] | None, Query(alias="quality[]")] = None,
    sponsor_match_starred: Flag = None,
    has_visitors: Flag = None,
) -> dict[str, Any]:
    filters = events.EventFilters(
        keyword=keyword,
        country=country,
        city=city,
        date_start_from=parse_day(date_start_from, "date_start_from"),
        date_start_to=parse_day(date_start_to, "date_start_to"),
        event_types=multi_values(event_type, event_type_brackets),
        qualities=multi_values(quality, quality_brackets),
        sponsor_match_starred=sponsor_match_starred,
        has_visitors=has_visitors,
    )
    items, total = await events.list_events(session, filters, page, page_size)
    return envelope(items, total, page, page_size)


@router.get("/brief", summary="Get event brief", responses=error_responses(404))
async def event_brief(principal: ReadPrincipal, session: ReadSession, event_id: EventRef) -> dict[str, Any]:
    return await events.event_brief(session, event_id)


@router.get("/{id}", summary="Get event detail", responses=error_responses(404))
async def event_detail(
    principal: ReadPrincipal,
    session: ReadSession,
    event_ref: Annotated[str, Path(alias="id", min_length=1, max_length=100)],
) -> dict[str, Any]:
    return await events.event_detail(session, event_ref)
