"""Events: catalogue, detail, brief, and the three paid unlock layers."""

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
from showfloor.client.models import (
    EventBrief,
    EventDetail,
    EventItem,
    EventUnlockResult,
    FullAccessUnlockResult,
    Page,
    VisitorUnlockResult,
)
from showfloor.client.resources._base import get, parser, post, segment


def list_events(
    ctx: Context,
    *,
    page: int = 1,
    page_size: int = 20,
    keyword: str | None = None,
    country: str | None = None,
    city: str | None = None,
    date_start_from: str | None = None,
    date_start_to: str | None = None,
    event_type: Sequence[str] | None = None,
    quality: Sequence[str] | None = None,
    sponsor_match_starred: int | None = None,
    has_visitors: int | None = None,
) -> Op[Page[EventItem]]:
    """One page of the event catalogue, filtered by keyword, place, dates, type and quality (free)."""
    params = {
        "page": page,
        "pageSize": page_size,
        "keyword": keyword,
        "country": country,
        "city": city,
        "date_start_from": date_start_from,
        "date_start_to": date_start_to,
        "event_type": list(event_type) if event_type else None,
        "quality": list(quality) if quality else None,
        "sponsor_match_starred": sponsor_match_starred,
        "has_visitors": has_visitors,
    }
    return (yield from call(ctx, get("/external/events/list", parser(Page[EventItem]), params)))


def get_event(ctx: Context, event_id: str) -> Op[EventDetail]:
    """One event's detail by id or public eventId (free)."""
    spec = get(f"/external/events/{segment(event_id)}", parser(EventDetail, "event"))
    return (yield from call(ctx, spec))


def brief(ctx: Context, event_id: str) -> Op[EventBrief]:
    """An event's brief: the event and a summary of its exhibitors and people (free)."""
    spec = get("/external/events/brief", parser(EventBrief), {"event_id": event_id})
    return (yield from call(ctx, spec))


def unlock(
    ctx: Context, event_id: str, *, confirm: _safety.Confirm | None = None, call_source: str | None = None
) -> Op[EventUnlockResult]:
    """Unlock an event's full exhibitor and personnel lists (paid once per account; see ``quote``)."""
    yield from _safety.guard(ctx, confirm, _safety.UNLOCK_EVENT, event_id=event_id)
    path = f"/external/events/{segment(event_id)}/unlock"
    spec = post(path, parser(EventUnlockResult), paid=True, call_source=call_source)
    return (yield from call(ctx, spec))


def unlock_visitors(
    ctx: Context, event_id: str, *, confirm: _safety.Confirm | None = None, call_source: str | None = None
) -> Op[VisitorUnlockResult]:
    """Unlock an event's visitor layer (paid; needs the event unlocked first)."""
    yield from _safety.guard(ctx, confirm, _safety.UNLOCK_VISITORS, event_id=event_id)
    path = f"/external/events/{segment(event_id)}/visitors/unlock"
    spec = post(path, parser(VisitorUnlockResult), paid=True, call_source=call_source)
    return (yield from call(ctx, spec))


def unlock_full_access(
    ctx: Context, event_id: str, *, confirm: _safety.Confirm | None = None, call_source: str | None = None
) -> Op[FullAccessUnlockResult]:
    """Unlock the event and its visitor layer in one charge (paid)."""
    yield from _safety.guard(ctx, confirm, _safety.UNLOCK_FULL_ACCESS, event_id=event_id)
    path = f"/external/events/{segment(event_id)}/full-access/unlock"
    spec = post(path, parser(FullAccessUnlockResult), paid=True, call_source=call_source)
    return (yield from call(ctx, spec))


class Events(SyncResource):
    list = sync_method(list_events)
    iter = sync_pager(list_events)
    get = sync_method(get_event)
    brief = sync_method(brief)
    unlock = sync_method(unlock)
    unlock_visitors = sync_method(unlock_visitors)
    unlock_full_access = sync_method(unlock_full_access)


class AsyncEvents(AsyncResource):
    list = async_method(list_events)
    iter = async_pager(list_events)
    get = async_method(get_event)
    brief = async_method(brief)
    unlock = async_method(unlock)
    unlock_visitors = async_method(unlock_visitors)
    unlock_full_access = async_method(unlock_full_access)
