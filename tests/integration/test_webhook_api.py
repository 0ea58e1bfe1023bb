"""``/external/webhooks``: managing endpoints over HTTP, in the reference's envelope and error shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select, update

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.models import WebhookDelivery, WebhookEndpoint
from showfloor.server.notify.events import CREDITS_GRANTED, EVENT_TYPES, EVENT_UNLOCKED, emit
from showfloor.server.notify.outbox import dispatch
from tests.conftest import AccountFixture, new_account
from tests.integration.webhook_support import create_endpoint

PUBLIC_URL = "https://hooks.example.com/showfloor"


def assert_error(response: httpx.Response, status: int, key: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert body["code"] == status and body["errorKey"] == key
    assert body["traceId"] == response.headers["x-request-id"]
    return body


async def test_create_shows_the_secret_once_and_reads_never_do(client: httpx.AsyncClient) -> None:
    created = await create_endpoint(client, PUBLIC_URL, [EVENT_UNLOCKED, CREDITS_GRANTED], description="ops")
    assert created["secret"].startswith("whsec_")
    assert created["url"] == PUBLIC_URL and created["description"] == "ops"
    assert created["eventTypes"] == [CREDITS_GRANTED, EVENT_UNLOCKED]  # known order, de-duplicated
    assert created["status"] == "enabled" and created["disabledReason"] is None
    one = (await client.get(f"/external/webhooks/{created['id']}")).json()
    assert "secret" not in one
    assert one == {k: v for k, v in created.items() if k != "secret"}
    listed = (await client.get("/external/webhooks")).json()
    assert listed["items"] == [one]
    assert {k: listed[k] for k in ("total", "page", "pageSize", "totalPages", "hasMore")} == {
        "total": 1,
        "page": 1,
        "pageSize": 20,
        "totalPages": 1,
        "hasMore": False,
    }


async def test_event_types_omitted_means_every_type_and_camel_case_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    every = await create_endpoint(client, PUBLIC_URL)
    assert every["eventTypes"] is None
    camel = await client.post("/external/webhooks", json={"url": PUBLIC_URL, "eventTypes": [EVENT_UNLOCKED]})
    assert camel.status_code == 201 and camel.json()["eventTypes"] == [EVENT_UNLOCKED]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"url": "http://hooks.example.com/x"}, "https"),
        ({"url": "ftp://hooks.example.com/x"}, "https"),
        ({"url": "https://127.0.0.1/x"}, "private"),
        ({"url": "https://10.1.2.3/x"}, "private"),
        ({"url": "https://169.254.169.254/latest"}, "private"),
        ({"url": "https://[::1]/x"}, "private"),
        ({"url": "https://[::ffff:192.168.0.1]/x"}, "private"),
        ({"url": "https://localhost/x"}, "private"),
        ({"url": "https://user:pw@hooks.example.com/x"}, "credentials"),
        ({"url": "https:///nohost"}, "host"),
        ({"url": "https://hooks.example.com:99999/x"}, "valid URL"),
        ({"url": "https://hooks.example.com/a b"}, "spaces"),
        ({"url": "https://hooks.example.com/#frag"}, "fragment"),
        ({"url": PUBLIC_URL, "event_types": ["credits.granted", "nope.never"]}, "nope.never"),
        ({"url": PUBLIC_URL, "event_types": []}, "at least one"),
        ({"url": PUBLIC_URL, "secret": "whsec_mine"}, "secret"),
        ({"url": 42}, "url"),
        ({}, "url"),
    ],
)
async def test_bad_endpoints_are_400_in_the_error_body(
    client: httpx.AsyncClient, body: dict[str, object], fragment: str
) -> None:
    response = await client.post("/external/webhooks", json=body)
    error = assert_error(response, 400, "INVALID_REQUEST")
    assert fragment in str(error["message"]) + str(error.get("details")), error


async def test_private_targets_and_http_are_allowed_only_with_the_setting(
    settings: Settings, db: Database, account: AccountFixture
) -> None:
    from showfloor.server.app import create_app

    app = create_app(settings.model_copy(update={"webhook_allow_private": True}), run_background_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=account.headers) as c:
            created = await create_endpoint(c, "http://127.0.0.1:9/hook")
    assert created["url"] == "http://127.0.0.1:9/hook"


async def test_an_account_may_have_at_most_20_endpoints_and_delete_makes_room(
    client: httpx.AsyncClient,
) -> None:
    made = [await create_endpoint(client, f"{PUBLIC_URL}/{n}") for n in range(20)]
    response = await client.post("/external/webhooks", json={"url": PUBLIC_URL})
    assert_error(response, 422, "UNPROCESSABLE_ENTITY")
    assert (await client.delete(f"/external/webhooks/{made[0]['id']}")).status_code == 204
    assert_error(await client.get(f"/external/webhooks/{made[0]['id']}"), 404, "NOT_FOUND")
    assert_error(await client.delete(f"/external/webhooks/{made[0]['id']}"), 404, "NOT_FOUND")
    await create_endpoint(client, PUBLIC_URL)


async def test_deleting_an_endpoint_removes_its_deliveries_but_not_the_events(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    gone = await create_endpoint(client, PUBLIC_URL)
    kept = await create_endpoint(client, PUBLIC_URL + "/kept")
    async with db.write() as session:
        await emit(session, account.id, CREDITS_GRANTED, {"amount": 5})
        await dispatch(session, datetime.now(UTC))
    assert (await client.delete(f"/external/webhooks/{gone['id']}")).status_code == 204
    async with db.read() as session:
        left = (await session.scalars(select(WebhookDelivery.endpoint_id))).all()
    assert left == [int(kept["id"])]
    assert (await client.get(f"/external/webhooks/{kept['id']}/deliveries")).json()["total"] == 1


async def test_disable_enable_and_rotate(client: httpx.AsyncClient, db: Database) -> None:
    created = await create_endpoint(client, PUBLIC_URL)
    path = f"/external/webhooks/{created['id']}"
    disabled = await client.post(f"{path}/disable")
    assert disabled.status_code == 201
    assert (disabled.json()["status"], disabled.json()["disabledReason"]) == ("disabled", "owner")
    async with db.write() as session:  # as if it had been failing
        await session.execute(update(WebhookEndpoint).values(failing_since=datetime.now(UTC)))
    enabled = (await client.post(f"{path}/enable")).json()
    assert (enabled["status"], enabled["disabledReason"], enabled["failingSince"]) == ("enabled", None, None)

    rotated = await client.post(f"{path}/rotate-secret")
    assert rotated.status_code == 201
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != created["secret"]
    async with db.read() as session:
        row = (await session.scalars(select(WebhookEndpoint))).one()
    assert (row.secret, row.previous_secret) == (new_secret, created["secret"])
    assert row.previous_secret_until is not None and row.previous_secret_until > datetime.now(UTC)


async def test_deliveries_list_and_redeliver(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    created = await create_endpoint(client, PUBLIC_URL)
    async with db.write() as session:
        event_id = await emit(session, account.id, CREDITS_GRANTED, {"amount": 5})
        await dispatch(session, datetime.now(UTC))
        await session.execute(update(WebhookDelivery).values(state="failed", attempts=7, last_status=500))
    path = f"/external/webhooks/{created['id']}/deliveries"
    page = (await client.get(path)).json()
    assert page["total"] == 1
    (item,) = page["items"]
    assert (item["eventId"], item["eventType"], item["state"], item["attempts"]) == (
        event_id,
        CREDITS_GRANTED,
        "failed",
        7,
    )
    assert item["nextAttemptAt"] is None and item["lastStatus"] == 500
    assert (await client.get(path, params={"state": "delivered"})).json()["total"] == 0
    assert_error(await client.get(path, params={"state": "lost"}), 400, "INVALID_REQUEST")

    again = await client.post(f"{path}/{item['id']}/redeliver")
    assert again.status_code == 201, again.text
    assert (again.json()["state"], again.json()["eventId"]) == ("pending", event_id)
    async with db.read() as session:
        row = (await session.scalars(select(WebhookDelivery))).one()
    assert row.state == "pending" and row.give_up_at > datetime.now(UTC)

    await client.post(f"/external/webhooks/{created['id']}/disable")
    assert_error(await client.post(f"{path}/{item['id']}/redeliver"), 409, "STATE_CONFLICT")
    assert_error(await client.post(f"{path}/999999/redeliver"), 404, "NOT_FOUND")
    assert_error(await client.post(f"{path}/abc/redeliver"), 404, "NOT_FOUND")


async def test_another_accounts_endpoints_and_deliveries_are_404(
    client: httpx.AsyncClient, app_client: httpx.AsyncClient, db: Database
) -> None:
    mine = await create_endpoint(client, PUBLIC_URL)
    other = await new_account(db, "other")
    headers = other.headers
    base = f"/external/webhooks/{mine['id']}"
    for method, path in [
        ("GET", base),
        ("DELETE", base),
        ("POST", f"{base}/disable"),
        ("POST", f"{base}/enable"),
        ("POST", f"{base}/rotate-secret"),
        ("GET", f"{base}/deliveries"),
        ("POST", f"{base}/deliveries/1/redeliver"),
    ]:
        response = await app_client.request(method, path, headers=headers)
        assert_error(response, 404, "NOT_FOUND")
    listed = (await app_client.get("/external/webhooks", headers=headers)).json()
    assert listed["items"] == [] and listed["total"] == 0
    async with db.read() as session:
        row = (await session.scalars(select(WebhookEndpoint))).one()
    assert row.status == "enabled" and row.previous_secret is None  # nothing the other account did stuck


@pytest.mark.parametrize("ref", ["0", "7", "abc", "-1", "99999999999999999999"])
async def test_unknown_or_malformed_endpoint_ids_are_404(client: httpx.AsyncClient, ref: str) -> None:
    assert_error(await client.get(f"/external/webhooks/{ref}"), 404, "NOT_FOUND")


async def test_webhook_routes_need_a_key(app_client: httpx.AsyncClient) -> None:
    assert_error(await app_client.get("/external/webhooks"), 401, "INVALID_API_KEY")
    assert_error(
        await app_client.post("/external/webhooks", json={"url": PUBLIC_URL}), 401, "INVALID_API_KEY"
    )


def test_every_event_type_is_documented() -> None:
    from tests.reference import REPO_ROOT

    text = (REPO_ROOT / "docs" / "webhooks.md").read_text()
    for event_type in EVENT_TYPES:
        assert f"`{event_type}`" in text, f"{event_type} is not described in docs/webhooks.md"


async def test_a_wrong_method_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    collection = await client.put("/external/webhooks")
    assert_error(collection, 405, "METHOD_NOT_ALLOWED")
    assert collection.headers["allow"] == "GET, POST"
    one = await client.patch("/external/webhooks/1")
    assert one.headers["allow"] == "DELETE, GET"
    assert (await client.put("/external/credits/balance")).headers["allow"] == "GET"
