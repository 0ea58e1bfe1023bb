"""Every console page renders for its account, shows only that account's data, and answers 404 for
another account's ids."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from showfloor.server.db.uow import Database
from showfloor.server.models import ApiKey
from tests.conftest import AccountFixture
from tests.console.support import page_csrf, sign_in
from tests.factories import make_event, make_person
from tests.integration.paid_support import give
from tests.integration.unlock_support import drain


async def _event_with_people(db: Database, people: int = 3) -> tuple[int, list[int]]:
    async with db.write() as session:
        event = await make_event(session, name="Retail Expo")
        ids = [(await make_person(session, event, full_name=f"Pat {n}")).id for n in range(people)]
        return event.id, ids


async def _unlock_emails(client: httpx.AsyncClient, event_id: int, ids: list[int]) -> httpx.Response:
    csrf = await page_csrf(client)
    data = {
        "csrf_token": csrf,
        "kind": "email",
        "event_id": str(event_id),
        "personnel_ids": [str(i) for i in ids],
    }
    quote = await client.post("/console/contacts/quote", data=data)
    assert quote.status_code == 200, quote.text[:400]
    from tests.console.support import field_of

    data["idempotency_key"] = field_of(quote.text, "idempotency_key")
    return await client.post("/console/contacts/unlock", data=data)


async def test_every_page_renders_with_data(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000, "subscription")
    event_id, ids = await _event_with_people(db)
    submitted = await _unlock_emails(console, event_id, ids[:2])
    assert submitted.status_code == 303
    task_path = submitted.headers["location"]
    assert task_path.startswith("/console/tasks/email/")
    overview = await console.get("/console")
    assert overview.status_code == 200 and "Contact email unlock, task" in overview.text  # the hold in flight
    await drain(db)
    for path in (
        "/console",
        "/console/events",
        "/console/events?q=retail",
        f"/console/events/{event_id}",
        f"/console/events/{event_id}/unlock/base",
        "/console/contacts",
        "/console/tasks",
        task_path,
        task_path + "/progress",
        "/console/keys",
    ):
        response = await console.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    contacts = await console.get("/console/contacts")
    assert "Pat 0" in contacts.text and "@example.com" in contacts.text
    overview = await console.get("/console")
    assert "Contact Email Unlock" in overview.text  # the captures, in the spend chart's legend
    csv_text = (await console.get("/console/contacts.csv")).text
    assert csv_text.splitlines()[0] == "personnel_id,name,title,company,email,phone,unlocked_at"
    assert len(csv_text.splitlines()) == 3


async def test_another_accounts_ids_are_not_found(
    app_client: httpx.AsyncClient, db: Database, owner: AccountFixture, other: AccountFixture
) -> None:
    await give(db, owner.id, 5000, "subscription")
    event_id, ids = await _event_with_people(db)
    assert (await sign_in(app_client, "owner@example.com")).status_code == 303
    task_path = (await _unlock_emails(app_client, event_id, ids)).headers["location"]
    await drain(db)
    app_client.cookies.clear()
    assert (await sign_in(app_client, "other@example.com")).status_code == 303
    csrf = await page_csrf(app_client)
    for path in (task_path, task_path + "/progress", task_path.replace("/email/", "/phone/")):
        response = await app_client.get(path)
        assert response.status_code == 404, path
    revoke = await app_client.post(f"/console/keys/{owner.key_id}/revoke", data={"csrf_token": csrf})
    assert revoke.status_code == 404
    async with db.read() as session:
        assert (await session.scalar(select(ApiKey.revoked_at).where(ApiKey.id == owner.key_id))) is None
    contacts = await app_client.get("/console/contacts")
    assert "Pat 0" not in contacts.text and "No contact unlocked yet." in contacts.text
    assert (await app_client.get("/console/contacts.csv")).text.count("\n") == 1  # the header only
    overview = await app_client.get("/console")
    assert "Contact Email Unlock" not in overview.text
    keys = await app_client.get("/console/keys")
    assert owner.key[:19] not in keys.text


async def test_keys_are_created_once_shown_and_revoked(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    created = await console.post(
        "/console/keys", data={"csrf_token": await page_csrf(console), "name": "CRM sync"}
    )
    assert created.status_code == 201
    async with db.read() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.name == "CRM sync"))
    assert row is not None
    secret = created.text.split('id="new-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith(row.prefix + "_") and row.key_hash != secret
    listing = await console.get("/console/keys")
    assert secret not in listing.text and "CRM sync" in listing.text
    balance = await console.get("/external/credits/balance", headers={"Authorization": f"Bearer {secret}"})
    assert balance.status_code == 200
    assert (
        "never"
        not in (await console.get("/console/keys")).text.split(f'id="key-{row.id}"')[1].split("</tr>")[0]
    )
    revoked = await console.post(
        f"/console/keys/{row.id}/revoke", data={"csrf_token": await page_csrf(console)}
    )
    assert revoked.status_code == 303
    again = await console.get("/external/credits/balance", headers={"Authorization": f"Bearer {secret}"})
    assert again.status_code == 401


async def test_key_use_is_written_at_most_once_per_flush(db: Database, owner: AccountFixture) -> None:
    from showfloor.server.accounts.key_use import KeyUse

    use = KeyUse()
    first, later = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    use.note(owner.key_id, later)
    assert await use.flush(db) == 1
    use.note(owner.key_id, first)  # an older note (another process's) never moves it back
    assert await use.flush(db) == 1
    assert await use.flush(db) == 0  # nothing noted: no write
    async with db.read() as session:
        assert await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == owner.key_id)) == later


async def test_the_event_list_searches_and_marks_unlocked_events(
    console: httpx.AsyncClient, db: Database
) -> None:
    async with db.write() as session:
        await make_event(session, name="Retail Expo")
        await make_event(session, name="Dental Summit")
    found = await console.get("/console/events?q=dental")
    assert "Dental Summit" in found.text and "Retail Expo" not in found.text
    bad = await console.get("/console/events?date_from=yesterday")
    assert bad.status_code == 400
    assert (await console.get("/console/events/E-does-not-exist")).status_code == 404
