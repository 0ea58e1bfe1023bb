"""A plan with other prices, end to end: ``showfloor admin plans`` → semantics, precheck and charge agree."""

from __future__ import annotations

import httpx

from showfloor.server.db.uow import Database
from tests.conftest import AccountFixture
from tests.factories import make_exhibitor, make_person
from tests.integration.paid_support import debits, event_with, give
from tests.integration.test_admin_accounts_cli import admin, admin_json


async def test_plan_prices_drive_semantics_precheck_and_charges(
    db: Database, db_url: str, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    assert admin_json(db_url, "plans", "create", "pro")["name"] == "pro"
    for action, credits in (
        ("event_unlock", 1200),
        ("exhibitor_company_search", 7),
        ("linkedin_activity", 3),
    ):
        done = admin(
            db_url, "plans", "set-price", "--plan", "pro", "--action", action, "--credits", str(credits)
        )
        assert done.returncode == 0, done.stderr
    assert admin(db_url, "plans", "assign", "--account", str(account.id), "--plan", "pro").returncode == 0
    listed = {p["name"]: p["prices"] for p in admin_json(db_url, "plans", "list")}
    assert listed["pro"]["event_unlock"] == 1200 and listed["pro"]["visitor_unlock"] == 3000
    assert listed["(default)"]["event_unlock"] == 2000
    bad = admin(db_url, "plans", "set-price", "--plan", "pro", "--action", "nope", "--credits", "1")
    assert bad.returncode == 2 and "unknown action 'nope'" in " ".join(bad.stderr.split()), (
        bad.stderr
    )  # usage

    await give(db, account.id, 1300)
    event = await event_with(db)
    async with db.write() as session:
        company = await make_exhibitor(session, event, company_name="Planned Parts")
        person = await make_person(session, event, company)
        for _ in range(50):  # more people than the preview shows, so semantics quotes the unlock
            await make_person(session, event, company)
    listing = await client.get("/external/personnel/list", params={"event_id": event.event_id})
    assert listing.json()["semantics"]["unlock"]["credits"] == 1200
    pre = await client.post(
        "/external/actions/precheck",
        json={"action_type": "unlock_event_contacts", "params": {"event_id": event.id}},
    )
    assert (pre.json()["allowed"], pre.json()["credits"]) == (True, 1200)
    unlocked = await client.post(f"/external/events/{event.event_id}/unlock")
    assert unlocked.json()["creditsUsed"] == 1200 and unlocked.json()["balanceAfter"]["totalBalance"] == 100
    search = await client.post(
        "/external/exhibitors/search-by-company-name", json={"company_name": "Planned"}
    )
    assert search.status_code == 201
    linkedin = await client.post(
        "/external/personnel/unlock-linkedin-activity", json={"personnel_ids": [str(person.id)]}
    )
    assert linkedin.status_code == 201 and linkedin.json()["items"][0]["success"] is True
    ops = await debits(db, account.id)
    assert [(o.amount, o.business_code) for o in ops] == [
        (1200, "Event Unlock - API"),
        (7, "Exhibitor Company Search - API"),
        (3, "LinkedIn Activity Unlock - API"),
    ]
    assert (await client.get("/external/credits/balance")).json()["totalBalance"] == 1300 - 1200 - 7 - 3
    # The plan's prices also decide refusals: a second event at 1200 with 90 left is a 402 naming 1200.
    other = await event_with(db)
    poor = await client.post(f"/external/events/{other.event_id}/unlock")
    assert poor.status_code == 402 and poor.json()["details"] == {
        "requiredCredits": 1200,
        "availableCredits": 90,
    }
