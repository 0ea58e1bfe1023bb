"""Exhibitors: event-scoped list, profile, events of an exhibitor, and the searches (two are paid)."""

from __future__ import annotations

from collections.abc import Sequence

from showfloor.client import _safety
from showfloor.client._methods import (
    AsyncResource,
    SyncResource,
    async_method,
    async_pager,
    sync_method,
    sync_pager,
)
from showfloor.client._transport import Context, Op, call
from showfloor.client.models import EventItem, Exhibitor, ExhibitorProfile, Page
from showfloor.client.resources._base import get, parser, post


def _many(values: Sequence[str] | None) -> list[str] | None:
    return list(values) if values else None


def list_exhibitors(
    ctx: Context,
    event_id: str,
    *,
    page: int = 1,
    page_size: int = 20,
    keyword: str | None = None,
    country: str | None = None,
    category: Sequence[str] | None = None,
    industry: Sequence[str] | None = None,
    job_title: Sequence[str] | None = None,
    management_level: Sequence[str] | None = None,
    department: Sequence[str] | None = None,
    personnel_limit: int | None = None,
) -> Op[Page[Exhibitor]]:
    """One page of an event's exhibitors (a preview until the event is unlocked; see ``semantics``)."""
    params = {
        "event_id": event_id,
        "page": page,
        "pageSize": page_size,
        "keyword": keyword,
        "country": country,
        "category": _many(category),
        "industry": _many(industry),
        "jobTitle": _many(job_title),
        "managementLevel": _many(management_level),
        "department": _many(department),
        "personnelLimit": personnel_limit,
    }
    return (yield from call(ctx, get("/external/exhibitors/list", parser(Page[Exhibitor]), params)))


def profile(ctx: Context, exhibitor_id: str) -> Op[ExhibitorProfile]:
    """One exhibitor's profile and the events it exhibits at (free)."""
    spec = get("/external/exhibitors/profile", parser(ExhibitorProfile), {"exhibitor_id": exhibitor_id})
    return (yield from call(ctx, spec))


def exhibitor_events(
    ctx: Context,
    exhibitor_id: str,
    *,
    attendance_scope: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Op[Page[EventItem]]:
    """One page of the events an exhibitor takes part in (free)."""
    params = {
        "exhibitor_id": exhibitor_id,
        "attendance_scope": attendance_scope,
        "page": page,
        "pageSize": page_size,
    }
    return (yield from call(ctx, get("/external/exhibitors/events", parser(Page[EventItem]), params)))


def search(
    ctx: Context,
    *,
    company_url: str | None = None,
    target_audience: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Op[Page[Exhibitor]]:
    """Contextual match (free)."""
    body = {
        "company_url": company_url,
        "target_audience": target_audience,
        "page": page,
        "pageSize": page_size,
    }
    return (yield from call(ctx, post("/external/exhibitors/search", parser(Page[Exhibitor]), body)))


def search_by_company_name(
    ctx: Context,
    company_name: str,
    *,
    page: int = 1,
    page_size: int = 20,
    confirm: _safety.Confirm | None = None,
    call_source: str | None = None,
) -> Op[Page[Exhibitor]]:
    """Paid (50 credits when it finds something)."""
    yield from _safety.guard(ctx, confirm, _safety.SEARCH_COMPANY, company_name=company_name)
    body = {"company_name": company_name, "page": page, "pageSize": page_size}
    path = "/external/exhibitors/search-by-company-name"
    return (
        yield from call(ctx, post(path, parser(Page[Exhibitor]), body, paid=True, call_source=call_source))
    )


def search_events(
    ctx: Context,
    company_name: str,
    *,
    sponsor_match_starred: int | None = None,
    attendance_scope: str | None = None,
    page: int = 1,
    page_size: int = 20,
    confirm: _safety.Confirm | None = None,
    call_source: str | None = None,
) -> Op[Page[EventItem]]:
    """Paid reverse lookup: events where a company exhibits (50 credits when it finds something)."""
    yield from _safety.guard(ctx, confirm, _safety.SEARCH_EXHIBITOR_EVENTS, company_name=company_name)
    body = {
        "company_name": company_name,
        "sponsor_match_starred": sponsor_match_starred,
        "attendance_scope": attendance_scope,
        "page": page,
        "pageSize": page_size,
    }
    path = "/external/exhibitors/search-events"
    return (
        yield from call(ctx, post(path, parser(Page[EventItem]), body, paid=True, call_source=call_source))
    )


class Exhibitors(SyncResource):
    list = sync_method(list_exhibitors)
    iter = sync_pager(list_exhibitors)
    profile = sync_method(profile)
    events = sync_method(exhibitor_events)
    iter_events = sync_pager(exhibitor_events)
    search = sync_method(search)
    search_by_company_name = sync_method(search_by_company_name)
    search_events = sync_method(search_events)


class AsyncExhibitors(AsyncResource):
    list = async_method(list_exhibitors)
    iter = async_pager(list_exhibitors)
    profile = async_method(profile)
    events = async_method(exhibitor_events)
    iter_events = async_pager(exhibitor_events)
    search = async_method(search)
    search_by_company_name = async_method(search_by_company_name)
    search_events = async_method(search_events)
