"""Every console route that takes an account's own id answers 404 to another account's user and
changes nothing. The test walks the app's routes, so a new route with an id must be listed here."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import select, update

from showfloor.server.agents import quotes
from showfloor.server.config import Settings
from showfloor.server.console.routes import ROUTERS
from showfloor.server.db.uow import Database
from showfloor.server.models import (
    AgentQuote,
    ApiKey,
    ApiKeySpendCap,
    LedgerOperation,
    WebhookDelivery,
    WebhookEndpoint,
)
from showfloor.server.notify.events import CREDITS_GRANTED, emit
from showfloor.server.notify.outbox import dispatch
from tests.conftest import AccountFixture
from tests.console.support import page_csrf, sign_in
from tests.console.test_pages import _event_with_people, _unlock_emails
from tests.integration.agent_support import principal_of
from tests.integration.paid_support import give
from tests.integration.unlock_support import drain

# Routes whose ids name the shared catalog (every account sees the same events), not an account's data.
CATALOG_ROUTES = {
    "/console/events/{ref}",
    "/console/events/{ref}/unlock/{layer}",
}


def _console_routes_with_ids() -> set[tuple[str, str]]:
    found = set()
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and "{" in route.path:
                found.update((method, route.path) for method in route.methods if method != "HEAD")
    return found


async def test_every_route_with_an_accounts_id_is_not_found_for_another_account(
    app_client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    owner: AccountFixture,
    other: AccountFixture,
) -> None:
    await give(db, owner.id, 5000, "subscription")
    event_id, ids = await _event_with_people(db)
    assert (await sign_in(app_client, "owner@example.com")).status_code == 303
    task = (await _unlock_emails(app_client, event_id, ids)).headers["location"]  # /console/tasks/email/N
    await drain(db)
    task_id = task.rsplit("/", 1)[1]
    hook_id, delivery_id = await _endpoint_with_a_delivery(app_client, db, owner.id)
    hook = f"/console/webhooks/{hook_id}"
    async with db.read() as session:  # the owner's unlock hold: its raw ledger page
        operation_id = await session.scalar(
            select(LedgerOperation.id).where(
                LedgerOperation.account_id == owner.id, LedgerOperation.kind == "hold"
            )
        )
    agent = await principal_of(db, owner.key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": str(event_id)}
    )
    approval = f"/console/approvals/{quote['quote_id']}"
    owners_urls = {
        ("GET", "/console/tasks/{kind}/{task_id}"): [task, f"/console/tasks/phone/{task_id}"],
        ("GET", "/console/tasks/{kind}/{task_id}/progress"): [task + "/progress"],
        ("POST", "/console/keys/{key_id}/revoke"): [f"/console/keys/{owner.key_id}/revoke"],
        ("GET", "/console/activity/{operation_id}"): [f"/console/activity/{operation_id}"],
        ("POST", "/console/keys/{key_id}/agent-policy"): [f"/console/keys/{owner.key_id}/agent-policy"],
        ("POST", "/console/keys/{key_id}/spend-caps"): [f"/console/keys/{owner.key_id}/spend-caps"],
        ("GET", "/console/webhooks/{endpoint_id}"): [hook],
        ("POST", "/console/webhooks/{endpoint_id}/disable"): [hook + "/disable"],
        ("POST", "/console/webhooks/{endpoint_id}/enable"): [hook + "/enable"],
        ("POST", "/console/webhooks/{endpoint_id}/rotate-secret"): [hook + "/rotate-secret"],
        ("POST", "/console/webhooks/{endpoint_id}/delete"): [hook + "/delete"],
        ("POST", "/console/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"): [
            f"{hook}/deliveries/{delivery_id}/redeliver"
        ],
        ("GET", "/console/approvals/{quote_id}"): [approval],
        ("POST", "/console/approvals/{quote_id}/approve"): [approval + "/approve"],
        ("POST", "/console/approvals/{quote_id}/refuse"): [approval + "/refuse"],
    }
    walked = {(m, p) for m, p in _console_routes_with_ids() if p not in CATALOG_ROUTES}
    assert walked == set(owners_urls), "a console route with an id is missing from this test"

    for path in (
        task,
        task + "/progress",
        hook,
        f"/console/activity/{operation_id}",
        approval,
    ):  # the owner sees them
        assert (await app_client.get(path)).status_code == 200, path
    app_client.cookies.clear()
    assert (await sign_in(app_client, "other@example.com")).status_code == 303
    csrf = await page_csrf(app_client)
    for (method, _), urls in owners_urls.items():
        for url in urls:
            if method == "GET":
                response = await app_client.get(url)
            else:
                # with values a form would send, so a route that ignored the account would change something
                form = {"csrf_token": csrf, "agent_daily_budget": "100", "mcp_only": "on", "daily_cap": "5"}
                response = await app_client.post(url, data=form)
            assert response.status_code == 404, (method, url, response.status_code)
            assert "Not found" in response.text
    async with db.read() as session:
        key = (await session.scalars(select(ApiKey).where(ApiKey.id == owner.key_id))).one()
        assert (key.revoked_at, key.agent_daily_budget, key.mcp_only) == (None, None, False)
        assert (await session.scalar(select(ApiKeySpendCap))) is None  # no cap set on the owner's key
        endpoint = (await session.scalars(select(WebhookEndpoint))).one()  # not deleted, disabled or rotated
        assert (endpoint.status, endpoint.previous_secret) == ("enabled", None)
        states = set((await session.scalars(select(WebhookDelivery.state))).all())
        assert states == {"failed"}  # not redelivered
        row = (await session.scalars(select(AgentQuote))).one()  # neither approved nor refused
        assert (row.status, row.approved_via) == ("pending", None)
    assert "No webhook endpoint yet." in (await app_client.get("/console/webhooks")).text
    assert "No activity." in (await app_client.get("/console/activity")).text
    assert "No ledger entry yet." in (await app_client.get("/console/ledger")).text
    assert (await app_client.get("/console/activity.csv")).text.count("\n") == 1  # the header only
    assert quote["quote_id"] not in (await app_client.get("/console/approvals")).text


async def _endpoint_with_a_delivery(
    client: httpx.AsyncClient, db: Database, account_id: int
) -> tuple[int, int]:
    csrf = await page_csrf(client, "/console/webhooks")
    created = await client.post(
        "/console/webhooks", data={"csrf_token": csrf, "url": "https://hooks.example.com/x"}
    )
    assert created.status_code == 201
    async with db.write() as session:
        await emit(session, account_id, CREDITS_GRANTED, {"amount": 5})
        await dispatch(session, datetime.now(UTC))
        await session.execute(update(WebhookDelivery).values(state="failed"))
        endpoint_id = (await session.scalars(select(WebhookEndpoint.id))).one()
        delivery_id = (await session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id))).first()
        assert delivery_id is not None
    return endpoint_id, delivery_id
