"""Webhooks: the account's endpoints (create with a URL and event types, the secret shown once; disable,
enable, rotate the secret, delete) and each endpoint's delivery log with redelivery.

Every action calls the same service as ``/external/webhooks`` (``notify.endpoints``): the URL rules,
the endpoint limit, the rotation grace and the redelivery rule live there only. Another account's
endpoint or delivery is 404, as on the API.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from showfloor.server.api.errors import status_for
from showfloor.server.config import Settings
from showfloor.server.console.deps import CheckedUser, User
from showfloor.server.console.sessions import SignedIn
from showfloor.server.console.web import ConsoleRoute, read_form, redirect, render
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError, InvalidRequest
from showfloor.server.notify import endpoints
from showfloor.server.notify.events import EVENT_TYPES

router = APIRouter(prefix="/console/webhooks", route_class=ConsoleRoute, include_in_schema=False)

EndpointId = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[0-9]+$")]
DeliveryId = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[0-9]+$")]
DeliveryState = Literal["pending", "delivered", "failed"]
PAGE_SIZE = 25
LIST_SIZE = endpoints.MAX_ENDPOINTS  # every endpoint of the account fits on one page
MAX_DESCRIPTION = 200
NOTICES = {
    "disabled": "The endpoint is disabled: nothing is sent to it until you enable it again.",
    "enabled": "The endpoint is enabled: pending deliveries resume.",
    "deleted": "The endpoint and its delivery log are deleted.",
    "redelivered": "The delivery is queued again, with a new 24 hours of retries.",
}


def _now() -> datetime:
    return datetime.now(UTC)


async def _list_page(
    request: Request,
    user: SignedIn,
    *,
    created: dict[str, Any] | None = None,
    error: str | None = None,
    typed: dict[str, Any] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    db: Database = request.app.state.db
    async with db.read() as session:
        items, total = await endpoints.list_endpoints(session, user.account_id, 1, LIST_SIZE)
    context = {
        "active": "webhooks",
        "endpoints": items,
        "total": total,
        "limit": endpoints.MAX_ENDPOINTS,
        "event_types": EVENT_TYPES,
        "created": created,
        "error": error,
        "typed": typed or {"url": "", "description": "", "event_types": []},
        "notice": notice,
    }
    return render(request, "webhooks.html", context, status)


@router.get("")
async def webhooks_page(
    request: Request, user: User, notice: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    return await _list_page(request, user, notice=NOTICES.get(notice))


@router.post("")
async def create_webhook(request: Request, user: CheckedUser) -> Response:
    form = await read_form(request)
    url = form.get("url").strip()
    description = form.get("description").strip()
    types = form.all("event_types")
    typed = {"url": url, "description": description, "event_types": types}
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    try:
        if len(description) > MAX_DESCRIPTION:
            raise InvalidRequest(f"A description has at most {MAX_DESCRIPTION} characters.")
        async with db.write() as session:
            created = await endpoints.create_endpoint(
                session,
                user.account_id,
                url=url,
                event_types=types or None,  # nothing ticked: every type, as an omitted list on the API
                description=description or None,
                allow_private=settings.webhook_allow_private,
                now=_now(),
            )
    except DomainError as exc:  # the same refusal as the API's, shown beside the form kept as typed
        status = status_for(exc.code)
        return await _list_page(request, user, error=exc.message, typed=typed, status=status)
    return await _list_page(request, user, created=created, status=201)


async def _endpoint_page(
    request: Request,
    user: SignedIn,
    endpoint_id: str,
    *,
    page: int = 1,
    state: DeliveryState | None = None,
    secret: str | None = None,
    notice: str | None = None,
) -> Response:
    db: Database = request.app.state.db
    async with db.read() as session:
        endpoint = await endpoints.get_endpoint(session, user.account_id, endpoint_id)
        deliveries, total = await endpoints.list_deliveries(
            session, user.account_id, endpoint_id, page, PAGE_SIZE, state
        )
    context = {
        "active": "webhooks",
        "endpoint": endpoint,
        "deliveries": deliveries,
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "state": state or "",
        "secret": secret,
        "notice": notice,
    }
    return render(request, "webhook.html", context)


@router.get("/{endpoint_id}")
async def webhook_page(
    request: Request,
    user: User,
    endpoint_id: EndpointId,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    state: Annotated[DeliveryState | None, Query()] = None,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return await _endpoint_page(
        request, user, endpoint_id, page=page, state=state, notice=NOTICES.get(notice)
    )


@router.post("/{endpoint_id}/disable")
async def disable_webhook(request: Request, user: CheckedUser, endpoint_id: EndpointId) -> Response:
    return await _set_enabled(request, user, endpoint_id, enabled=False)


@router.post("/{endpoint_id}/enable")
async def enable_webhook(request: Request, user: CheckedUser, endpoint_id: EndpointId) -> Response:
    return await _set_enabled(request, user, endpoint_id, enabled=True)


async def _set_enabled(request: Request, user: SignedIn, endpoint_id: str, *, enabled: bool) -> Response:
    db: Database = request.app.state.db
    async with db.write() as session:
        await endpoints.set_enabled(session, user.account_id, endpoint_id, enabled, _now())
    notice = "enabled" if enabled else "disabled"
    return redirect(request, f"/console/webhooks/{endpoint_id}?notice={notice}")


@router.post("/{endpoint_id}/rotate-secret")
async def rotate_webhook_secret(request: Request, user: CheckedUser, endpoint_id: EndpointId) -> Response:
    db: Database = request.app.state.db
    async with db.write() as session:
        rotated = await endpoints.rotate_secret(session, user.account_id, endpoint_id, _now())
    return await _endpoint_page(request, user, endpoint_id, secret=str(rotated["secret"]))


@router.post("/{endpoint_id}/delete")
async def delete_webhook(request: Request, user: CheckedUser, endpoint_id: EndpointId) -> Response:
    db: Database = request.app.state.db
    async with db.write() as session:
        await endpoints.delete_endpoint(session, user.account_id, endpoint_id)
    return redirect(request, "/console/webhooks?notice=deleted")


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def redeliver_webhook(
    request: Request, user: CheckedUser, endpoint_id: EndpointId, delivery_id: DeliveryId
) -> Response:
    db: Database = request.app.state.db
    async with db.write() as session:
        await endpoints.redeliver(session, user.account_id, endpoint_id, delivery_id, _now())
    return redirect(request, f"/console/webhooks/{endpoint_id}?notice=redelivered")
