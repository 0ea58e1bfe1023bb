"""``GET /external/credits/activity`` on both backends: one row per customer-visible operation (a contact
unlock task with its hold, captures and releases is one row), filters, errors, and a constant number of
statements per page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event, update

from showfloor.server.db.uow import Database
from showfloor.server.ledger import service
from showfloor.server.ledger.activity import PAID_LABELS, list_activity
from showfloor.server.ledger.expiry import expire_due
from showfloor.server.models import CreditGrant
from showfloor.server.paid.decision import LABELS
from tests.conftest import AccountFixture, new_account
from tests.integration.unlock_support import drain, give_credits, seed_cast

URL = "/external/credits/activity"


async def unlock_task(client: httpx.AsyncClient, db: Database, ids: list[str], source: str = "api") -> str:
    resp = await client.post(
        "/external/contacts/unlock", json={"personnel_ids": ids}, headers={"x-call-source": source}
    )
    assert resp.status_code == 201, resp.text
    await drain(db)
    return str(resp.json()["task_id"])


async def test_a_task_is_one_row_that_adds_up(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=5, no_email=2)
    task = await unlock_task(client, db, [str(pk) for pk in cast.people.values()])
    async with db.write() as session:
        ctx = service.ChargeContext(
            account.id, account.key_id, "agent", "Event Unlock - Agent", "event", "evt_x"
        )
        await service.debit(session, ctx, 2, "search-ish")
    body = (await client.get(URL)).json()
    assert body["total"] == 3 and body["page"] == 1 and body["hasMore"] is False
    debit, unlock, grant = body["items"]
    assert unlock["action"] == "contact_email_unlock" and unlock["type"] == "spend"
    assert unlock["description"] == (
        f"contact email unlock, task {task}: 5 delivered × 15 = 75 credits (30 released)"
    )
    assert unlock["taskId"] == task and unlock["credits"] == 75 and unlock["balanceChange"] == -75
    assert (unlock["delivered"], unlock["unitCredits"], unlock["held"], unlock["pending"]) == (5, 15, 105, 0)
    assert unlock["callSource"] == "api" and account.key.startswith(unlock["apiKeyPrefix"])
    assert unlock["occurredAtIso"].endswith("+00:00") and isinstance(unlock["occurredAt"], int)
    assert grant["type"] == "grant" and grant["label"] == "gift grant" and grant["credits"] == 1000
    assert debit["action"] == "event_unlock" and debit["callSource"] == "agent" and debit["credits"] == 2
    assert debit["description"] == "event unlock, event evt_x: 2 credits"
    balance = (await client.get("/external/credits/balance")).json()["totalBalance"]
    assert sum(i["balanceChange"] for i in body["items"]) == balance == 1000 - 75 - 2


async def test_pending_items_stay_held_in_the_row(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 100)
    cast = await seed_cast(db, deliverable=2)
    resp = await client.post(
        "/external/contacts/unlock", json={"personnel_ids": list(map(str, cast.people.values()))}
    )
    task = resp.json()["task_id"]
    row = (await client.get(URL, params={"action": "contact_email_unlock"})).json()["items"][0]
    assert (
        row["description"]
        == f"contact email unlock, task {task}: 0 delivered × 15 = 0 credits (30 still held for pending items)"
    )
    assert row["pending"] == 30 and row["credits"] == 0


async def test_filters(client: httpx.AsyncClient, db: Database, account: AccountFixture) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=2)
    a, b = (str(pk) for pk in cast.people.values())
    await unlock_task(client, db, [a], source="agent")
    await unlock_task(client, db, [b], source="api")
    agent = (await client.get(URL, params={"source": "agent"})).json()
    assert agent["total"] == 1 and agent["items"][0]["callSource"] == "agent"
    assert (await client.get(URL, params={"action": "grant"})).json()["total"] == 1
    assert (await client.get(URL, params={"action": "contact_email_unlock"})).json()["total"] == 2
    assert (await client.get(URL, params={"action": "event_unlock"})).json()["total"] == 0
    prefix = agent["items"][0]["apiKeyPrefix"]
    assert (await client.get(URL, params={"keyPrefix": prefix})).json()["total"] == 2
    assert (await client.get(URL, params={"keyPrefix": "nope"})).json()["total"] == 0
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await client.get(URL, params={"since": future})).json()["total"] == 0
    assert (await client.get(URL, params={"until": future})).json()["total"] == 3
    assert (await client.get(URL, params={"until": "2000-01-01"})).json()["total"] == 0
    paged = (await client.get(URL, params={"pageSize": 2, "page": 2})).json()
    assert paged["total"] == 3 and len(paged["items"]) == 1 and paged["items"][0]["action"] == "grant"


async def test_bad_filters_answer_400(client: httpx.AsyncClient) -> None:
    for params in (
        {"action": "bogus"},
        {"source": "web"},
        {"since": "yesterday"},
        {"since": "2026-02-01", "until": "2026-01-01"},
        {"pageSize": 101},
        {"page": 0},
    ):
        resp = await client.get(URL, params=params)
        assert resp.status_code == 400, (params, resp.text)
        assert resp.json()["errorKey"] == "INVALID_REQUEST", params


async def test_expiry_is_a_row_and_others_are_invisible(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    async with db.write() as session:
        grant_id = await service.grant(
            session, account.id, "addon", 40, expires_at=datetime.now(UTC) + timedelta(days=1), op_key="g"
        )
        await session.execute(
            update(CreditGrant).where(CreditGrant.id == grant_id).values(expires_at=datetime.now(UTC))
        )
    async with db.write() as session:
        await expire_due(session, datetime.now(UTC) + timedelta(seconds=1))
    items = (await client.get(URL)).json()["items"]
    assert [i["type"] for i in items] == ["expire", "grant"]
    assert items[0]["description"] == f"expiry of addon grant {grant_id}: 40 credits removed"
    assert items[0]["balanceChange"] == -40 and items[1]["label"] == "addon grant"
    other = await new_account(db, "other")
    assert (await client.get(URL, headers=other.headers)).json()["total"] == 0


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


async def test_statements_per_page_do_not_grow_with_rows(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 5000)
    cast = await seed_cast(db, deliverable=6)
    people = [str(pk) for pk in cast.people.values()]
    await unlock_task(client, db, people[:1])

    async def statements() -> int:
        async with db.read() as session:
            with counting(db) as seen:
                await list_activity(session, account.id, page_size=50)
        return len(seen)

    few = await statements()
    for pk in people[1:]:
        await unlock_task(client, db, [pk])
    assert await statements() == few


def test_paid_labels_match_the_business_codes() -> None:
    assert set(PAID_LABELS) == set(LABELS.values())
