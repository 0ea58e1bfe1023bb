"""Events: browse and search the catalogue, one event with its people (the API's preview rules), and
unlocking an event the credit-safe way: quote (the API's precheck) -> confirm -> the API's unlock."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote as url_quote

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access import unlock as event_access
from showfloor.server.catalog import events
from showfloor.server.catalog.filters import parse_day
from showfloor.server.catalog.personnel import PersonnelFilters, list_event_personnel
from showfloor.server.config import Settings
from showfloor.server.console.deps import CheckedUser, User
from showfloor.server.console.paid import CONSOLE_CALL_SOURCE, new_idempotency_key, run_console_paid
from showfloor.server.console.sessions import SignedIn
from showfloor.server.console.views import layers_by_event
from showfloor.server.console.web import ConsoleRoute, read_form, redirect, render
from showfloor.server.db.uow import Database
from showfloor.server.errors import NotFound
from showfloor.server.paid.decision import ALREADY_UNLOCKED, Caller
from showfloor.server.paid.precheck import precheck

router = APIRouter(prefix="/console/events", route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE = 25
PEOPLE_PAGE_SIZE = 25
EventRef = Annotated[str, Path(min_length=1, max_length=100)]
Text = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class UnlockKind:
    """One way to unlock an event: the precheck action that quotes it and the API route that runs it."""

    layer: str
    title: str
    action_type: str
    api_suffix: str
    run: Callable[[AsyncSession, Caller, str], Awaitable[dict[str, Any]]]
    gives: str


UNLOCKS = {
    "base": UnlockKind(
        "base",
        "Unlock event",
        "unlock_event_contacts",
        "unlock",
        event_access.unlock_event,
        "every exhibitor and every person of the event (beyond the preview), for this account, for good",
    ),
    "visitors": UnlockKind(
        "visitors",
        "Unlock visitors",
        "unlock_event_visitors",
        "visitors/unlock",
        event_access.unlock_visitors,
        "the event's registered visitors in its people list",
    ),
}

NOTICES = {
    "unlocked": "Unlocked. {charged} credits were charged.",
    "already": "Already unlocked: nothing was charged.",
    "inprogress": "That unlock was already submitted; this page shows its result.",
}


async def _quote(
    session: AsyncSession, user: SignedIn, settings: Settings, kind: UnlockKind, ref: str
) -> Any:
    return await precheck(
        session,
        user.account_id,
        kind.action_type,
        {"event_id": ref},
        CONSOLE_CALL_SOURCE,
        settings.preview_limit,
    )


@router.get("")
async def list_page(
    request: Request,
    user: User,
    q: Text = "",
    country: Text = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    filters = events.EventFilters(
        keyword=q or None,
        country=country or None,
        date_start_from=parse_day(date_from or None, "date_from"),
        date_start_to=parse_day(date_to or None, "date_to"),
    )
    db: Database = request.app.state.db
    async with db.read() as session:
        items, total = await events.list_events(session, filters, page, PAGE_SIZE)
        layers = await layers_by_event(session, user.account_id, [int(item["id"]) for item in items])
    query = "&".join(
        f"{name}={url_quote(value)}"
        for name, value in (("q", q), ("country", country), ("date_from", date_from), ("date_to", date_to))
        if value
    )
    return render(
        request,
        "events.html",
        {
            "active": "events",
            "items": items,
            "layers": layers,
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / PAGE_SIZE)),
            "filters": {"q": q, "country": country, "date_from": date_from, "date_to": date_to},
            "query": query,
        },
    )


@router.get("/{ref}")
async def event_page(
    request: Request,
    user: User,
    ref: EventRef,
    q: Text = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    notice: Annotated[str, Query(max_length=20)] = "",
    charged: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    async with db.read() as session:
        detail = (await events.event_detail(session, ref))["event"]
        quotes = {layer: await _quote(session, user, settings, kind, ref) for layer, kind in UNLOCKS.items()}
        people = await list_event_personnel(
            session,
            user.account_id,
            user.plan_id,
            ref,
            PersonnelFilters(search_query=q.strip() or None),
            page,
            PEOPLE_PAGE_SIZE,
            preview_limit=settings.preview_limit,
            sqlite=db.is_sqlite,
        )
    message = NOTICES.get(notice, "").format(charged=f"{charged:,}") or None
    base_unlocked = quotes["base"]["reason_code"] == ALREADY_UNLOCKED
    return render(
        request,
        "event.html",
        {
            "active": "events",
            "event": detail,
            "ref": ref,
            "base_unlocked": base_unlocked,
            "offers": _offers(quotes, base_unlocked, bool(detail["hasVisitors"])),
            "people": people.envelope,
            "semantics": people.semantics,
            "q": q,
            "page": page,
            "notice": message,
        },
    )


def _offers(quotes: dict[str, Any], base_unlocked: bool, has_visitors: bool) -> list[tuple[UnlockKind, Any]]:
    """The unlock to offer next: the event itself, then (with visitor data) its visitors."""
    if not base_unlocked:
        return [(UNLOCKS["base"], quotes["base"])]
    if has_visitors and quotes["visitors"]["reason_code"] != ALREADY_UNLOCKED:
        return [(UNLOCKS["visitors"], quotes["visitors"])]
    return []


def _kind(layer: str) -> UnlockKind:
    kind = UNLOCKS.get(layer)
    if kind is None:
        raise NotFound(f"Unknown unlock: {layer}")
    return kind


async def _confirm_page(
    request: Request,
    user: SignedIn,
    ref: str,
    kind: UnlockKind,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    async with db.read() as session:
        detail = (await events.event_detail(session, ref))["event"]
        quote = await _quote(session, user, settings, kind, ref)
    return render(
        request,
        "event_unlock.html",
        {
            "active": "events",
            "event": detail,
            "ref": ref,
            "kind": kind,
            "quote": quote,
            "idempotency_key": new_idempotency_key(),
            "error": error,
        },
        status,
    )


@router.get("/{ref}/unlock/{layer}")
async def confirm_unlock(
    request: Request, user: User, ref: EventRef, layer: Annotated[str, Path(max_length=20)]
) -> Response:
    return await _confirm_page(request, user, ref, _kind(layer))


@router.post("/{ref}/unlock/{layer}")
async def unlock(
    request: Request, user: CheckedUser, ref: EventRef, layer: Annotated[str, Path(max_length=20)]
) -> Response:
    kind = _kind(layer)
    form = await read_form(request)
    outcome = await run_console_paid(
        request,
        user,
        api_path=f"/external/events/{ref}/{kind.api_suffix}",
        body=None,
        idempotency_key=form.get("idempotency_key"),
        work_for=lambda caller: lambda session: kind.run(session, caller, ref),
    )
    back = f"/console/events/{url_quote(ref, safe='')}"
    if outcome.ok:
        if outcome.body.get("alreadyUnlocked"):
            return redirect(request, f"{back}?notice=already")
        charged = outcome.body.get("creditsUsed", outcome.body.get("creditsSpent", 0))
        return redirect(request, f"{back}?notice=unlocked&charged={int(charged or 0)}")
    if outcome.error_code == "IDEMPOTENCY_KEY_IN_USE":
        return redirect(request, f"{back}?notice=inprogress")
    status = outcome.status if outcome.status >= 400 else 400
    return await _confirm_page(request, user, ref, kind, error=outcome.message, status=status)
