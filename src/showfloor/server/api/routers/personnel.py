"""Personnel reads: ``GET /external/personnel/list``, ``/profile``, ``/events``, ``/events/by-linkedin``.

The paid routes under the same prefix (``/events/by-name``, ``/unlock-linkedin-activity``) live in
their own router.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from showfloor.server.api.deps import DB, AppSettings, ReadPrincipal, ReadSession
from showfloor.server.api.openapi import error_responses
from showfloor.server.api.pagination import PageQuery, envelope
from showfloor.server.catalog import personnel as service
from showfloor.server.catalog.serializers import SOURCE_TYPES
from showfloor.server.errors import InvalidRequest

router = APIRouter(prefix="/external/personnel", tags=["personnel"])

PersonnelId = Annotated[str, Query(min_length=1, max_length=20, pattern=r"^[0-9]+$")]
Scope = Annotated[Literal["all", "exhibitor_employee", "visitor"], Query()]
Page = PageQuery
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=100)]


def parse_source_types(values: list[str] | None) -> tuple[str, ...]:
    """``sourceType`` given repeated and/or comma-separated; blanks ignored, unknown labels rejected."""
    labels: list[str] = []
    for value in values or []:
        for part in value.split(","):
            label = part.strip()
            if not label:
                continue
            if label not in SOURCE_TYPES:
                raise InvalidRequest(
                    f"Invalid sourceType {label!r}; expected one of {', '.join(SOURCE_TYPES)}",
                    field="sourceType",
                )
            if label not in labels:
                labels.append(label)
    return tuple(labels)


@router.get(
    "/list",
    summary="People of one event (preview-limited while the event is locked)",
    responses=error_responses(404),
)
async def list_personnel(
    principal: ReadPrincipal,
    session: ReadSession,
    db: DB,
    settings: AppSettings,
    event_id: Annotated[str, Query(min_length=1, max_length=100)],
    page: Page = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=50)] = 50,
    exhibitor_id: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    level: Annotated[str | None, Query(max_length=50)] = None,
    search_query: Annotated[str | None, Query(max_length=200)] = None,
    source_type: Annotated[list[str] | None, Query(alias="sourceType", max_length=200)] = None,
) -> dict[str, Any]:
    filters = service.PersonnelFilters(
        exhibitor_id=int(exhibitor_id) if exhibitor_id else None,
        department=department.strip() or None if department else None,
        level=level.strip() or None if level else None,
        search_query=search_query.strip() or None if search_query else None,
        source_types=parse_source_types(source_type),
    )
    result = await service.list_event_personnel(
        session,
        principal.account_id,
        principal.plan_id,
        event_id,
        filters,
        page,
        page_size,
        preview_limit=settings.preview_limit,
        sqlite=db.is_sqlite,
    )
    return {**result.envelope, "semantics": result.semantics}


@router.get("/profile", summary="One person", responses=error_responses(404))
async def personnel_profile(
    principal: ReadPrincipal, session: ReadSession, personnel_id: PersonnelId
) -> dict[str, Any]:
    return await service.personnel_profile(session, principal.account_id, personnel_id)


@router.get(
    "/events",
    summary="Events of one person, with attendance identities",
    responses=error_responses(404),
)
async def personnel_events(
    principal: ReadPrincipal,
    session: ReadSession,
    personnel_id: PersonnelId,
    attendance_scope: Scope = "all",
    page: Page = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    items, total = await service.events_of_person(session, personnel_id, attendance_scope, page, page_size)
    return envelope(items, total, page, page_size)


@router.get(
    "/events/by-linkedin",
    summary="Resolve a LinkedIn URL to a person and list their events",
    responses=error_responses(404),
)
async def personnel_events_by_linkedin(
    principal: ReadPrincipal,
    session: ReadSession,
    linkedin_url: Annotated[str, Query(min_length=1, max_length=500)],
    attendance_scope: Scope = "all",
    page: Page = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    person, items, total = await service.events_by_linkedin(
        session, principal.account_id, linkedin_url, attendance_scope, page, page_size
    )
    return {"personnel": person, "events": envelope(items, total, page, page_size)}
