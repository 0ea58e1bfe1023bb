"""``/external/exhibitors/list``: one event's exhibitors, preview-limited while the event is locked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access import preview
from showfloor.server.access.service import EventAccess, unlocked_contact_values
from showfloor.server.catalog import serializers
from showfloor.server.catalog.filters import id_in, is_sqlite, json_array_has_any, lowered
from showfloor.server.catalog.identifiers import resolve_event_with_access
from showfloor.server.catalog.paging import page_with_total
from showfloor.server.catalog.search import keyword_condition
from showfloor.server.models.catalog import Event, EventExhibitor, EventPersonnel, Exhibitor, Personnel

ACTION_TYPE = "unlock_event_exhibitors"


@dataclass(frozen=True)
class ExhibitorFilters:
    keyword: str | None = None
    country: str | None = None
    categories: Sequence[str] = field(default_factory=list)
    industries: Sequence[str] = field(default_factory=list)
    job_titles: Sequence[str] = field(default_factory=list)
    management_levels: Sequence[str] = field(default_factory=list)
    departments: Sequence[str] = field(default_factory=list)

    @property
    def any_personnel(self) -> bool:
        return bool(self.job_titles or self.management_levels or self.departments)

    @property
    def any(self) -> bool:
        return bool(
            (self.keyword and self.keyword.strip())
            or (self.country and self.country.strip())
            or self.categories
            or self.industries
            or self.any_personnel
        )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def personnel_conditions(
    filters: ExhibitorFilters, event: Event, access: EventAccess
) -> list[ColumnElement[bool]]:
    """Attendance rows at ``event`` matching the personnel filters (visitor-only hidden unless unlocked)."""
    conditions: list[ColumnElement[bool]] = [EventPersonnel.event_id == event.id]
    if access.hides_visitor_only:
        conditions.append(EventPersonnel.is_visitor_only.is_(False))
    if filters.job_titles:
        conditions.append(
            or_(
                *(
                    func.lower(Personnel.title).like(f"%{_escape_like(t.lower())}%", escape="\\")
                    for t in filters.job_titles
                )
            )
        )
    if filters.management_levels:
        conditions.append(func.lower(Personnel.seniority_level).in_(lowered(filters.management_levels)))
    if filters.departments:
        conditions.append(func.lower(Personnel.department).in_(lowered(filters.departments)))
    return conditions


def exhibitor_conditions(
    filters: ExhibitorFilters, event: Event, access: EventAccess, *, sqlite: bool
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [EventExhibitor.event_id == event.id]
    if filters.keyword and filters.keyword.strip():
        conditions.append(keyword_condition("exhibitors", filters.keyword, sqlite=sqlite))
    if filters.country and filters.country.strip():
        conditions.append(func.lower(Exhibitor.country) == filters.country.strip().lower())
    if filters.industries:
        conditions.append(func.lower(Exhibitor.industry).in_(lowered(filters.industries)))
    if filters.categories:
        conditions.append(json_array_has_any(Exhibitor.categories, filters.categories, sqlite=sqlite))
    if filters.any_personnel:
        # Job-title terms are matched only inside this event's attendance rows of the exhibitor.
        conditions.append(
            exists(
                select(1)
                .select_from(EventPersonnel)
                .join(Personnel, Personnel.id == EventPersonnel.personnel_id)
                .where(
                    EventPersonnel.exhibitor_id == Exhibitor.id, *personnel_conditions(filters, event, access)
                )
            )
        )
    return conditions


async def _nested_personnel(
    session: AsyncSession,
    account_id: int,
    event: Event,
    exhibitor_ids: list[int],
    filters: ExhibitorFilters,
    access: EventAccess,
    limit: int,
) -> dict[int, list[dict[str, Any]]]:
    """Up to ``limit`` people per exhibitor (best effort, in attendance order), as ContactItems."""
    result: dict[int, list[dict[str, Any]]] = {pk: [] for pk in exhibitor_ids}
    if limit <= 0 or not exhibitor_ids:
        return result
    ranked = (
        select(
            EventPersonnel.exhibitor_id.label("exhibitor_id"),
            EventPersonnel.id.label("attendance_id"),
            func.row_number()
            .over(partition_by=EventPersonnel.exhibitor_id, order_by=(EventPersonnel.rank, EventPersonnel.id))
            .label("n"),
        )
        .join(Personnel, Personnel.id == EventPersonnel.personnel_id)
        .where(
            id_in(EventPersonnel.exhibitor_id, exhibitor_ids, sqlite=is_sqlite(session)),
            *personnel_conditions(filters, event, access),
        )
        .subquery()
    )
    rows = (
        await session.execute(
            select(ranked.c.exhibitor_id, EventPersonnel, Personnel)
            .join(EventPersonnel, EventPersonnel.id == ranked.c.attendance_id)
            .join(Personnel, Personnel.id == EventPersonnel.personnel_id)
            .where(ranked.c.n <= limit)
            .order_by(ranked.c.exhibitor_id, ranked.c.n)
        )
    ).all()
    person_ids = [person.id for _, _, person in rows]
    unlocked = await unlocked_contact_values(session, account_id, person_ids)
    for exhibitor_id, attendance, person in rows:
        values = unlocked.get(person.id, {})
        result[int(exhibitor_id)].append(
            serializers.contact_item(person, attendance, values.get("email"), values.get("phone"))
        )
    return result


async def list_event_exhibitors(
    session: AsyncSession,
    account_id: int,
    plan_id: int | None,
    event_ref: str,
    filters: ExhibitorFilters,
    page: int,
    page_size: int,
    *,
    preview_limit: int,
    personnel_limit: int = 0,
) -> dict[str, Any]:
    event, access = await resolve_event_with_access(session, event_ref, account_id, plan_id)
    sqlite = session.get_bind().dialect.name == "sqlite"
    conditions = exhibitor_conditions(filters, event, access, sqlite=sqlite)
    # One statement gives the page and (window count) the matching total; the preview window, which
    # needs that total, then trims the page. Unfiltered, the total is the event row's stored count.
    page_query = (
        select(Exhibitor)
        .join(EventExhibitor, EventExhibitor.exhibitor_id == Exhibitor.id)
        .where(*conditions)
        .order_by(EventExhibitor.rank, EventExhibitor.id)
    )
    count_query = select(func.count()).select_from(
        select(EventExhibitor.exhibitor_id)
        .join(Exhibitor, Exhibitor.id == EventExhibitor.exhibitor_id)
        .where(*conditions)
        .subquery()
    )
    rows, actual_total = await page_with_total(
        session,
        page_query,
        count_query,
        limit=page_size,
        offset=(page - 1) * page_size,
        known_total=None if filters.any else event.exhibitor_count,
    )
    window = preview.window_for(access, actual_total, page, page_size, preview_limit)
    items: list[dict[str, Any]] = []
    if window.limit > 0:
        exhibitors = [row[0] for row in rows[: window.limit]]
        nested = await _nested_personnel(
            session, account_id, event, [e.id for e in exhibitors], filters, access, personnel_limit
        )
        items = [
            serializers.exhibitor_item(
                e,
                [event.event_id],
                personnel=nested[e.id] if personnel_limit > 0 else None,
            )
            for e in exhibitors
        ]
    return {
        **preview.page_envelope(items, window),
        "recommendationProcessing": False,
        "recommendationProcessingFeature": "none",
        "semantics": preview.semantics(
            window, noun="exhibitors", action_type=ACTION_TYPE, credits=access.unlock_credits
        ),
    }
