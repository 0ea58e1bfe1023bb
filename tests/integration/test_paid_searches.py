"""Reverse-lookup searches and the LinkedIn activity unlock: charged only for non-empty pages."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import func, select

from showfloor.server.db.uow import Database
from showfloor.server.models import LinkedinActivityUnlock
from showfloor.server.paid import concurrency
from tests.conftest import AccountFixture
from tests.factories import attach_exhibitor, make_exhibitor, make_person
from tests.integration.paid_support import balance, charged, debits, event_with, give


async def test_company_search_charges_only_non_empty_pages(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 120)
    event = await event_with(db)
    async with db.write() as session:
        await make_exhibitor(session, event, company_name="Acme Retail Systems")
        await make_exhibitor(session, company_name="Acme Robotics")
    url = "/external/exhibitors/search-by-company-name"
    resp = await client.post(
        url, json={"company_name": "acme", "pageSize": 1}, headers={"x-call-source": "agent"}
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["total"], body["page"], body["pageSize"], body["totalPages"], body["hasMore"]) == (
        2,
        1,
        1,
        2,
        True,
    )
    assert body["items"][0]["companyName"] == "Acme Robotics"  # shortest name first (precision first)
    assert body["items"][0]["buyingSignalStatus"] is None
    empty = await client.post(url, json={"company_name": "Zenith Nothing"})
    assert empty.status_code == 201 and empty.json()["items"] == [] and empty.json()["total"] == 0
    beyond = await client.post(url, json={"company_name": "acme", "page": 3, "pageSize": 1})
    assert beyond.json()["items"] == [] and beyond.json()["total"] == 2
    page2 = await client.post(url, json={"company_name": "acme", "page": 2, "pageSize": 1})
    assert page2.json()["items"][0]["matched_event_ids"] == [event.event_id]
    assert [(o.amount, o.business_code) for o in await debits(db, account.id)] == [
        (50, "Exhibitor Company Search - Agent"),
        (50, "Exhibitor Company Search - API"),
    ]
    poor = await client.post(url, json={"company_name": "acme"})
    assert poor.status_code == 402
    assert poor.json()["details"] == {"requiredCredits": 50, "availableCredits": 20}
    bad = await client.post(url, json={"company_name": ""})
    assert bad.status_code == 400


async def test_company_search_lists_each_companys_events_most_recent_first(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    """On PostgreSQL the page and its event ids are one statement; on SQLite two. Same answer."""
    await give(db, account.id, 100)
    may = await event_with(db, date_start=date(2026, 5, 1))
    july = await event_with(db, date_start=date(2026, 7, 1))
    undated = await event_with(db, date_start=None)
    async with db.write() as session:
        busy = await make_exhibitor(session, may, company_name="Initech Busy")
        for event in (undated, july):
            await attach_exhibitor(session, event, busy)
        await make_exhibitor(session, company_name="Initech Quiet Holdings")  # at no event
    resp = await client.post("/external/exhibitors/search-by-company-name", json={"company_name": "Initech"})
    assert resp.status_code == 201, resp.text
    items = resp.json()["items"]
    assert [i["companyName"] for i in items] == ["Initech Busy", "Initech Quiet Holdings"]
    assert items[0]["matched_event_ids"] == [july.event_id, may.event_id, undated.event_id]
    assert items[1]["matched_event_ids"] == []


async def test_event_search_by_company(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 150)
    shown = await event_with(db, date_start=date(2026, 5, 1), sponsor_match_starred=True)
    visited = await event_with(db, date_start=date(2026, 6, 1))
    async with db.write() as session:
        company = await make_exhibitor(session, shown, company_name="Globex Corporation")
        await make_person(session, visited, company, visitor_only=True)
    url = "/external/exhibitors/search-events"
    resp = await client.post(url, json={"company_name": "Globex"})
    assert resp.status_code == 201, resp.text
    items = resp.json()["items"]
    assert [i["eventId"] for i in items] == [visited.event_id, shown.event_id]  # most recent first
    assert items[0]["attendance_identity"] == ["visitor"] and items[0]["matchedExhibitors"] == []
    assert items[1]["matchedExhibitors"] == [{"id": str(company.id), "companyName": "Globex Corporation"}]
    starred = await client.post(url, json={"company_name": "Globex", "sponsor_match_starred": 1})
    assert [i["eventId"] for i in starred.json()["items"]] == [shown.event_id]
    visitor = await client.post(url, json={"company_name": "Globex", "attendance_scope": "visitor"})
    assert [i["eventId"] for i in visitor.json()["items"]] == [visited.event_id]
    assert (
        await client.post(url, json={"company_name": "Globex", "attendance_scope": None})
    ).status_code == 400
    assert await charged(db, account.id) == 150  # three non-empty searches


async def test_event_search_concurrency_slot(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    slot = await concurrency.acquire(db, account.id, concurrency.EXHIBITOR_EVENT_SEARCH)
    resp = await client.post("/external/exhibitors/search-events", json={"company_name": "Anything"})
    assert resp.status_code == 200
    assert resp.json() == {
        "code": 429,
        "message": "Too many concurrent requests for this endpoint",
        "errorKey": "USER_CONCURRENCY_LIMIT_EXCEEDED",
        "data": None,
        "details": None,
        "traceId": resp.json()["traceId"],
    }
    await concurrency.release(db, slot)
    assert (
        await client.post("/external/exhibitors/search-events", json={"company_name": "x"})
    ).status_code == 201


async def test_events_by_name(db: Database, client: httpx.AsyncClient, account: AccountFixture) -> None:
    url = "/external/personnel/events/by-name"
    params = {"person_name": "  jane DOE ", "date_start_from": "2026-01-01"}
    await give(db, account.id, 500, "gift")
    free_user = await client.get(url, params=params)
    assert free_user.status_code == 200 and free_user.json()["errorKey"] == "USER_HAS_NO_FEATURE"

    await give(db, account.id, 100, "subscription")
    late = await event_with(db, date_start=date(2026, 9, 1))
    early = await event_with(db, date_start=date(2026, 2, 1))
    old = await event_with(db, date_start=date(2025, 2, 1))
    async with db.write() as session:
        company = await make_exhibitor(session, late, company_name="Initech")
        jane = await make_person(session, late, company, full_name="Jane Doe")
        other_jane = await make_person(session, early, None, full_name="JANE DOE", visitor_only=True)
        from tests.factories import attend

        await attend(session, old, jane, company)
        await make_person(session, early, None, full_name="Jane Doe-Smith")  # not an exact match
    resp = await client.get(url, params=params)
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert [i["eventId"] for i in items] == [early.event_id, late.event_id]  # dateStart ascending
    assert [i["attendance_identity"] for i in items] == [["visitor"], ["exhibitor_employee"]]
    assert other_jane.id != jane.id
    visitor = await client.get(url, params={**params, "attendance_scope": "visitor"})
    assert [i["eventId"] for i in visitor.json()["items"]] == [early.event_id]
    nobody = await client.get(url, params={"person_name": "No Such Person"})
    assert nobody.json()["items"] == []
    assert [o.business_code for o in await debits(db, account.id)] == ["Personnel Events By Name - API"] * 2
    assert (await client.get(url, params={"person_name": "   "})).status_code == 400


async def test_by_name_concurrency_cap_is_ten(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    slots = [
        await concurrency.acquire(db, account.id, concurrency.PERSONNEL_EVENTS_BY_NAME) for _ in range(10)
    ]
    resp = await client.get("/external/personnel/events/by-name", params={"person_name": "X"})
    assert resp.status_code == 200 and resp.json()["errorKey"] == "USER_CONCURRENCY_LIMIT_EXCEEDED"
    await concurrency.release(db, slots[0])
    resp = await client.get("/external/personnel/events/by-name", params={"person_name": "X"})
    assert resp.json()["errorKey"] == "USER_HAS_NO_FEATURE"  # past the cap, stopped by the next guard


async def test_linkedin_activity_unlock(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    event = await event_with(db)
    async with db.write() as session:
        person = await make_person(session, event)
        ready = await make_person(session, None, linkedin_activity_level="ACTIVE")
        no_url = await make_person(session, None, linkedin_url=None)
    url = "/external/personnel/unlock-linkedin-activity"
    ids = [str(person.id), str(ready.id), str(no_url.id), "999999", "abc"]
    resp = await client.post(url, json={"personnel_ids": ids})
    assert resp.status_code == 201, resp.text
    items = {i["personnel_id"]: i for i in resp.json()["items"]}
    assert items[str(person.id)] == {
        "personnel_id": str(person.id), "success": True, "alreadyUnlocked": False, "taskId": None, "error": None,
    }  # fmt: skip
    assert items[str(no_url.id)]["error"] == "Personnel has no LinkedIn URL"
    assert items["999999"]["success"] is False and items["abc"]["success"] is False
    async with db.read() as session:
        rows = dict(
            (
                await session.execute(
                    select(LinkedinActivityUnlock.personnel_id, LinkedinActivityUnlock.status)
                )
            ).all()
        )
    assert rows == {person.id: "processing", ready.id: "ready"}
    listed = await client.get("/external/personnel/list", params={"event_id": event.event_id})
    card = next(c for c in listed.json()["items"] if c["id"] == str(person.id))
    assert card["linkedinActivityStatus"] == "processing"  # this account's status changed
    assert card["email"] is None and card["contactUnlockStatus"] == "locked"  # never unlocks an email

    again = await client.post(url, json={"personnel_ids": [str(person.id)], "event_id": event.event_id})
    item = again.json()["items"][0]
    assert item["alreadyUnlocked"] is True and item["taskId"] is not None and item["taskId"].isdigit()
    outsider = await client.post(url, json={"personnel_ids": [str(ready.id)], "event_id": event.event_id})
    assert outsider.json()["items"][0]["success"] is False
    assert await charged(db, account.id) == 0  # free by default

    too_many = await client.post(url, json={"personnel_ids": [str(i) for i in range(1, 2002)]})
    assert too_many.status_code == 422 and too_many.json()["errorKey"] == "LEAD_SELECTION_LIMIT_EXCEEDED"
    assert too_many.json()["details"] == {"requestedCount": 2001, "limit": 2000, "selectionMode": "selected"}
    extra = await client.post(url, json={"personnel_ids": ["1"], "surprise": True})
    assert extra.status_code == 400
    assert (await client.post(url, json={"personnel_ids": []})).status_code == 400
    assert (await client.post(url, json={"personnel_ids": ["1"], "event_id": "missing"})).status_code == 404
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(LinkedinActivityUnlock)) == 2
    assert await balance(db, account.id) == 0
