"""Contact unlock endpoints on both backends: submission, skipped reasons, errors, status, settlement."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from showfloor.server.db.uow import Database
from showfloor.server.models import CreditHold, LedgerOperation, UnlockTask, UnlockTaskItem
from showfloor.server.unlocks.claim import claim_items
from showfloor.server.unlocks.providers import DatasetProvider, FaultPlan, FaultProvider
from tests.conftest import AccountFixture, new_account
from tests.integration.unlock_support import (
    assert_settled_cleanly,
    available_now,
    drain,
    give_credits,
    op_total,
    seed_cast,
)

EMAIL = "/external/contacts/unlock"
PHONE = "/external/contacts/unlock-phone"


async def count(db: Database, model: type) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_email_unlock_lifecycle_charges_only_delivered(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=3, no_email=1, ineligible=1, outsider=1)
    p = cast.people
    # One contact the account already has: skipped, not charged.
    first = await client.post(EMAIL, json={"personnel_ids": [str(p["deliverable2"])]})
    assert first.status_code == 201, first.text
    await drain(db)
    assert await available_now(db, account.id) == 1000 - 15

    ids = [str(p[k]) for k in ("deliverable0", "deliverable1", "deliverable2", "no_email0", "ineligible0")]
    body = {
        "event_id": cast.public_event_id,
        "personnel_ids": [*ids, ids[0], "abc", "999999999", str(p["outsider0"])],
    }
    resp = await client.post(EMAIL, json=body, headers={"x-call-source": "agent"})
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["status"] == "accepted" and out["task_id"] == out["job_id"] and out["task_id"].isdigit()
    assert out["skipped_detail"] == {
        "invalid_personnel_ids": ["abc"],
        "missing_personnel_ids": ["999999999"],
        "unlinked_personnel_ids": [str(p["outsider0"])],
        "already_unlocked_personnel_ids": [str(p["deliverable2"])],
        "unlocking_personnel_ids": [],
    }
    assert sorted(out["skipped_personnel_ids"]) == sorted(
        ["abc", "999999999", str(p["outsider0"]), str(p["deliverable2"])]
    )
    # The hold covers the four chargeable people at once.
    assert await available_now(db, account.id) == 1000 - 15 - 4 * 15

    status = await client.get(f"/external/contacts/unlock-tasks/{out['task_id']}")
    assert status.status_code == 200
    assert status.json()["taskStatus"] == "pending"
    assert [i["status"] for i in status.json()["items"]] == ["pending"] * 4

    await drain(db)
    done = (await client.get(f"/external/contacts/unlock-tasks/{out['task_id']}")).json()
    assert done["taskStatus"] == "completed"
    by_id = {item["personnelId"]: item for item in done["items"]}
    assert (
        by_id[str(p["deliverable0"])]["status"] == "unlocked"
        and "@" in by_id[str(p["deliverable0"])]["email"]
    )
    assert by_id[str(p["no_email0"])] == {
        "personnelId": str(p["no_email0"]),
        "status": "failed",
        "errorCode": "NO_EMAIL",
    }
    assert by_id[str(p["ineligible0"])]["errorCode"] == "INELIGIBLE"
    assert "email" not in by_id[str(p["ineligible0"])]
    # Exactly 15 × delivered (1 earlier + 2 now); everything else released.
    assert await available_now(db, account.id) == 1000 - 3 * 15
    assert await op_total(db, account.id, "capture") == 3 * 15
    balance = (await client.get("/external/credits/balance")).json()
    assert balance["totalBalance"] == 1000 - 45
    async with db.read() as session:
        codes = set(
            (
                await session.scalars(
                    select(LedgerOperation.business_code).where(
                        LedgerOperation.kind.in_(("hold", "capture")),
                        LedgerOperation.resource_id.is_not(None),
                    )
                )
            ).all()
        )
    assert codes == {"Contact Email Unlock - API", "Contact Email Unlock - Agent"}
    await assert_settled_cleanly(db, account.id)

    # The personnel endpoint now shows the email to this account only.
    profile = await client.get("/external/personnel/profile", params={"personnel_id": str(p["deliverable0"])})
    assert profile.json()["contactUnlockStatus"] == "unlocked"
    assert profile.json()["email"] == by_id[str(p["deliverable0"])]["email"]
    other = await new_account(db, "other")
    seen = await client.get(
        "/external/personnel/profile", params={"personnel_id": str(p["deliverable0"])}, headers=other.headers
    )
    assert seen.json()["email"] is None and seen.json()["contactUnlockStatus"] == "locked"
    # Another account cannot see the task.
    hidden = await client.get(f"/external/contacts/unlock-tasks/{out['task_id']}", headers=other.headers)
    assert hidden.status_code == 404 and hidden.json()["errorKey"] == "NOT_FOUND"


async def test_phone_unlock_and_status_states(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=2)
    ids = [str(v) for v in cast.people.values()]
    out = (await client.post(PHONE, json={"personnel_ids": ids})).json()
    assert out["status"] == "accepted"
    assert await available_now(db, account.id) == 1000 - 300
    url = f"/external/contacts/unlock-phone-tasks/{out['task_id']}"
    assert (await client.get(url)).json()["taskStatus"] == "pending"
    # Claimed by a worker but not settled yet: processing.
    async with db.write() as session:
        from datetime import UTC, datetime

        claimed = await claim_items(session, "test-worker", 1, 0.0, datetime.now(UTC))
    assert len(claimed) == 1
    mid = (await client.get(url)).json()
    assert mid["taskStatus"] == "processing"
    assert sorted(i["status"] for i in mid["items"]) == ["pending", "processing"]
    # The email poll does not show a phone task.
    assert (await client.get(f"/external/contacts/unlock-tasks/{out['task_id']}")).status_code == 404
    await drain(db)  # the expired lease (0 s) is taken over
    done = (await client.get(url)).json()
    assert done["taskStatus"] == "completed"
    assert all(i["status"] == "unlocked" and i["phone"].startswith("+1") for i in done["items"])
    assert await available_now(db, account.id) == 1000 - 300
    await assert_settled_cleanly(db, account.id)


async def test_provider_failing_every_item_fails_the_task_and_releases_all(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 100)
    cast = await seed_cast(db, deliverable=3)
    out = (await client.post(EMAIL, json={"personnel_ids": [str(v) for v in cast.people.values()]})).json()
    flaky = FaultProvider(DatasetProvider(), FaultPlan(error_rate=1.0))
    await drain(db, flaky, max_attempts=3)
    done = (await client.get(f"/external/contacts/unlock-tasks/{out['task_id']}")).json()
    assert done["taskStatus"] == "failed"
    assert {i["errorCode"] for i in done["items"]} == {"PROVIDER_UNAVAILABLE"}
    assert sum(flaky.calls.values()) == 9  # three attempts each, then given up
    assert await available_now(db, account.id) == 100
    assert await op_total(db, account.id, "capture") == 0
    await assert_settled_cleanly(db, account.id)


async def test_half_failing_provider_releases_exactly_those_credits(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=10)
    out = (await client.post(EMAIL, json={"personnel_ids": [str(v) for v in cast.people.values()]})).json()
    await drain(db, FaultProvider(DatasetProvider(), FaultPlan(permanent_rate=0.5, seed=7)))
    items = (await client.get(f"/external/contacts/unlock-tasks/{out['task_id']}")).json()["items"]
    delivered = sum(i["status"] == "unlocked" for i in items)
    failed = [i for i in items if i["status"] == "failed"]
    assert 0 < delivered < 10 and len(failed) == 10 - delivered
    assert {i["errorCode"] for i in failed} == {"PROVIDER_REJECTED"}
    assert await op_total(db, account.id, "capture") == 15 * delivered
    assert await available_now(db, account.id) == 1000 - 15 * delivered
    await assert_settled_cleanly(db, account.id)


async def test_same_intent_returns_the_open_task_and_overlap_is_skipped(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=3)
    a, b, c = (str(v) for v in cast.people.values())
    first = (await client.post(EMAIL, json={"personnel_ids": [a, b], "event_id": str(cast.event_id)})).json()
    # Same intent (order, duplicates and the event's other identifier do not matter): the same task.
    again = await client.post(EMAIL, json={"personnel_ids": [b, a, a], "event_id": cast.public_event_id})
    assert again.status_code == 201 and again.json()["task_id"] == first["task_id"]
    assert await count(db, UnlockTask) == 1 and await count(db, CreditHold) == 1
    # A different set overlapping the open task: the overlap is skipped as unlocking.
    other = (await client.post(EMAIL, json={"personnel_ids": [a, c]})).json()
    assert other["status"] == "accepted" and other["task_id"] != first["task_id"]
    assert other["skipped_detail"]["unlocking_personnel_ids"] == [a]
    assert await available_now(db, account.id) == 1000 - 3 * 15
    await drain(db)
    # Finished: the same intent again has nothing left to do.
    late = (await client.post(EMAIL, json={"personnel_ids": [a, b]})).json()
    assert late["status"] == "success" and "task_id" not in late
    assert late["skipped_detail"]["already_unlocked_personnel_ids"] == [a, b]
    await assert_settled_cleanly(db, account.id)


async def test_insufficient_credits_creates_nothing(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 20)
    cast = await seed_cast(db, deliverable=2)
    resp = await client.post(EMAIL, json={"personnel_ids": [str(v) for v in cast.people.values()]})
    assert resp.status_code == 402
    assert resp.json()["errorKey"] == "INSUFFICIENT_CREDITS"
    assert resp.json()["details"]["requiredCredits"] == 30
    assert await count(db, UnlockTask) == 0 and await count(db, UnlockTaskItem) == 0
    assert await count(db, CreditHold) == 0
    assert await available_now(db, account.id) == 20


async def test_unlimited_account_is_charged_for_delivered_only(
    db: Database, app_client: httpx.AsyncClient
) -> None:
    rich = await new_account(db, "rich", unlimited=True)
    cast = await seed_cast(db, deliverable=1, no_email=1)
    resp = await app_client.post(
        EMAIL, json={"personnel_ids": [str(v) for v in cast.people.values()]}, headers=rich.headers
    )
    assert resp.status_code == 201
    await drain(db)
    assert await op_total(db, rich.id, "capture") == 15
    await assert_settled_cleanly(db, rich.id)


async def test_request_errors(client: httpx.AsyncClient, db: Database, account: AccountFixture) -> None:
    await give_credits(db, account.id, 100)
    cast = await seed_cast(db, deliverable=1)
    pid = str(cast.people["deliverable0"])
    cases = [
        ({"personnel_ids": []}, 400, "INVALID_REQUEST"),
        ({}, 400, "INVALID_REQUEST"),
        ({"personnel_ids": "1"}, 400, "INVALID_REQUEST"),
        ({"personnel_ids": ["abc", "-1"]}, 400, "INVALID_REQUEST"),
        ({"personnel_ids": [pid], "event_id": ""}, 400, "INVALID_REQUEST"),
        ({"personnel_ids": [pid], "event_id": "no-such-event"}, 404, "NOT_FOUND"),
        ({"personnel_ids": ["987654321"]}, 404, "NOT_FOUND"),
    ]
    for body, status, key in cases:
        for path in (EMAIL, PHONE):
            resp = await client.post(path, json=body)
            assert resp.status_code == status, (body, resp.text)
            assert resp.json()["errorKey"] == key
    too_many = await client.post(EMAIL, json={"personnel_ids": [str(i) for i in range(1, 2002)]})
    assert too_many.status_code == 422
    assert too_many.json()["errorKey"] == "LEAD_SELECTION_LIMIT_EXCEEDED"
    assert too_many.json()["details"] == {"requestedCount": 2001, "limit": 2000, "selectionMode": "selected"}
    for path in ("/external/contacts/unlock-tasks/", "/external/contacts/unlock-phone-tasks/"):
        for task_ref in ("12345", "abc", "99999999999999999999999"):
            resp = await client.get(path + task_ref)
            assert resp.status_code == 404, resp.text
    assert await count(db, UnlockTask) == 0
    unauthenticated = await client.post(EMAIL, json={"personnel_ids": [pid]}, headers={"Authorization": ""})
    assert unauthenticated.status_code == 401


async def test_idempotency_key_replays_and_conflicts(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 100)
    cast = await seed_cast(db, deliverable=2)
    a, b = (str(v) for v in cast.people.values())
    headers = {"Idempotency-Key": "unlock-abc-1"}
    first = await client.post(EMAIL, json={"personnel_ids": [a]}, headers=headers)
    replay = await client.post(EMAIL, json={"personnel_ids": [a]}, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers.get("Idempotent-Replayed") == "true"
    reused = await client.post(EMAIL, json={"personnel_ids": [b]}, headers=headers)
    assert reused.status_code == 422 and reused.json()["errorKey"] == "IDEMPOTENCY_KEY_REUSED"
    assert await count(db, UnlockTask) == 1
    assert await available_now(db, account.id) == 85


async def test_submission_while_the_same_key_is_running_is_409(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from showfloor.server.paid import idempotency as idem

    await give_credits(db, account.id, 100)
    cast = await seed_cast(db, deliverable=1)
    body = {"personnel_ids": [str(cast.people["deliverable0"])]}
    running = idem.fingerprint("POST", EMAIL, "", json.dumps(body).encode(), account.id)
    await idem.claim(db, account.id, "busy-key", running, datetime.now(UTC), timedelta(hours=24))
    resp = await client.post(EMAIL, json=body, headers={"Idempotency-Key": "busy-key"})
    assert resp.status_code == 409 and resp.json()["errorKey"] == "IDEMPOTENCY_KEY_IN_USE"
    assert await count(db, UnlockTask) == 0
