"""One exhibitor: profile, related events (with attendance identity), and the contextual search."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, String, cast, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.catalog import serializers
from showfloor.server.catalog.events import EVENT_ORDER, paged_events
from showfloor.server.catalog.filters import json_array_has_any
from showfloor.server.catalog.identifiers import resolve_exhibitor
from showfloor.server.errors import InvalidRequest
from showfloor.server.models.catalog import Event, EventExhibitor, EventPersonnel, Exhibitor, Personnel

AttendanceScope = Literal["all", "exhibitor", "visitor"]
PROFILE_EVENTS_LIMIT = 100
_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "our",
        "that",
        "this",
        "from",
        "into",
        "your",
        "are",
        "who",
        "what",
        "com",
        "www",
        "http",
        "https",
        "org",
        "net",
        "io",
        "co",
    ]
)


async def exhibitor_profile(session: AsyncSession, exhibitor_id: str) -> dict[str, Any]:
    exhibitor = await resolve_exhibitor(session, exhibitor_id)
    events = await session.scalars(
        select(Event)
        .join(EventExhibitor, EventExhibitor.event_id == Event.id)
        .where(EventExhibitor.exhibitor_id == exhibitor.id)
        .order_by(*EVENT_ORDER)
        .limit(PROFILE_EVENTS_LIMIT)
    )
    return {
        **serializers.exhibitor_item(exhibitor, []),
        "events": [{"id": str(e.id), "eventId": e.event_id, "name": e.name} for e in events],
    }


def _visitor_event_ids(exhibitor_pk: int, *, sqlite: bool) -> Any:
    """Events where someone from the company is a registered visitor."""
    return (
        select(EventPersonnel.event_id)
        .join(Personnel, Personnel.id == EventPersonnel.personnel_id)
        .where(
            Personnel.exhibitor_id == exhibitor_pk,
            or_(
                EventPersonnel.is_visitor_only.is_(True),
                json_array_has_any(EventPersonnel.source_types, ["visitors"], sqlite=sqlite),
            ),
        )
    )


async def exhibitor_events(
    session: AsyncSession, exhibitor_id: str, scope: AttendanceScope, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    exhibitor = await resolve_exhibitor(session, exhibitor_id)
    sqlite = session.get_bind().dialect.name == "sqlite"
    as_exhibitor = select(EventExhibitor.event_id).where(EventExhibitor.exhibitor_id == exhibitor.id)
    as_visitor = _visitor_event_ids(exhibitor.id, sqlite=sqlite)
    condition: ColumnElement[bool]
    if scope == "exhibitor":
        condition = Event.id.in_(as_exhibitor)
    elif scope == "visitor":
        condition = Event.id.in_(as_visitor) & Event.id.not_in(as_exhibitor)
    else:
        condition = Event.id.in_(union(as_exhibitor, as_visitor))
    events, total = await paged_events(session, [condition], page, page_size)
    ids = [e.id for e in events]
    exhibiting = (
        set(await session.scalars(as_exhibitor.where(EventExhibitor.event_id.in_(ids)))) if ids else set()
    )
    visiting = (
        set(await session.scalars(as_visitor.where(EventPersonnel.event_id.in_(ids)))) if ids else set()
    )
    items = []
    for event in events:
        identity = [
            name
            for name, hit in (("exhibitor", event.id in exhibiting), ("visitor", event.id in visiting))
            if hit
        ]
        items.append({**serializers.event_item(event), "attendance_identity": identity})
    return items, total


def search_words(company_url: str | None, target_audience: str | None) -> list[str]:
    """Words to match: the company domain's labels and the target-audience text, minus filler."""
    text = target_audience or ""
    if company_url:
        parts = urlsplit(company_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequest("company_url must be an http(s) URL", field="company_url")
        labels = parts.hostname.split(".")
        text += " " + " ".join(labels[:-1] if len(labels) > 1 else labels)
    words: dict[str, None] = {}
    for word in re.findall(r"\w+", text.lower()):
        if len(word) >= 3 and word not in _STOPWORDS:
            words.setdefault(word, None)
    return list(words)[:12]


async def search_exhibitors(
    session: AsyncSession, company_url: str | None, target_audience: str | None, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """Plain text match of the words against industry, categories and description (no ranking model)."""
    if not (company_url and company_url.strip()) and not (target_audience and target_audience.strip()):
        raise InvalidRequest("Provide company_url or target_audience")
    words = search_words(company_url, target_audience)
    if not words:
        return [], 0
    haystacks = [
        func.lower(Exhibitor.industry),
        func.lower(Exhibitor.description),
        func.lower(cast(Exhibitor.categories, String)),
    ]
    condition = or_(*(h.contains(w, autoescape=True) for w in words for h in haystacks))
    total = int(await session.scalar(select(func.count()).select_from(Exhibitor).where(condition)) or 0)
    if total == 0 or (page - 1) * page_size >= total:
        return [], total
    rows = await session.scalars(
        select(Exhibitor)
        .where(condition)
        .order_by(Exhibitor.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return [serializers.exhibitor_item(e, [], buying_signal_status=None) for e in rows], total
