"""Personnel reads: the event-scoped list (preview or full), one profile, a person's events.

The list shows an event's people in ``rank`` order. While the account has not unlocked the event only
the first ``previewLimit`` matching rows are reachable, and rows of people who are only registered
visitors stay hidden until the visitor layer is unlocked (``showfloor.server.access``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, String, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from showfloor.server.access.preview import page_envelope, semantics, window_for
from showfloor.server.catalog.contacts import (
    card_extras,
    cards_for,
    contact_card,
    personnel_fts_condition,
)
from showfloor.server.catalog.identifiers import resolve_event_with_access, resolve_personnel
from showfloor.server.catalog.search import word_start_filters
from showfloor.server.catalog.serializers import event_item
from showfloor.server.errors import NotFound
from showfloor.server.models.catalog import Event, EventPersonnel, Personnel

AttendanceScope = Literal["all", "exhibitor_employee", "visitor"]
# The reference's semantics examples for the personnel list name this action.
UNLOCK_ACTION_TYPE = "unlock_event_personnel"


@dataclass(frozen=True)
class PersonnelFilters:
    exhibitor_id: int | None = None
    department: str | None = None
    level: str | None = None
    search_query: str | None = None
    source_types: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(
            self.exhibitor_id is not None
            or self.department
            or self.level
            or (self.search_query and self.search_query.strip())
            or self.source_types
        )


def has_label(label: str) -> ColumnElement[bool]:
    """``event_personnel.source_types`` (a small JSON array of fixed labels) contains ``label``.
    The row set is already narrowed by an indexed key (event or person), so a text probe is cheap."""
    return cast(EventPersonnel.source_types, String).like(f'%"{label}"%')


def _filter_conditions(filters: PersonnelFilters, *, sqlite: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.exhibitor_id is not None:
        conditions.append(EventPersonnel.exhibitor_id == filters.exhibitor_id)
    if filters.department:
        conditions.append(func.lower(Personnel.department) == filters.department.strip().lower())
    if filters.level:
        conditions.append(func.lower(Personnel.seniority_level) == filters.level.strip().lower())
    if filters.search_query and filters.search_query.strip():
        if sqlite:
            conditions.append(personnel_fts_condition([(("full_name", "title"), filters.search_query)]))
        else:  # one event's people: a filter, not a trigram index probe over everyone
            conditions += word_start_filters(Personnel, ("full_name", "title"), filters.search_query)
    if filters.source_types:
        conditions.append(or_(*(has_label(t) for t in filters.source_types)))
    return conditions


@dataclass(frozen=True)
class EventPersonnelPage:
    envelope: dict[str, Any]  # the page envelope under the preview window's rules
    semantics: dict[str, Any]


def stored_total(event: Event, filters: PersonnelFilters, *, hides_visitor_only: bool) -> int | None:
    """The list's total from the event row's stored counts (``data/counts.py``), or None when a filter
    needs the rows counted. Unfiltered: every row, or the exhibitor side while visitor-only rows are
    hidden; ``sourceType=visitors`` alone with nothing hidden: the rows labelled ``visitors``."""
    if not filters.any:
        return event.exhibitor_personnel_count if hides_visitor_only else event.personnel_count
    visitors_only = PersonnelFilters(source_types=("visitors",))
    if filters == visitors_only and not hides_visitor_only:
        return event.visitor_count
    return None


# The person's attendance rows anywhere, for the card's event count. Built once: an alias populates its
# column collection when first used, which per request cost more than the query's planning.
_OTHER_ATTENDANCE = aliased(EventPersonnel, name="other_attendance")
_EVENTS_OF_PERSON = (
    select(func.count())
    .where(_OTHER_ATTENDANCE.personnel_id == Personnel.id)
    .scalar_subquery()
    .label("events")
)


async def list_event_personnel(
    session: AsyncSession,
    account_id: int,
    plan_id: int | None,
    event_ref: str,
    filters: PersonnelFilters,
    page: int,
    page_size: int,
    *,
    preview_limit: int,
    sqlite: bool,
) -> EventPersonnelPage:
    event, access = await resolve_event_with_access(session, event_ref, account_id, plan_id)
    conditions = [EventPersonnel.event_id == event.id]
    if access.hides_visitor_only:
        conditions.append(EventPersonnel.is_visitor_only.is_(False))
    conditions += _filter_conditions(filters, sqlite=sqlite)

    needs_person = bool(filters.department or filters.level or filters.search_query)
    stored = stored_total(event, filters, hides_visitor_only=access.hides_visitor_only)
    # The page's attendance rows are picked (and, unless the event row holds the total, the matching
    # total counted as a window count) from the (event_id, rank, id) index of migration 0007 alone,
    # joining personnel only when a filter needs it; only the page's rows are then joined to their
    # people, however deep the page.
    total_column = func.count().over() if stored is None else literal(stored)
    picked = select(
        EventPersonnel.id.label("id"),
        EventPersonnel.rank.label("rank"),
        total_column.label("total"),
    ).where(*conditions)
    if needs_person:
        picked = picked.join(Personnel, Personnel.id == EventPersonnel.personnel_id)
    offset = (page - 1) * page_size
    page_ids = (
        picked.order_by(EventPersonnel.rank, EventPersonnel.id).limit(page_size).offset(offset).subquery()
    )
    page_rows = (
        await session.execute(
            select(page_ids.c.total, _EVENTS_OF_PERSON, EventPersonnel.source_types, Personnel)
            .select_from(page_ids)
            .join(EventPersonnel, EventPersonnel.id == page_ids.c.id)
            .join(Personnel, Personnel.id == EventPersonnel.personnel_id)
            .order_by(page_ids.c.rank, page_ids.c.id)
        )
    ).all()

    if stored is not None:
        actual_total = stored
    elif page_rows:
        actual_total = int(page_rows[0][0])
    elif offset == 0:
        actual_total = 0
    else:  # past the last row: nothing carried the window count
        count = select(func.count()).select_from(EventPersonnel)
        if needs_person:
            count = count.join(Personnel, Personnel.id == EventPersonnel.personnel_id)
        actual_total = int(await session.scalar(count.where(*conditions)) or 0)

    window = window_for(access, actual_total, page, page_size, preview_limit)
    meta = semantics(window, noun="personnel", action_type=UNLOCK_ACTION_TYPE, credits=access.unlock_credits)
    if window.limit <= 0:
        return EventPersonnelPage(page_envelope([], window), meta)
    visible = page_rows[: window.limit]
    rows = [(types, person) for _, _, types, person in visible]
    extras = await card_extras(
        session,
        account_id,
        [person.id for _, person in rows],
        with_activity=True,
        with_aggregated_sources=False,
        known_event_counts={person.id: int(n) for _, n, _, person in visible},
    )
    items = [
        contact_card(person, extras, source_types=types or [], with_activity=True) for types, person in rows
    ]
    return EventPersonnelPage(page_envelope(items, window), meta)


async def personnel_profile(session: AsyncSession, account_id: int, personnel_id: str) -> dict[str, Any]:
    person = await resolve_personnel(session, personnel_id)
    return (await cards_for(session, account_id, [person]))[0]


# --- a person's events ------------------------------------------------------------------------

_EXHIBITOR_EVIDENCE = or_(has_label("exhibitor"), EventPersonnel.exhibitor_id.is_not(None))
_VISITOR_EVIDENCE = has_label("visitors")


def attendance_identity(source_types: list[str] | None, exhibitor_id: int | None) -> list[str]:
    labels = set(source_types or [])
    identity = []
    if "exhibitor" in labels or exhibitor_id is not None:
        identity.append("exhibitor_employee")
    if "visitors" in labels:
        identity.append("visitor")
    return identity


def _scope_condition(scope: AttendanceScope) -> ColumnElement[bool]:
    if scope == "exhibitor_employee":
        return _EXHIBITOR_EVIDENCE
    if scope == "visitor":
        return _VISITOR_EVIDENCE & ~_EXHIBITOR_EVIDENCE
    # "all": events with known attendance evidence (a social signal alone is not attendance).
    return or_(_EXHIBITOR_EVIDENCE, _VISITOR_EVIDENCE)


async def events_of_person(
    session: AsyncSession, personnel_id: str, scope: AttendanceScope, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the person's events (newest first), each with its ``attendance_identity``."""
    person = await resolve_personnel(session, personnel_id)
    return await _events_page(session, person.id, scope, page, page_size)


async def _events_page(
    session: AsyncSession, personnel_pk: int, scope: AttendanceScope, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    conditions = [EventPersonnel.personnel_id == personnel_pk, _scope_condition(scope)]
    total = int(
        await session.scalar(select(func.count()).select_from(EventPersonnel).where(*conditions)) or 0
    )
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total
    rows = (
        await session.execute(
            select(Event, EventPersonnel.source_types, EventPersonnel.exhibitor_id)
            .join(EventPersonnel, EventPersonnel.event_id == Event.id)
            .where(*conditions)
            .order_by(Event.date_start.desc().nulls_last(), Event.id.desc())
            .limit(page_size)
            .offset(offset)
        )
    ).all()
    items = [
        {**event_item(event), "attendance_identity": attendance_identity(types, exhibitor_id)}
        for event, types, exhibitor_id in rows
    ]
    return items, total


# --- LinkedIn URL lookup ----------------------------------------------------------------------


def linkedin_path(url: str) -> str | None:
    """``/in/<slug>`` of a LinkedIn profile URL, ignoring scheme, ``www.``, case, query and trailing
    slash; ``None`` when the URL is not a LinkedIn URL."""
    value = url.strip().lower()
    for prefix in ("https://", "http://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    host, _, path = value.partition("/")
    host = host.removeprefix("www.")
    if not (host == "linkedin.com" or host.endswith(".linkedin.com")) or not path:
        return None
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return f"/{path}" if path else None


def linkedin_variants(path: str) -> list[str]:
    """The stored spellings of one profile URL, so the lookup is an indexed ``IN`` on the column."""
    return [
        f"{scheme}{host}{path}{slash}"
        for scheme in ("https://", "http://", "")
        for host in ("www.linkedin.com", "linkedin.com")
        for slash in ("", "/")
    ]


async def person_by_linkedin(session: AsyncSession, url: str) -> Personnel:
    path = linkedin_path(url)
    if path is None:
        raise NotFound("No personnel found for this LinkedIn URL")
    person = await session.scalar(
        select(Personnel)
        .where(Personnel.linkedin_url.in_(linkedin_variants(path)))
        .order_by(Personnel.id)
        .limit(1)
    )
    if person is None:
        raise NotFound("No personnel found for this LinkedIn URL")
    return person


async def events_by_linkedin(
    session: AsyncSession,
    account_id: int,
    url: str,
    scope: AttendanceScope,
    page: int,
    page_size: int,
) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """The person with this LinkedIn URL (their card) and a page of their events."""
    person = await person_by_linkedin(session, url)
    card = (await cards_for(session, account_id, [person]))[0]
    items, total = await _events_page(session, person.id, scope, page, page_size)
    return card, items, total
