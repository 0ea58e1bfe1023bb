"""Personnel: event-scoped list, profile, events of a person (by id, LinkedIn URL or paid by name),
and the LinkedIn-activity unlock."""

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
from showfloor.client.models import Contact, EventItem, LinkedinActivityResult, Page, PersonnelEvents
from showfloor.client.resources._base import get, parser, post


def list_personnel(
    ctx: Context,
    event_id: str,
    *,
    page: int = 1,
    page_size: int = 50,
    exhibitor_id: str | None = None,
    department: str | None = None,
    level: str | None = None,
    search_query: str | None = None,
    source_type: Sequence[str] | None = None,
) -> Op[Page[Contact]]:
    """One page of an event's people (a preview until the event is unlocked; see ``semantics``)."""
    params = {
        "event_id": event_id,
        "page": page,
        "pageSize": page_size,
        "exhibitor_id": exhibitor_id,
        "department": department,
        "level": level,
        "search_query": search_query,
        "sourceType": list(source_type) if source_type else None,
    }
    return (yield from call(ctx, get("/external/personnel/list", parser(Page[Contact]), params)))


def profile(ctx: Context, personnel_id: str) -> Op[Contact]:
    """One person's profile (email and phone only once unlocked)."""
    spec = get("/external/personnel/profile", parser(Contact), {"personnel_id": personnel_id})
    return (yield from call(ctx, spec))


def personnel_events(
    ctx: Context,
    personnel_id: str,
    *,
    attendance_scope: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Op[Page[EventItem]]:
    """One page of the events a person is linked to (free)."""
    params = {
        "personnel_id": personnel_id,
        "attendance_scope": attendance_scope,
        "page": page,
        "pageSize": page_size,
    }
    return (yield from call(ctx, get("/external/personnel/events", parser(Page[EventItem]), params)))


def events_by_linkedin(
    ctx: Context,
    linkedin_url: str,
    *,
    attendance_scope: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Op[PersonnelEvents]:
    """Events of the person behind a LinkedIn profile URL (free)."""
    params = {
        "linkedin_url": linkedin_url,
        "attendance_scope": attendance_scope,
        "page": page,
        "pageSize": page_size,
    }
    spec = get("/external/personnel/events/by-linkedin", parser(PersonnelEvents), params)
    return (yield from call(ctx, spec))


def events_by_name(
    ctx: Context,
    person_name: str,
    *,
    attendance_scope: str | None = None,
    date_start_from: str | None = None,
    date_start_to: str | None = None,
    page: int = 1,
    page_size: int = 20,
    confirm: _safety.Confirm | None = None,
    call_source: str | None = None,
) -> Op[Page[EventItem]]:
    """Paid GET (50 credits when it finds something). It carries an Idempotency-Key, but since the
    contract does not promise deduplication on a GET, it is retried only when the server surely did
    no work (connection refused, 429)."""
    yield from _safety.guard(
        ctx,
        confirm,
        _safety.SEARCH_PERSONNEL_EVENTS_BY_NAME,
        person_name=person_name,
        date_start_from=date_start_from,
        date_start_to=date_start_to,
    )
    params = {
        "person_name": person_name,
        "attendance_scope": attendance_scope,
        "date_start_from": date_start_from,
        "date_start_to": date_start_to,
        "page": page,
        "pageSize": page_size,
    }
    spec = get(
        "/external/personnel/events/by-name",
        parser(Page[EventItem]),
        params,
        paid=True,
        retry="refused_only",
        call_source=call_source,
    )
    return (yield from call(ctx, spec))


def unlock_linkedin_activity(
    ctx: Context,
    personnel_ids: Sequence[str],
    *,
    event_id: str | None = None,
    call_source: str | None = None,
) -> Op[LinkedinActivityResult]:
    """Start LinkedIn-activity analysis for people (no email-unlock charge)."""
    body = {"personnel_ids": list(personnel_ids), "event_id": event_id}
    path = "/external/personnel/unlock-linkedin-activity"
    spec = post(path, parser(LinkedinActivityResult), body, paid=True, call_source=call_source)
    return (yield from call(ctx, spec))


class Personnel(SyncResource):
    list = sync_method(list_personnel)
    iter = sync_pager(list_personnel)
    profile = sync_method(profile)
    events = sync_method(personnel_events)
    iter_events = sync_pager(personnel_events)
    events_by_linkedin = sync_method(events_by_linkedin)
    events_by_name = sync_method(events_by_name)
    unlock_linkedin_activity = sync_method(unlock_linkedin_activity)


class AsyncPersonnel(AsyncResource):
    list = async_method(list_personnel)
    iter = async_pager(list_personnel)
    profile = async_method(profile)
    events = async_method(personnel_events)
    iter_events = async_pager(personnel_events)
    events_by_linkedin = async_method(events_by_linkedin)
    events_by_name = async_method(events_by_name)
    unlock_linkedin_activity = async_method(unlock_linkedin_activity)
