"""Exhibitor reads: event list (preview-limited), profile, related events, contextual search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette import status

from showfloor.server.api.deps import AppSettings, ReadPrincipal, ReadSession
from showfloor.server.api.openapi import error_responses
from showfloor.server.api.pagination import PageQuery, envelope, page_field
from showfloor.server.catalog import exhibitor_lookup
from showfloor.server.catalog.exhibitor_lookup import AttendanceScope
from showfloor.server.catalog.exhibitors import ExhibitorFilters, list_event_exhibitors
from showfloor.server.catalog.filters import multi_values

router = APIRouter(prefix="/external/exhibitors", tags=["exhibitors"])

PageParam = PageQuery
PageSizeParam = Annotated[int, Query(alias="pageSize", ge=1, le=100)]
ExhibitorRef = Annotated[str, Query(min_length=1, max_length=20)]


# Repeated (``a=x&a=y``), bracketed (``a[]=x``) and CSV (``a=x,y``) forms are all accepted.
Category = Annotated[list[str] | None, Query(alias="category")]
CategoryB = Annotated[list[str] | None, Query(alias="category[]")]
Industry = Annotated[list[str] | None, Query(alias="industry")]
IndustryB = Annotated[list[str] | None, Query(alias="industry[]")]
JobTitle = Annotated[list[str] | None, Query(alias="jobTitle")]
JobTitleB = Annotated[list[str] | None, Query(alias="jobTitle[]")]
Level = Annotated[list[str] | None, Query(alias="managementLevel")]
LevelB = Annotated[list[str] | None, Query(alias="managementLevel[]")]
Department = Annotated[list[str] | None, Query(alias="department")]
DepartmentB = Annotated[list[str] | None, Query(alias="department[]")]


@router.get("/list", summary="List event exhibitors", responses=error_responses(404))
async def list_exhibitors(
    principal: ReadPrincipal,
    session: ReadSession,
    settings: AppSettings,
    event_id: Annotated[str, Query(min_length=1, max_length=100)],
    page: PageParam = 1,
    page_size: PageSizeParam = 20,
    keyword: Annotated[str | None, Query(max_length=200)] = None,
    country: Annotated[str | None, Query(max_length=100)] = None,
    category: Category = None,
    category_b: CategoryB = None,
    industry: Industry = None,
    industry_b: IndustryB = None,
    job_title: JobTitle = None,
    job_title_b: JobTitleB = None,
    management_level: Level = None,
    management_level_b: LevelB = None,
    department: Department = None,
    department_b: DepartmentB = None,
    personnel_limit: Annotated[int, Query(alias="personnelLimit", ge=0, le=50)] = 0,
) -> dict[str, Any]:
    filters = ExhibitorFilters(
        keyword=keyword,
        country=country,
        categories=multi_values(category, category_b),
        industries=multi_values(industry, industry_b),
        job_titles=multi_values(job_title, job_title_b),
        management_levels=multi_values(management_level, management_level_b),
        departments=multi_values(department, department_b),
    )
    return await list_event_exhibitors(
        session,
        principal.account_id,
        principal.plan_id,
        event_id,
        filters,
        page,
        page_size,
        preview_limit=settings.preview_limit,
        personnel_limit=personnel_limit,
    )


@router.get("/profile", summary="Get exhibitor profile", responses=error_responses(404))
async def exhibitor_profile(
    principal: ReadPrincipal, session: ReadSession, exhibitor_id: ExhibitorRef
) -> dict[str, Any]:
    return await exhibitor_lookup.exhibitor_profile(session, exhibitor_id)


@router.get("/events", summary="List exhibitor related events", responses=error_responses(404))
async def exhibitor_events(
    principal: ReadPrincipal,
    session: ReadSession,
    exhibitor_id: ExhibitorRef,
    attendance_scope: AttendanceScope = "all",
    page: PageParam = 1,
    page_size: PageSizeParam = 20,
) -> dict[str, Any]:
    items, total = await exhibitor_lookup.exhibitor_events(
        session, exhibitor_id, attendance_scope, page, page_size
    )
    return envelope(items, total, page, page_size)


class ExhibitorSearchBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    company_url: str | None = Field(default=None, max_length=500)
    target_audience: str | None = Field(default=None, max_length=2000)
    page: int = page_field()
    pageSize: int = Field(default=20, ge=1, le=100)


@router.post("/search", status_code=status.HTTP_201_CREATED, summary="Search exhibitors by company context")
async def search_exhibitors(
    principal: ReadPrincipal, session: ReadSession, body: ExhibitorSearchBody
) -> dict[str, Any]:
    items, total = await exhibitor_lookup.search_exhibitors(
        session, body.company_url, body.target_audience, body.page, body.pageSize
    )
    return envelope(items, total, body.page, body.pageSize)
