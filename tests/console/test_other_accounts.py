"""Every console route that takes an account's own id answers 404 to another account's user and
changes nothing. The test walks the app's routes, so a new route with an id must be listed here."""

from __future__ import annotations

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import select

from showfloor.server.console.routes import ROUTERS
from showfloor.server.db.uow import Database
from showfloor.server.models import ApiKey
from tests.conftest import AccountFixture
from tests.console.support import page_csrf, sign_in
from tests.console.test_pages import _event_with_people, _unlock_emails
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
    owner: AccountFixture,
    other: AccountFixture,
) -> None:
    await give(db, owner.id, 5000, "subscription")
    event_id, ids = await _event_with_people(db)
    assert (await sign_in(app_client, "owner@example.com")).status_code == 303
    task = (await _unlock_emails(app_client, event_id, ids)).headers["location"]  # /console/tasks/email/N
    await drain(db)
    task_id = task.rsplit("/", 1)[1]
    owners_urls = {
        ("GET", "/console/tasks/{kind}/{task_id}"): [task, f"/console/tasks/phone/{task_id}"],
        ("GET", "/console/tasks/{kind}/{task_id}/progress"): [task + "/progress"],
        ("POST", "/console/keys/{key_id}/revoke"): [f"/console/keys/{owner.key_id}/revoke"],
    }
    walked = {(m, p) for m, p in _console_routes_with_ids() if p not in CATALOG_ROUTES}
    assert walked == set(owners_urls), "a console route with an id is missing from this test"

    for path in (task, task + "/progress"):  # the owner sees them
        assert (await app_client.get(path)).status_code == 200, path
    app_client.cookies.clear()
    assert (await sign_in(app_client, "other@example.com")).status_code == 303
    csrf = await page_csrf(app_client)
    for (method, _), urls in owners_urls.items():
        for url in urls:
            if method == "GET":
                response = await app_client.get(url)
            else:
                response = await app_client.post(url, data={"csrf_token": csrf})
            assert response.status_code == 404, (method, url, response.status_code)
            assert "Not found" in response.text
    async with db.read() as session:
        assert (await session.scalar(select(ApiKey.revoked_at).where(ApiKey.id == owner.key_id))) is None
