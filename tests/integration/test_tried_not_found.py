"""An unlock tried that found nothing reads differently from one never tried (issue 18, item 2):
``contactUnlockStatus`` ``not_found`` (email) / ``phoneUnlockStatus`` ``failed`` (phone), on both backends."""

from __future__ import annotations

import httpx

from showfloor.server.db.uow import Database
from tests.conftest import AccountFixture, new_account
from tests.integration.unlock_support import drain, give_credits, seed_cast


async def test_tried_nothing_found_is_not_never_tried(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=2, no_email=1)
    p = cast.people
    tried = [str(p["deliverable0"]), str(p["no_email0"])]
    for path in ("/external/contacts/unlock", "/external/contacts/unlock-phone"):
        assert (await client.post(path, json={"personnel_ids": tried})).status_code == 201
    await drain(db)
    listed = await client.get("/external/personnel/list", params={"event_id": cast.public_event_id})
    assert listed.status_code == 200, listed.text
    by_id = {item["id"]: item for item in listed.json()["items"]}
    delivered, nothing, never = (by_id[str(p[k])] for k in ("deliverable0", "no_email0", "deliverable1"))
    assert delivered["contactUnlockStatus"] == "unlocked" and delivered["email"]
    assert delivered["phoneUnlockStatus"] == "ready" and delivered["phone"]
    assert (nothing["contactUnlockStatus"], nothing["email"]) == ("not_found", None)
    assert (nothing["phoneUnlockStatus"], nothing["phone"]) == ("failed", None)
    assert (never["contactUnlockStatus"], never["phoneUnlockStatus"]) == ("locked", None)
    profile = await client.get("/external/personnel/profile", params={"personnel_id": str(p["no_email0"])})
    assert profile.json()["contactUnlockStatus"] == "not_found"
    # Another account's attempts say nothing about this one.
    other = await new_account(db, "other")
    theirs = await client.get(
        "/external/personnel/profile", params={"personnel_id": str(p["no_email0"])}, headers=other.headers
    )
    assert theirs.json()["contactUnlockStatus"] == "locked"
