"""``Idempotency-Key`` on paid POSTs: replay, 422 on a different request, 409 while running, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.paid import idempotency as idem
from tests.conftest import AccountFixture
from tests.factories import make_exhibitor
from tests.integration.paid_support import charged, event_with, give


async def test_same_key_same_request_replays_without_charging(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 1000)
    async with db.write() as session:
        await make_exhibitor(session, company_name="Replay Robotics")
    url = "/external/exhibitors/search-by-company-name"
    headers = {"Idempotency-Key": "search-1"}
    first = await client.post(url, json={"company_name": "Replay", "page": 1}, headers=headers)
    second = await client.post(url, json={"page": 1, "company_name": "Replay"}, headers=headers)  # key order
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert await charged(db, account.id) == 50
    other_key = await client.post(
        url, json={"company_name": "Replay"}, headers={"Idempotency-Key": "search-2"}
    )
    assert other_key.status_code == 201
    assert await charged(db, account.id) == 100


async def test_same_key_different_request_is_422(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    a, b = await event_with(db), await event_with(db)
    headers = {"Idempotency-Key": "unlock-a"}
    assert (await client.post(f"/external/events/{a.event_id}/unlock", headers=headers)).status_code == 201
    reused = await client.post(f"/external/events/{b.event_id}/unlock", headers=headers)
    assert reused.status_code == 422 and reused.json()["errorKey"] == "IDEMPOTENCY_KEY_REUSED"
    assert await charged(db, account.id) == 2000


async def test_key_in_use_is_409_and_expired_key_is_fresh(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db)
    path = f"/external/events/{event.event_id}/unlock"
    fp = idem.fingerprint("POST", path, "", b"", account.id)
    now = datetime.now(UTC)
    running = await idem.claim(
        db, account.id, "busy", fp, now, timedelta(hours=24)
    )  # a first request in flight
    busy = await client.post(path, headers={"Idempotency-Key": "busy"})
    assert busy.status_code == 409 and busy.json()["errorKey"] == "IDEMPOTENCY_KEY_IN_USE"
    assert await charged(db, account.id) == 0
    await idem.abandon(db, running)
    assert (await client.post(path, headers={"Idempotency-Key": "busy"})).status_code == 201

    # A record past its retention does not replay: the key starts over (here: already unlocked, no charge).
    later = now + timedelta(hours=25)
    fresh = await idem.claim(db, account.id, "busy", fp, later, timedelta(hours=24))
    assert not fresh.is_replay


async def test_crashed_first_request_can_be_taken_over_after_its_lease(
    db: Database, account: AccountFixture
) -> None:
    now = datetime.now(UTC)
    first = await idem.claim(db, account.id, "k", "fp", now, timedelta(hours=24))
    taken = await idem.claim(
        db, account.id, "k", "fp", now + idem.RUNNING_LEASE + timedelta(seconds=1), timedelta(hours=24)
    )
    assert taken.owner_token != first.owner_token and not taken.is_replay
    with pytest.raises(DomainError) as refused:
        await idem.finish(db, first, 201, {})  # the stale owner can no longer store its response
    assert refused.value.code == "IDEMPOTENCY_KEY_IN_USE"


async def test_error_responses_are_stored_and_replayed(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    event = await event_with(db)
    headers = {"Idempotency-Key": "poor"}
    first = await client.post(f"/external/events/{event.event_id}/unlock", headers=headers)
    assert first.status_code == 402
    await give(db, account.id, 5000)
    replay = await client.post(f"/external/events/{event.event_id}/unlock", headers=headers)
    assert replay.status_code == 402 and replay.json() == first.json()  # a new attempt needs a new key
    fresh = await client.post(
        f"/external/events/{event.event_id}/unlock", headers={"Idempotency-Key": "rich"}
    )
    assert fresh.status_code == 201


async def test_invalid_key_is_400(client: httpx.AsyncClient) -> None:
    resp = await client.post("/external/events/x/unlock", headers={"Idempotency-Key": "k" * 256})
    assert resp.status_code == 400


async def test_business_error_with_key_is_replayed(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    event = await event_with(db, visitors=1)
    headers = {"Idempotency-Key": "v"}
    first = await client.post(f"/external/events/{event.event_id}/visitors/unlock", headers=headers)
    again = await client.post(f"/external/events/{event.event_id}/visitors/unlock", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.json()["errorKey"] == "USER_HAS_NO_FEATURE"
