"""Event, visitor and full-access unlocks over HTTP: charged and not-charged paths, 402s, call sources."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from showfloor.server.db.uow import Database
from showfloor.server.models import EventUnlock
from tests.conftest import AccountFixture, new_account
from tests.integration.paid_support import balance, charged, debits, event_with, give


async def layers_of(db: Database, account_id: int, event_pk: int) -> set[str]:
    async with db.read() as session:
        rows = await session.scalars(
            select(EventUnlock.layer).where(
                EventUnlock.account_id == account_id, EventUnlock.event_id == event_pk
            )
        )
        return set(rows)


async def test_event_unlock_charges_once_and_repeat_is_free(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db, contacts=3)
    first = await client.post(f"/external/events/{event.event_id}/unlock")
    assert first.status_code == 201, first.text
    assert first.json() == {
        "success": True,
        "alreadyUnlocked": False,
        "creditsUsed": 2000,
        "balanceAfter": {
            "subscriptionBalance": 0,
            "permanentBalance": 3000,
            "totalBalance": 3000,
            "unlimited": False,
        },
        "event": {"id": str(event.id), "eventId": event.event_id, "name": event.name},
    }
    again = await client.post(f"/external/events/{event.id}/unlock")  # the internal id works too
    assert again.status_code == 201
    assert again.json()["alreadyUnlocked"] is True
    assert again.json()["creditsUsed"] == 0 and again.json()["balanceAfter"] is None
    ops = await debits(db, account.id)
    assert [(o.amount, o.business_code, o.call_source, o.api_key_id) for o in ops] == [
        (2000, "Event Unlock - API", "api", account.key_id)
    ]
    assert ops[0].resource_type == "event" and ops[0].resource_id == str(event.id)
    assert await layers_of(db, account.id, event.id) == {"base"}


async def test_agent_call_source_is_recorded(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 2000)
    event = await event_with(db)
    resp = await client.post(f"/external/events/{event.event_id}/unlock", headers={"x-call-source": "Agent"})
    assert resp.status_code == 201
    bogus = await event_with(db)
    await give(db, account.id, 2000)
    await client.post(f"/external/events/{bogus.event_id}/unlock", headers={"x-call-source": "robot"})
    ops = await debits(db, account.id)
    assert [(o.call_source, o.business_code) for o in ops] == [
        ("agent", "Event Unlock - Agent"),
        ("api", "Event Unlock - API"),
    ]


async def test_event_without_contacts_is_refused_and_not_charged(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db, contacts=0)
    resp = await client.post(f"/external/events/{event.event_id}/unlock")
    assert resp.status_code == 400
    assert resp.json()["errorKey"] == "NO_CONTACTS_AVAILABLE"
    assert await charged(db, account.id) == 0
    assert await layers_of(db, account.id, event.id) == set()


async def test_402_names_required_and_available_and_changes_nothing(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 1999)
    event = await event_with(db)
    resp = await client.post(f"/external/events/{event.event_id}/unlock")
    assert resp.status_code == 402
    body = resp.json()
    assert body["code"] == 402 and body["errorKey"] == "INSUFFICIENT_CREDITS" and body["traceId"]
    assert body["details"] == {"requiredCredits": 2000, "availableCredits": 1999}
    assert await balance(db, account.id) == 1999
    assert await layers_of(db, account.id, event.id) == set()


async def test_unknown_event_is_404(client: httpx.AsyncClient) -> None:
    resp = await client.post("/external/events/nope-404/unlock")
    assert resp.status_code == 404
    assert resp.json()["errorKey"] == "NOT_FOUND"


async def test_unlimited_account_is_never_refused_but_charged(
    db: Database, app_client: httpx.AsyncClient
) -> None:
    rich = await new_account(db, "enterprise", unlimited=True)
    event = await event_with(db)
    resp = await app_client.post(f"/external/events/{event.event_id}/unlock", headers=rich.headers)
    assert resp.status_code == 201
    assert resp.json()["creditsUsed"] == 2000
    assert resp.json()["balanceAfter"]["unlimited"] is True
    assert await charged(db, rich.id) == 2000


async def test_visitor_unlock_paths(db: Database, client: httpx.AsyncClient, account: AccountFixture) -> None:
    event = await event_with(db, visitors=5)
    # No active subscription: the HTTP-200 business error, nothing charged.
    await give(db, account.id, 9000, "gift")
    free = await client.post(f"/external/events/{event.event_id}/visitors/unlock")
    assert free.status_code == 200
    assert set(free.json()) == {"code", "message", "errorKey", "traceId"}
    assert free.json()["code"] == 400 and free.json()["errorKey"] == "USER_HAS_NO_FEATURE"

    await give(db, account.id, 1000, "subscription")
    locked = await client.post(f"/external/events/{event.event_id}/visitors/unlock")
    assert locked.status_code == 400 and locked.json()["errorKey"] == "EVENT_NOT_UNLOCKED"

    no_data = await event_with(db, visitors=0, unlocked_for=account.id, layers=("base",))
    missing = await client.post(f"/external/events/{no_data.event_id}/visitors/unlock")
    assert missing.status_code == 400 and missing.json()["errorKey"] == "VISITOR_DATA_NOT_AVAILABLE"
    assert await charged(db, account.id) == 0

    assert (await client.post(f"/external/events/{event.event_id}/unlock")).status_code == 201
    ok = await client.post(
        f"/external/events/{event.event_id}/visitors/unlock", headers={"x-call-source": "agent"}
    )
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["success"] is True and body["alreadyUnlocked"] is False and body["creditsSpent"] == 3000
    assert body["balanceAfter"]["totalBalance"] == 10000 - 5000
    assert set(body["balanceAfter"]) == {
        "totalAmount", "totalBalance", "subscriptionAmount", "subscriptionBalance", "addonAmount",
        "addonBalance", "addonExpireAt", "giftAmount", "giftBalance", "resetAt",
    }  # fmt: skip
    repeat = await client.post(f"/external/events/{event.event_id}/visitors/unlock")
    assert repeat.json()["alreadyUnlocked"] is True
    assert repeat.json()["creditsSpent"] == 0 and repeat.json()["balanceAfter"] is None
    codes = [o.business_code for o in await debits(db, account.id)]
    assert codes == ["Event Unlock - API", "Visitor Unlock - Agent"]


async def test_visitor_unlock_402(db: Database, client: httpx.AsyncClient, account: AccountFixture) -> None:
    await give(db, account.id, 2999, "subscription")
    event = await event_with(db, visitors=2, unlocked_for=account.id, layers=("base",))
    resp = await client.post(f"/external/events/{event.event_id}/visitors/unlock")
    assert resp.status_code == 402
    assert resp.json()["details"] == {"requiredCredits": 3000, "availableCredits": 2999}
    assert await layers_of(db, account.id, event.id) == {"base"}


async def test_full_access_pays_only_missing_layers(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 20000, "subscription")
    both = await event_with(db, visitors=3)
    resp = await client.post(f"/external/events/{both.event_id}/full-access/unlock")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert {k: body[k] for k in body if k not in ("balanceAfter", "event")} == {
        "success": True,
        "alreadyUnlocked": False,
        "eventUnlocked": True,
        "visitorUnlocked": True,
        "visitorSkipped": False,
        "totalCreditsUsed": 5000,
    }
    assert body["balanceAfter"] == {
        "subscriptionBalance": 15000, "permanentBalance": 0, "totalBalance": 15000, "unlimited": False,
    }  # fmt: skip
    assert await layers_of(db, account.id, both.id) == {"base", "visitor"}

    visitor_only = await event_with(db, visitors=3, unlocked_for=account.id, layers=("base",))
    resp = await client.post(f"/external/events/{visitor_only.event_id}/full-access/unlock")
    assert (
        resp.json()["totalCreditsUsed"],
        resp.json()["eventUnlocked"],
        resp.json()["visitorUnlocked"],
    ) == (
        3000,
        False,
        True,
    )

    skipped = await event_with(db, visitors=0)
    resp = await client.post(f"/external/events/{skipped.event_id}/full-access/unlock")
    assert resp.json()["totalCreditsUsed"] == 2000
    assert resp.json()["visitorSkipped"] is True and resp.json()["visitorUnlocked"] is False

    done = await client.post(f"/external/events/{both.event_id}/full-access/unlock")
    assert done.json()["alreadyUnlocked"] is True
    assert done.json()["totalCreditsUsed"] == 0 and done.json()["balanceAfter"] is None
    assert [o.amount for o in await debits(db, account.id)] == [5000, 3000, 2000]
    assert {o.business_code for o in await debits(db, account.id)} == {"Full Access Unlock - API"}


async def test_full_access_refusals_charge_nothing(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 4999, "gift")
    event = await event_with(db, visitors=3)
    no_feature = await client.post(f"/external/events/{event.event_id}/full-access/unlock")
    assert no_feature.status_code == 200 and no_feature.json()["errorKey"] == "USER_HAS_NO_FEATURE"
    await give(db, account.id, 1, "subscription")
    # 5000 needed, 5000 available now: succeeds; a second event with 0 left → 402 with both layers' price.
    assert (await client.post(f"/external/events/{event.event_id}/full-access/unlock")).status_code == 201
    other = await event_with(db, visitors=3)
    poor = await client.post(f"/external/events/{other.event_id}/full-access/unlock")
    assert poor.status_code == 402 and poor.json()["details"]["requiredCredits"] == 5000
    no_contacts = await event_with(db, contacts=0, visitors=3)
    resp = await client.post(f"/external/events/{no_contacts.event_id}/full-access/unlock")
    assert resp.status_code == 400 and resp.json()["errorKey"] == "NO_CONTACTS_AVAILABLE"
    assert await layers_of(db, account.id, other.id) == set()
    assert await charged(db, account.id) == 5000
