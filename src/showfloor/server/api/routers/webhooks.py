"""``/external/webhooks``: our addition to the contract (docs/webhooks.md, docs/compatibility.md).

An account's webhook endpoints: create (the signing secret is shown once), list, get, delete, disable,
enable, rotate the secret, list deliveries, redeliver one. Another account's endpoint or delivery is 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictStr

from showfloor.server.api.deps import AppSettings, CurrentPrincipal, ReadPrincipal, ReadSession, WriteSession
from showfloor.server.api.openapi import error_responses
from showfloor.server.api.pagination import Page, PageQuery, envelope
from showfloor.server.notify import endpoints
from showfloor.server.notify.events import EVENT_TYPES

router = APIRouter(prefix="/external/webhooks", tags=["webhooks"])

EndpointId = Annotated[str, Path(min_length=1, max_length=20, description="Endpoint id (decimal string).")]
DeliveryId = Annotated[
    str, Path(alias="deliveryId", min_length=1, max_length=20, description="Delivery id (decimal string).")
]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=100)]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: StrictStr = Field(min_length=1, max_length=2048, description="https:// URL that receives events.")
    event_types: list[StrictStr] | None = Field(
        default=None,
        max_length=64,
        validation_alias=AliasChoices("event_types", "eventTypes"),
        description=f"Event types to receive (omit or null: every type). Known: {', '.join(EVENT_TYPES)}.",
    )
    description: StrictStr | None = Field(default=None, max_length=200)


class WebhookEndpoint(BaseModel):
    id: str
    url: str
    description: str | None
    eventTypes: list[str] | None = Field(description="null: every event type")
    status: Literal["enabled", "disabled"]
    disabledReason: Literal["owner", "failing"] | None
    failingSince: int | None = Field(description="Epoch ms of the first failure since the last success.")
    createdAt: int
    updatedAt: int


class WebhookEndpointWithSecret(WebhookEndpoint):
    secret: str = Field(description="whsec_… signing secret, shown only here.")


class WebhookDelivery(BaseModel):
    id: str
    eventId: str = Field(description="evt_…: the webhook-id header of every attempt.")
    eventType: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    nextAttemptAt: int | None
    lastAttemptAt: int | None
    lastStatus: int | None
    lastError: str | None
    deliveredAt: int | None
    createdAt: int


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "",
    status_code=201,
    response_model=WebhookEndpointWithSecret,
    summary="Create a webhook endpoint (the signing secret is shown once)",
    responses=error_responses(422),
)
async def create(
    body: EndpointIn, principal: CurrentPrincipal, session: WriteSession, settings: AppSettings
) -> dict[str, Any]:
    return await endpoints.create_endpoint(
        session,
        principal.account_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        allow_private=settings.webhook_allow_private,
        now=_now(),
    )


@router.get("", response_model=Page[WebhookEndpoint], summary="List the account's webhook endpoints")
async def list_endpoints(
    principal: ReadPrincipal, session: ReadSession, page: PageQuery = 1, page_size: PageSize = 20
) -> dict[str, Any]:
    items, total = await endpoints.list_endpoints(session, principal.account_id, page, page_size)
    return envelope(items, total, page, page_size)


@router.get(
    "/{id}", response_model=WebhookEndpoint, summary="One webhook endpoint", responses=error_responses(404)
)
async def get(id: EndpointId, principal: ReadPrincipal, session: ReadSession) -> dict[str, Any]:
    return await endpoints.get_endpoint(session, principal.account_id, id)


@router.delete(
    "/{id}",
    status_code=204,
    summary="Delete a webhook endpoint and its deliveries",
    responses=error_responses(404),
)
async def delete_endpoint(id: EndpointId, principal: CurrentPrincipal, session: WriteSession) -> Response:
    await endpoints.delete_endpoint(session, principal.account_id, id)
    return Response(status_code=204)


@router.post(
    "/{id}/disable",
    status_code=201,
    response_model=WebhookEndpoint,
    summary="Stop delivering to an endpoint",
    responses=error_responses(404),
)
async def disable(id: EndpointId, principal: CurrentPrincipal, session: WriteSession) -> dict[str, Any]:
    return await endpoints.set_enabled(session, principal.account_id, id, False, _now())


@router.post(
    "/{id}/enable",
    status_code=201,
    response_model=WebhookEndpoint,
    summary="Deliver to an endpoint again (pending deliveries resume)",
    responses=error_responses(404),
)
async def enable(id: EndpointId, principal: CurrentPrincipal, session: WriteSession) -> dict[str, Any]:
    return await endpoints.set_enabled(session, principal.account_id, id, True, _now())


@router.post(
    "/{id}/rotate-secret",
    status_code=201,
    response_model=WebhookEndpointWithSecret,
    summary="New signing secret (the old one also signs for 24 hours)",
    responses=error_responses(404),
)
async def rotate_secret(id: EndpointId, principal: CurrentPrincipal, session: WriteSession) -> dict[str, Any]:
    return await endpoints.rotate_secret(session, principal.account_id, id, _now())


@router.get(
    "/{id}/deliveries",
    response_model=Page[WebhookDelivery],
    summary="Deliveries to an endpoint, newest first",
    responses=error_responses(404),
)
async def deliveries(
    id: EndpointId,
    principal: ReadPrincipal,
    session: ReadSession,
    page: PageQuery = 1,
    page_size: PageSize = 20,
    state: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
) -> dict[str, Any]:
    items, total = await endpoints.list_deliveries(session, principal.account_id, id, page, page_size, state)
    return envelope(items, total, page, page_size)


@router.post(
    "/{id}/deliveries/{deliveryId}/redeliver",
    status_code=201,
    response_model=WebhookDelivery,
    summary="Send a delivery again (same webhook-id, a new 24 hours of retries)",
    responses=error_responses(404, 409),
)
async def redeliver(
    id: EndpointId, delivery_id: DeliveryId, principal: CurrentPrincipal, session: WriteSession
) -> dict[str, Any]:
    return await endpoints.redeliver(session, principal.account_id, id, delivery_id, _now())
