"""The console's webhooks page: endpoints created, listed, disabled, enabled, rotated and deleted, and
the delivery log with redelivery, through the same service as ``/external/webhooks`` (what one does,
the other sees). Another account's endpoints and deliveries are covered in ``test_other_accounts``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update

from showfloor.server.db.uow import Database
from showfloor.server.models import WebhookDelivery, WebhookEndpoint
from showfloor.server.notify.events import CREDITS_GRANTED, EVENT_UNLOCKED, emit
from showfloor.server.notify.outbox import dispatch
from tests.conftest import AccountFixture
from tests.console.support import page_csrf

URL = "https://hooks.example.com/showfloor"


async def create(console: httpx.AsyncClient, url: str = URL, types: tuple[str, ...] = ()) -> httpx.Response:
    data: dict[str, object] = {
        "csrf_token": await page_csrf(console, "/console/webhooks"),
        "url": url,
        "description": "CRM",
        "event_types": list(types),
    }
    return await console.post("/console/webhooks", data=data)


def secret_on(html: str) -> str:
    found = re.search(r'id="new-secret">([^<]+)<', html)
    assert found, "no secret on the page"
    return found.group(1)


async def test_an_endpoint_is_created_with_its_secret_shown_once_and_the_api_sees_it(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    assert "No webhook endpoint yet." in (await console.get("/console/webhooks")).text
    created = await create(console, types=(EVENT_UNLOCKED, CREDITS_GRANTED))
    assert created.status_code == 201, created.text[:500]
    secret = secret_on(created.text)
    async with db.read() as session:
        row = (await session.scalars(select(WebhookEndpoint))).one()
    assert (row.account_id, row.url, row.secret, row.description) == (owner.id, URL, secret, "CRM")
    assert row.event_types == [CREDITS_GRANTED, EVENT_UNLOCKED]  # the service's order
    listing = await console.get("/console/webhooks")
    assert secret not in listing.text and URL in listing.text
    assert f"{CREDITS_GRANTED}, {EVENT_UNLOCKED}" in listing.text
    api = await console.get("/external/webhooks", headers=owner.headers)
    assert [item["url"] for item in api.json()["items"]] == [URL]
    every = await create(console, URL + "/all")  # nothing ticked: every type, as on the API
    assert every.status_code == 201
    async with db.read() as session:
        assert (
            await session.scalar(
                select(WebhookEndpoint.event_types).where(WebhookEndpoint.url == URL + "/all")
            )
        ) is None


async def test_the_apis_url_rules_refuse_a_bad_url_beside_the_form_as_typed(
    console: httpx.AsyncClient, db: Database
) -> None:
    for url, status, fragment in (
        ("http://hooks.example.com/x", 400, "https"),
        ("https://127.0.0.1/x", 400, "private"),
        ("https://user:pw@hooks.example.com/x", 400, "credentials"),
        ("", 400, "URL"),
    ):
        refused = await create(console, url, (EVENT_UNLOCKED,))
        assert refused.status_code == status, (url, refused.text[:300])
        error = re.search(r'id="create-error">([^<]+)<', refused.text)
        assert error and fragment.lower() in error.group(1).lower(), (url, error and error.group(1))
        assert f'value="{url}"' in refused.text and "checked" in refused.text  # kept as typed
    bad_type = await console.post(
        "/console/webhooks",
        data={"csrf_token": await page_csrf(console), "url": URL, "event_types": "nope.never"},
    )
    assert bad_type.status_code == 400 and "nope.never" in bad_type.text
    async with db.read() as session:
        assert (await session.scalars(select(WebhookEndpoint))).all() == []


async def test_disable_enable_rotate_and_delete(console: httpx.AsyncClient, db: Database) -> None:
    first_secret = secret_on((await create(console)).text)
    async with db.read() as session:
        endpoint_id = (await session.scalars(select(WebhookEndpoint.id))).one()
    path = f"/console/webhooks/{endpoint_id}"
    csrf = await page_csrf(console, path)

    disabled = await console.post(f"{path}/disable", data={"csrf_token": csrf})
    assert disabled.status_code == 303 and disabled.headers["location"] == f"{path}?notice=disabled"
    page = await console.get(disabled.headers["location"])
    assert "The endpoint is disabled" in page.text and ">Enable</button>" in page.text
    async with db.read() as session:
        row = (await session.scalars(select(WebhookEndpoint))).one()
        assert (row.status, row.disabled_reason) == ("disabled", "owner")
    assert (await console.post(f"{path}/enable", data={"csrf_token": csrf})).status_code == 303
    async with db.read() as session:
        assert (await session.scalar(select(WebhookEndpoint.status))) == "enabled"

    rotated = await console.post(f"{path}/rotate-secret", data={"csrf_token": csrf})
    assert rotated.status_code == 200
    new_secret = secret_on(rotated.text)
    assert new_secret.startswith("whsec_") and new_secret != first_secret
    async with db.read() as session:
        row = (await session.scalars(select(WebhookEndpoint))).one()
    assert (row.secret, row.previous_secret) == (new_secret, first_secret)  # the old one in its grace
    assert new_secret not in (await console.get(path)).text

    forged = await console.post(f"{path}/delete", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    deleted = await console.post(f"{path}/delete", data={"csrf_token": csrf})
    assert deleted.headers["location"] == "/console/webhooks?notice=deleted"
    async with db.read() as session:
        assert (await session.scalars(select(WebhookEndpoint))).all() == []
    assert (await console.get(path)).status_code == 404


async def test_the_delivery_log_filters_and_redelivers(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await create(console)
    async with db.write() as session:
        endpoint_id = (await session.scalars(select(WebhookEndpoint.id))).one()
        event_id = await emit(session, owner.id, CREDITS_GRANTED, {"amount": 5})
        await dispatch(session, datetime.now(UTC))
        await session.execute(
            update(WebhookDelivery).values(state="failed", attempts=7, last_status=500, last_error="boom")
        )
    path = f"/console/webhooks/{endpoint_id}"
    log = await console.get(path)
    assert log.status_code == 200 and "Delivery log (1)" in log.text
    assert str(event_id) in log.text and "HTTP 500" in log.text and "boom" in log.text
    assert "Delivery log (0)" in (await console.get(path, params={"state": "delivered"})).text
    assert (await console.get(path, params={"state": "lost"})).status_code == 400
    async with db.read() as session:
        delivery_id = (await session.scalars(select(WebhookDelivery.id))).one()
    again = await console.post(
        f"{path}/deliveries/{delivery_id}/redeliver", data={"csrf_token": await page_csrf(console, path)}
    )
    assert again.headers["location"] == f"{path}?notice=redelivered"
    async with db.read() as session:
        row = (await session.scalars(select(WebhookDelivery))).one()
    assert (row.state, row.attempts) == ("pending", 7)
    assert "Delivery log (1)" in (await console.get(path, params={"state": "pending"})).text
    missing = await console.post(
        f"{path}/deliveries/{delivery_id + 1}/redeliver", data={"csrf_token": await page_csrf(console)}
    )
    assert missing.status_code == 404
    # A disabled endpoint is not redelivered to (the service's rule): 409, nothing changes.
    await console.post(f"{path}/disable", data={"csrf_token": await page_csrf(console)})
    refused = await console.post(
        f"{path}/deliveries/{delivery_id}/redeliver", data={"csrf_token": await page_csrf(console)}
    )
    assert refused.status_code == 409 and "enable it" in refused.text
