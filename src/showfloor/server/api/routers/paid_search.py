"""Paid reverse lookups and the LinkedIn activity unlock.

``POST /external/exhibitors/search-by-company-name``, ``POST /external/exhibitors/search-events``,
``GET /external/personnel/events/by-name``, ``POST /external/personnel/unlock-linkedin-activity``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from showfloor.server.api.deps import DB, AppSettings
from showfloor.server.api.openapi import business_error_response, error_responses
from showfloor.server.api.pagination import PageQuery, page_field
from showfloor.server.api.paid import PaidContext, run_paid
from showfloor.server.errors import InvalidRequest
from showfloor.server.lookups import service as lookups
from showfloor.server.paid.concurrency import EXHIBITOR_EVENT_SEARCH, PERSONNEL_EVENTS_BY_NAME
from showfloor.server.paid.errors import check_selection
from showfloor.server.unlocks import linkedin

router = APIRouter(tags=["paid lookups"])


class CompanyNameBody(BaseModel):
    company_name: str = Field(min_length=1, max_length=200)
    page: int = page_field()
    pageSize: int = Field(default=20, ge=1, le=100)


class SearchEventsBody(CompanyNameBody):
    sponsor_match_starred: Literal[0, 1] | None = None
    attendance_scope: Literal["all", "exhibitor", "visitor"] = "all"


class LinkedinActivityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    personnel_ids: list[str] = Field(min_length=1)
    event_id: str | None = Field(default=None, min_length=1, max_length=20)


def _name(value: str) -> str:
    if not value.strip():
        raise InvalidRequest("company_name must not be blank", field="company_name")
    return value.strip()


@router.post(
    "/external/exhibitors/search-by-company-name",
    status_code=201,
    summary="Exhibitors by company name",
    responses=error_responses(402),
)
async def search_by_company_name(
    body: CompanyNameBody, paid: PaidContext, db: DB, settings: AppSettings
) -> JSONResponse:
    name = _name(body.company_name)
    return await run_paid(
        paid, db, settings, lambda s: lookups.search_companies(s, paid.caller, name, body.page, body.pageSize)
    )


@router.post(
    "/external/exhibitors/search-events",
    status_code=201,
    summary="Events of a company name",
    responses={**error_responses(402), **business_error_response()},
)
async def search_events(
    body: SearchEventsBody, paid: PaidContext, db: DB, settings: AppSettings
) -> JSONResponse:
    name = _name(body.company_name)
    return await run_paid(
        paid,
        db,
        settings,
        lambda s: lookups.search_company_events(
            s,
            paid.caller,
            name,
            body.attendance_scope,
            body.sponsor_match_starred,
            body.page,
            body.pageSize,
        ),
        limit=EXHIBITOR_EVENT_SEARCH,
    )


@router.get(
    "/external/personnel/events/by-name",
    summary="Events of people with an exact full name (HTTP 200 also carries business errors)",
    responses=error_responses(402, 403),
)
async def events_by_name(
    paid: PaidContext,
    db: DB,
    settings: AppSettings,
    person_name: Annotated[str, Query(min_length=1, max_length=200)],
    attendance_scope: Literal["all", "exhibitor_employee", "visitor"] = "all",
    date_start_from: date | None = None,
    date_start_to: date | None = None,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 20,
) -> JSONResponse:
    if not person_name.strip():
        raise InvalidRequest("person_name must not be blank", field="person_name")
    # Default lower bound: today (llms-full.txt; see docs/compatibility.md).
    date_from = date_start_from or datetime.now(UTC).date()
    return await run_paid(
        paid,
        db,
        settings,
        lambda s: lookups.events_by_person_name(
            s, paid.caller, person_name, attendance_scope, date_from, date_start_to, page, page_size
        ),
        status_code=200,
        limit=PERSONNEL_EVENTS_BY_NAME,
    )


@router.post(
    "/external/personnel/unlock-linkedin-activity",
    status_code=201,
    summary="Start LinkedIn activity",
    responses=error_responses(404, 422),
)
async def unlock_linkedin_activity(
    body: LinkedinActivityBody, paid: PaidContext, db: DB, settings: AppSettings
) -> JSONResponse:
    check_selection(len(body.personnel_ids))  # before any database work
    return await run_paid(
        paid,
        db,
        settings,
        lambda s: linkedin.unlock_linkedin_activity(s, paid.caller, body.personnel_ids, body.event_id),
    )
