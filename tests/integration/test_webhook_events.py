"""The events wired today, from their real emission sites to a real receiver, each verified with the SDK:
``credits.granted`` (ledger grant), ``credits.expiring`` (notice job), ``credits.expired`` (expiry sweep),
``event.unlocked`` (event unlock routes), ``unlock_task.completed`` (contact unlock task closes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from showfloor.client import verify_webhook
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.models import OutboxEvent
from showfloor.server.notify.events import (
    CREDITS_EXPIRED,
    CREDITS_EXPIRING,
    CREDITS_GRANTED,
    EVENT_UNLOCKED,
    UNLOCK_TASK_COMPLETED,
)
from showfloor.server.notify.notices import notify_expiring, send_expiring_notices
from tests.conftest import AccountFixture, test_settings
from tests.integration.paid_support import event_with, give
from tests.integration.unlock_support import drain, give_credits, seed_cast
from tests.integration.webhook_support import Receiver, create_endpoint, deliver, webhook_settings


@pytest.fixture
def settings(db_url: str) -> Settings:
    return webhook_settings(test_settings(db_url))


async def events_of(db: Database, account_id: int, event_type: str) -> list[dict[str, Any]]:
    async with db.read() as session:
        rows = await session.scalars(
            select(OutboxEvent.payload)
            .where(OutboxEvent.account_id == account_id, OutboxEvent.type == event_type)
            .order_by(OutboxEvent.id)
        )
        return list(rows.all())


async def add_grant(
    db: Database, account_id: int, bucket: str, amount: int, expires_in: timedelta, key: str
) -> int:
    async with db.write() as session:
        return await ledger.grant(
            session, account_id, bucket, amount, expires_at=datetime.now(UTC) + expires_in, op_key=key
        )


async def test_every_wired_event_type_reaches_the_receiver_signed(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver() as receiver:
        endpoint = await create_endpoint(client, receiver.url())
        await give(db, account.id, 5000, "subscription")  # credits.granted
        event = await event_with(db, contacts=3)
        assert (await client.post(f"/external/events/{event.event_id}/unlock")).status_code == 201
        soon = await add_grant(db, account.id, "addon", 40, timedelta(days=3), "addon-soon")
        await send_expiring_notices(db, settings)
        short = await add_grant(db, account.id, "addon", 25, timedelta(hours=1), "addon-short")
        async with db.write() as session:
            await ledger.expire_due(session, datetime.now(UTC) + timedelta(hours=2))
        await deliver(db, settings)

    by_type: dict[str, list[dict[str, Any]]] = {}
    for request in receiver.received:
        verified = verify_webhook(request.body, request.headers, endpoint["secret"])
        assert verified["id"] == request.webhook_id
        by_type.setdefault(verified["type"], []).append(verified["data"])
    assert sorted(by_type) == sorted([CREDITS_GRANTED, EVENT_UNLOCKED, CREDITS_EXPIRING, CREDITS_EXPIRED])
    assert [d["bucket"] for d in by_type[CREDITS_GRANTED]] == ["subscription", "addon", "addon"]
    assert by_type[CREDITS_GRANTED][0]["amount"] == 5000
    assert by_type[EVENT_UNLOCKED] == [
        {
            "event": {"id": str(event.id), "eventId": event.event_id, "name": event.name},
            "layers": ["base"],
            "creditsUsed": 2000,
            "callSource": "api",
        }
    ]
    # The subscription grant expires in 30 days: outside the 7-day notice window.
    (expiring,) = by_type[CREDITS_EXPIRING]
    assert (expiring["grantId"], expiring["amount"], expiring["daysBefore"]) == (str(soon), 40, 7)
    (expired,) = by_type[CREDITS_EXPIRED]
    assert (expired["grantId"], expired["bucket"], expired["amount"]) == (str(short), "addon", 25)


async def test_event_unlocked_only_when_a_layer_is_newly_recorded(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 20_000, "subscription")
    event = await event_with(db, contacts=3, visitors=2)
    other = await event_with(db, contacts=3, visitors=2)
    assert (await client.post(f"/external/events/{event.event_id}/unlock")).status_code == 201
    assert (await client.post(f"/external/events/{event.event_id}/unlock")).json()["alreadyUnlocked"]
    full = await client.post(f"/external/events/{event.event_id}/full-access/unlock")
    assert full.json()["visitorUnlocked"] is True
    assert (await client.post(f"/external/events/{event.event_id}/full-access/unlock")).json()[
        "alreadyUnlocked"
    ]
    agent = {"x-call-source": "agent"}
    assert (
        await client.post(f"/external/events/{other.event_id}/full-access/unlock", headers=agent)
    ).status_code == 201
    assert (await client.post(f"/external/events/{other.event_id}/visitors/unlock")).json()["alreadyUnlocked"]
    seen = [
        (e["event"]["id"], e["layers"], e["creditsUsed"], e["callSource"])
        for e in await events_of(db, account.id, EVENT_UNLOCKED)
    ]
    assert seen == [
        (str(event.id), ["base"], 2000, "api"),
        (str(event.id), ["visitor"], 3000, "api"),
        (str(other.id), ["base", "visitor"], 5000, "agent"),
    ]


async def test_visitor_unlock_emits_the_visitor_layer(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 20_000, "subscription")
    event = await event_with(db, contacts=3, visitors=2)
    await client.post(f"/external/events/{event.event_id}/unlock")
    assert (await client.post(f"/external/events/{event.event_id}/visitors/unlock")).status_code == 201
    refused = await client.post("/external/events/NO-SUCH-EVENT/visitors/unlock")
    assert refused.status_code == 404
    assert [e["layers"] for e in await events_of(db, account.id, EVENT_UNLOCKED)] == [["base"], ["visitor"]]


async def test_credits_granted_once_per_grant_even_when_the_operation_key_is_replayed(
    db: Database, account: AccountFixture
) -> None:
    for _ in range(2):
        async with db.write() as session:
            await ledger.grant(session, account.id, "gift", 70, expires_at=None, op_key="same", note="promo")
    (only,) = await events_of(db, account.id, CREDITS_GRANTED)
    assert (only["amount"], only["bucket"], only["expiresAt"], only["note"]) == (70, "gift", None, "promo")


async def test_credits_expiring_once_per_grant_with_credits_left_inside_the_window(
    db: Database, account: AccountFixture
) -> None:
    due = await add_grant(db, account.id, "addon", 50, timedelta(days=6), "due")
    sub = await add_grant(db, account.id, "subscription", 80, timedelta(days=2), "sub")
    await add_grant(db, account.id, "addon", 50, timedelta(days=9), "later")  # outside 7 days
    await give_credits(db, account.id, 10, "gift")  # gifts never expire
    spent = await add_grant(db, account.id, "addon", 30, timedelta(days=1), "spent")
    void = await add_grant(db, account.id, "addon", 30, timedelta(days=1), "void")
    async with db.write() as session:
        await ledger.void_grant(session, void, "void-it")
        # Spending order: the subscription grant, then add-ons by expiry: "spent" empties, "due" keeps 50.
        await ledger.debit(session, ledger.ChargeContext(account.id), 80 + 30, "spend")
    now = datetime.now(UTC)
    for _ in range(2):  # run twice: still one notice per grant
        async with db.write() as session:
            await notify_expiring(session, now, 7)
    notices = await events_of(db, account.id, CREDITS_EXPIRING)
    assert [(n["grantId"], n["amount"]) for n in notices] == [(str(due), 50)]
    assert {str(sub), str(spent), str(void)}.isdisjoint(n["grantId"] for n in notices)


async def test_credits_expired_reports_the_amount_lost_and_nothing_when_none_was(
    db: Database, account: AccountFixture
) -> None:
    partly = await add_grant(db, account.id, "addon", 100, timedelta(hours=1), "partly")
    async with db.write() as session:
        await ledger.debit(session, ledger.ChargeContext(account.id), 30, "spend-some")
    whole = await add_grant(db, account.id, "subscription", 20, timedelta(hours=1), "whole")
    async with db.write() as session:
        await ledger.debit(session, ledger.ChargeContext(account.id), 20, "spend-all-sub")
    later = datetime.now(UTC) + timedelta(hours=2)
    async with db.write() as session:
        assert await ledger.expire_due(session, later) == 2
    lost = {e["grantId"]: e["amount"] for e in await events_of(db, account.id, CREDITS_EXPIRED)}
    assert lost == {str(partly): 70}
    assert str(whole) not in lost


async def test_unlock_task_completed_is_delivered_with_counts_and_credits(
    db: Database,
    client: httpx.AsyncClient,
    account: AccountFixture,
    settings: Settings,
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=2, no_email=1)
    async with Receiver() as receiver:
        endpoint = await create_endpoint(client, receiver.url(), [UNLOCK_TASK_COMPLETED])
        submitted = await client.post(
            "/external/contacts/unlock", json={"personnel_ids": [str(p) for p in cast.people.values()]}
        )
        assert submitted.status_code == 201, submitted.text
        await drain(db)
        await deliver(db, settings)
    assert len(receiver.received) == 1
    (request_seen,) = receiver.received
    event = verify_webhook(request_seen.body, request_seen.headers, endpoint["secret"])
    assert event["type"] == UNLOCK_TASK_COMPLETED
    assert event["data"] == {
        "taskId": submitted.json()["task_id"],
        "kind": "email",
        "status": "completed",
        "itemCount": 3,
        "delivered": 2,
        "notDelivered": 1,
        "notDeliveredReasons": {"NO_EMAIL": 1},
        "creditsCaptured": 30,
        "creditsReleased": 15,
    }
    assert json.loads(request_seen.body)["timestamp"].endswith("Z")
