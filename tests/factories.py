"""Small catalog fixtures for tests. They keep the event's count columns right, as importers must:

- ``exhibitor_count``: exhibitors attached to the event (``event_exhibitors`` rows);
- ``personnel_count``: attendance rows (``event_personnel``), visitor-only ones included;
- ``exhibitor_personnel_count`` / ``visitor_personnel_count``: those not visitor-only / visitor-only;
- ``visitor_count``: attendance rows labelled ``visitors`` (so ``hasVisitors`` = visitor data exists);
- ``contact_count``: attendance rows whose person has an email or a phone.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from showfloor.server.models.catalog import Event, EventExhibitor, EventPersonnel, Exhibitor, Personnel

_seq = itertools.count(1)
_GENERATE: Any = object()  # "make one up" default for email/phone


async def make_event(session: AsyncSession, **overrides: Any) -> Event:
    n = next(_seq)
    values: dict[str, Any] = {
        "event_id": f"E{100000 + n}",
        "name": f"Test Expo {n}",
        "date_start": date(2026, 3, 1),
        "date_end": date(2026, 3, 3),
        "city": "Las Vegas",
        "country": "United States",
        "event_type": "In-person",
        "quality": "Verified",
        "categories": [],
        "topics": [],
        "verified": False,
        "sponsor_match_starred": False,
        "exhibitor_count": 0,
        "personnel_count": 0,
        "exhibitor_personnel_count": 0,
        "visitor_personnel_count": 0,
        "visitor_count": 0,
        "contact_count": 0,
    }
    values.update(overrides)
    event = Event(**values)
    session.add(event)
    await session.flush()
    return event


async def make_exhibitor(
    session: AsyncSession, event: Event | None = None, *, rank: int | None = None, **overrides: Any
) -> Exhibitor:
    """A company; attached to ``event`` (next rank, count bumped) when one is given."""
    n = next(_seq)
    values: dict[str, Any] = {
        "company_name": f"Company {n}",
        "domain": f"company{n}.example",
        "country": "United States",
        "industry": "Software",
        "categories": [],
        "tech_stacks": [],
        "data_source": "local_import",
    }
    values.update(overrides)
    exhibitor = Exhibitor(**values)
    session.add(exhibitor)
    await session.flush()
    if event is not None:
        await attach_exhibitor(session, event, exhibitor, rank=rank)
    return exhibitor


async def attach_exhibitor(
    session: AsyncSession,
    event: Event,
    exhibitor: Exhibitor,
    *,
    rank: int | None = None,
    booth: str | None = None,
) -> EventExhibitor:
    link = EventExhibitor(
        event_id=event.id,
        exhibitor_id=exhibitor.id,
        rank=event.exhibitor_count if rank is None else rank,
        booth=booth,
    )
    session.add(link)
    await _bump(session, event, exhibitor_count=1)
    await session.flush()
    return link


async def make_person(
    session: AsyncSession,
    event: Event | None,
    exhibitor: Exhibitor | None = None,
    *,
    email: str | None = _GENERATE,
    phone: str | None = _GENERATE,
    opted_out: bool = False,
    visitor_only: bool = False,
    source_types: list[str] | None = None,
    rank: int | None = None,
    **overrides: Any,
) -> Personnel:
    """A person, attending ``event`` (when given) for ``exhibitor``; counts on the event kept right."""
    n = next(_seq)
    full_name = overrides.pop("full_name", f"Person {n}")
    values: dict[str, Any] = {
        "full_name": full_name,
        "full_name_norm": full_name.strip().lower(),
        "title": "Director of Sales",
        "department": "sales",
        "seniority_level": "director",
        "linkedin_url": f"https://linkedin.com/in/person-{n}",
        "company_name": exhibitor.company_name if exhibitor is not None else None,
        "exhibitor_id": exhibitor.id if exhibitor is not None else None,
        "email": f"person{n}@example.com" if email is _GENERATE else email,
        "phone": f"+1555{n:07d}" if phone is _GENERATE else phone,
        "opted_out": opted_out,
    }
    values.update(overrides)
    person = Personnel(**values)
    session.add(person)
    await session.flush()
    if event is not None:
        await attend(
            session, event, person, exhibitor, visitor_only=visitor_only, source_types=source_types, rank=rank
        )
    return person


async def attend(
    session: AsyncSession,
    event: Event,
    person: Personnel,
    exhibitor: Exhibitor | None = None,
    *,
    visitor_only: bool = False,
    source_types: list[str] | None = None,
    rank: int | None = None,
) -> EventPersonnel:
    if source_types is None:
        source_types = (
            ["visitors"] if visitor_only else (["exhibitor"] if exhibitor is not None else ["social"])
        )
    row = EventPersonnel(
        event_id=event.id,
        personnel_id=person.id,
        exhibitor_id=None if visitor_only or exhibitor is None else exhibitor.id,
        source_types=source_types,
        is_visitor_only=visitor_only,
        rank=event.personnel_count if rank is None else rank,
    )
    session.add(row)
    side = "visitor_personnel_count" if visitor_only else "exhibitor_personnel_count"
    deltas = {"personnel_count": 1, side: 1}
    if "visitors" in source_types:
        deltas["visitor_count"] = 1
    if person.email or person.phone:
        deltas["contact_count"] = 1
    await _bump(session, event, **deltas)
    await session.flush()
    return row


async def _bump(session: AsyncSession, event: Event, **deltas: int) -> None:
    """Add to the event's count columns in the database (the event object may belong to another,
    finished session, where an attribute change would be lost) and on the object, without history."""
    column = Event.__table__.c
    await session.execute(
        update(Event.__table__)
        .where(column.id == event.id)
        .values({name: column[name] + delta for name, delta in deltas.items()})
    )
    for name, delta in deltas.items():
        set_committed_value(event, name, getattr(event, name) + delta)
