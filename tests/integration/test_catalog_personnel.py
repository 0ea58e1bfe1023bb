"""Personnel read endpoints: list (preview/full, filters, pagination), profile, events, by-LinkedIn.

Both backends. Response items are validated against the reference's component schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from showfloor.server.access.service import record_contact_unlock, record_event_unlock
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.models.access import LinkedinActivityUnlock
from showfloor.server.models.catalog import Event, Personnel
from tests.conftest import AccountFixture, new_account, test_settings
from tests.factories import attend, make_event, make_exhibitor, make_person
from tests.integration.test_foundation import assert_error_body
from tests.schema_check import assert_matches

PREVIEW_LIMIT = 3
NO_KEY = {"Authorization": ""}  # `client` and `app_client` share headers: override per request


@pytest.fixture
def settings(db_url: str) -> Settings:
    # A small preview window keeps the data small.
    return test_settings(db_url, preview_limit=PREVIEW_LIMIT)


@dataclass
class World:
    event: Event
    other_event: Event
    acme_id: int
    globex_id: int
    people: list[Personnel]  # ranks 0..6 at `event`, not visitor-only
    visitor: Personnel  # visitor-only at `event`


async def make_world(db: Database) -> World:
    async with db.write() as s:
        event = await make_event(s, name="Retail Expo", date_start=date(2026, 5, 1))
        other = await make_event(s, name="Retail Summit", date_start=date(2026, 9, 1))
        acme = await make_exhibitor(s, event, company_name="Acme Retail Systems")
        globex = await make_exhibitor(s, event, company_name="Globex")
        specs: list[dict[str, Any]] = [
            {
                "exhibitor": acme,
                "full_name": "Jane Smith",
                "title": "VP Marketing",
                "department": "marketing",
                "seniority_level": "vp",
                "source_types": ["exhibitor", "social"],
                "linkedin_url": "https://www.linkedin.com/in/jane-smith/",
            },
            {"exhibitor": acme, "full_name": "John Doe", "title": "Sales Director"},
            {
                "exhibitor": globex,
                "full_name": "Ann Lee",
                "title": "CTO",
                "department": "engineering",
                "seniority_level": "c_level",
            },
            {"exhibitor": None, "full_name": "Bob Social", "title": "Analyst", "source_types": ["social"]},
            {
                "exhibitor": globex,
                "full_name": "Cara Both",
                "title": "Buyer",
                "source_types": ["exhibitor", "visitors"],
            },
            {"exhibitor": acme, "full_name": "Dan Park", "title": "Engineer", "department": "engineering"},
            {"exhibitor": None, "full_name": "Eve Guest", "title": "Consultant", "source_types": ["social"]},
        ]
        people = []
        for spec in specs:
            exhibitor = spec.pop("exhibitor")
            people.append(await make_person(s, event, exhibitor, **spec))
        visitor = await make_person(s, event, None, visitor_only=True, full_name="Val Visitor")
        # Jane also attended the summit as a visitor only.
        await attend(s, other, people[0], None, visitor_only=True)
        return World(event, other, acme.id, globex.id, people, visitor)


def names(body: dict[str, Any]) -> list[str]:
    return [item["fullName"] for item in body["items"]]


async def unlock(db: Database, account_id: int, event: Event, layer: str) -> None:
    async with db.write() as s:
        assert await record_event_unlock(s, account_id, event.id, layer, None)


# --- list -------------------------------------------------------------------------------------


async def test_list_shape_both_identifiers_and_preview(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(db)
    by_public = await client.get("/external/personnel/list", params={"event_id": w.event.event_id})
    assert by_public.status_code == 200, by_public.text
    body = by_public.json()
    assert_matches(body, "ContactPageWithSemantics")
    for item in body["items"]:
        assert_matches(item, "ContactItem")
    assert names(body) == ["Jane Smith", "John Doe", "Ann Lee"]
    assert (body["total"], body["page"], body["pageSize"]) == (7, 1, 50)
    assert body["items"][0]["sourceType"] == ["exhibitor", "social"]
    assert body["items"][0]["companyName"] == "Acme Retail Systems"
    assert body["items"][0]["eventCount"] == 2
    sem = body["semantics"]
    assert sem["accessMode"] == "preview" and sem["previewLimit"] == PREVIEW_LIMIT
    assert sem["counts"] == {"actualTotal": 7, "visibleTotal": 3, "remainingLockedCount": 4}
    assert sem["unlock"] == {
        "requiredForMoreResults": True,
        "actionType": "unlock_event_personnel",
        "credits": 2000,
    }
    assert sem["guidance"]["code"] == "preview_results_truncated"
    by_internal = await client.get("/external/personnel/list", params={"event_id": str(w.event.id)})
    assert by_internal.json() == body


async def test_preview_pages_then_base_then_visitor_unlock(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    w = await make_world(db)
    url = "/external/personnel/list"
    params: dict[str, Any] = {"event_id": w.event.event_id, "pageSize": 2}
    page1 = (await client.get(url, params=params)).json()
    page2 = (await client.get(url, params={**params, "page": 2})).json()
    page3 = (await client.get(url, params={**params, "page": 3})).json()
    assert names(page1) == ["Jane Smith", "John Doe"] and names(page2) == ["Ann Lee"]
    assert page1["semantics"]["pageState"] == {"requestedPage": 1, "accessible": True, "maxAccessiblePage": 2}
    assert page3["items"] == [] and (page3["total"], page3["totalPages"], page3["hasMore"]) == (0, 0, False)
    assert page3["semantics"]["pageState"]["accessible"] is False
    assert page3["semantics"]["guidance"]["code"] == "preview_page_inaccessible"
    assert page3["semantics"]["counts"]["actualTotal"] == 7

    await unlock(db, account.id, w.event, "base")
    full = (await client.get(url, params={"event_id": w.event.event_id})).json()
    assert full["semantics"]["accessMode"] == "full" and full["semantics"]["previewLimit"] is None
    assert full["semantics"]["counts"] == {"actualTotal": 7, "visibleTotal": 7, "remainingLockedCount": 0}
    assert full["semantics"]["unlock"]["requiredForMoreResults"] is False
    assert len(full["items"]) == full["total"] == 7
    assert "Val Visitor" not in names(full)  # the visitor layer is still locked
    last = (await client.get(url, params={**params, "page": 4})).json()
    assert names(last) == ["Eve Guest"] and last["hasMore"] is False and last["totalPages"] == 4
    beyond = (await client.get(url, params={**params, "page": 9})).json()
    assert beyond["items"] == [] and beyond["total"] == 7

    await unlock(db, account.id, w.event, "visitor")
    both = (await client.get(url, params={"event_id": w.event.event_id})).json()
    assert both["total"] == 8 and names(both)[-1] == "Val Visitor"
    assert both["semantics"]["counts"] == {"actualTotal": 8, "visibleTotal": 8, "remainingLockedCount": 0}
    visitors = (await client.get(url, params={"event_id": w.event.event_id, "sourceType": "visitors"})).json()
    assert names(visitors) == ["Cara Both", "Val Visitor"]

    # Another account still sees the preview.
    other = await new_account(db, "other")
    theirs = (await client.get(url, params={"event_id": w.event.event_id}, headers=other.headers)).json()
    assert theirs["semantics"]["accessMode"] == "preview" and len(theirs["items"]) == PREVIEW_LIMIT


async def test_list_filters(client: httpx.AsyncClient, db: Database, account: AccountFixture) -> None:
    w = await make_world(db)
    await unlock(db, account.id, w.event, "base")

    async def listed(**params: Any) -> list[str]:
        resp = await client.get("/external/personnel/list", params={"event_id": w.event.event_id, **params})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["semantics"]["counts"]["actualTotal"] == body["total"] == len(body["items"])
        return names(body)

    assert await listed(exhibitor_id=str(w.globex_id)) == ["Ann Lee", "Cara Both"]
    assert await listed(exhibitor_id="999999") == []
    assert await listed(department="Engineering") == ["Ann Lee", "Dan Park"]
    assert await listed(level="vp") == ["Jane Smith"]
    assert await listed(department="engineering", level="c_level") == ["Ann Lee"]
    assert await listed(search_query="jane") == ["Jane Smith"]
    assert await listed(search_query="direct") == ["John Doe"]  # title, word prefix
    assert await listed(search_query="acme") == []  # company is not searched here
    assert await listed(sourceType="social") == ["Jane Smith", "Bob Social", "Eve Guest"]
    assert await listed(sourceType="social,visitors") == [
        "Jane Smith",
        "Bob Social",
        "Cara Both",
        "Eve Guest",
    ]
    assert await listed(sourceType=["exhibitor", "visitors"]) == await listed(sourceType="exhibitor,visitors")
    assert await listed(sourceType="", unknown_param="x") == await listed()


async def test_filtered_preview_counts(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(db)
    resp = await client.get(
        "/external/personnel/list", params={"event_id": w.event.event_id, "sourceType": "social"}
    )
    sem = resp.json()["semantics"]
    assert sem["counts"] == {"actualTotal": 3, "visibleTotal": 3, "remainingLockedCount": 0}
    assert sem["guidance"]["code"] == "preview_complete_for_query"
    assert sem["unlock"] == {"requiredForMoreResults": False, "actionType": None, "credits": None}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"event_id": ""},
        {"event_id": "x" * 101},
        {"pageSize": "51"},
        {"pageSize": "0"},
        {"page": "0"},
        {"page": "abc"},
        {"sourceType": "vip"},
        {"department": "d" * 101},
        {"level": "l" * 51},
        {"search_query": "q" * 201},
        {"exhibitor_id": "abc"},
    ],
    ids=lambda p: ",".join(p) or "missing-event",
)
async def test_list_invalid_parameters(
    client: httpx.AsyncClient, db: Database, params: dict[str, str]
) -> None:
    w = await make_world(db)
    query = {"event_id": w.event.event_id, **params} if params else {}
    assert_error_body(await client.get("/external/personnel/list", params=query), 400, "INVALID_REQUEST")


async def test_list_unknown_event_and_no_key(
    client: httpx.AsyncClient, app_client: httpx.AsyncClient
) -> None:
    assert_error_body(
        await client.get("/external/personnel/list", params={"event_id": "nope"}), 404, "NOT_FOUND"
    )
    resp = await app_client.get("/external/personnel/list", params={"event_id": "nope"}, headers=NO_KEY)
    assert_error_body(resp, 401, "INVALID_API_KEY")


async def test_contact_fields_only_for_the_unlocking_account(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    w = await make_world(db)
    jane = w.people[0]
    async with db.write() as s:
        await record_contact_unlock(s, account.id, jane.id, "email", "jane@acme.example", None)
        await record_contact_unlock(s, account.id, jane.id, "phone", "+15550001", None)
        s.add(
            LinkedinActivityUnlock(
                account_id=account.id, personnel_id=jane.id, status="ready", created_at=datetime.now(UTC)
            )
        )
        jane_row = await s.get(Personnel, jane.id)
        assert jane_row is not None
        jane_row.linkedin_activity_level = "active"
        jane_row.linkedin_latest_post_at = datetime(2026, 1, 2, tzinfo=UTC)

    mine = (await client.get("/external/personnel/list", params={"event_id": w.event.event_id})).json()
    first, second = mine["items"][0], mine["items"][1]
    assert (first["email"], first["phone"]) == ("jane@acme.example", "+15550001")
    assert (first["contactUnlockStatus"], first["phoneUnlockStatus"]) == ("unlocked", "ready")
    assert first["linkedinActivityStatus"] == "ready"
    assert first["linkedinActivity"] == {
        "activityLevel": "ACTIVE",
        "isActive": True,
        "latestPostAt": str(int(datetime(2026, 1, 2, tzinfo=UTC).timestamp() * 1000)),
    }
    assert (second["email"], second["phone"], second["contactUnlockStatus"]) == (None, None, "locked")
    assert second["phoneUnlockStatus"] is None and second["linkedinActivity"] is None

    profile = (await client.get("/external/personnel/profile", params={"personnel_id": str(jane.id)})).json()
    assert profile["email"] == "jane@acme.example" and profile["contactUnlockStatus"] == "unlocked"
    assert profile["linkedinActivity"] is None and profile["linkedinActivityStatus"] is None

    other = await new_account(db, "other")
    theirs = (
        await client.get(
            "/external/personnel/list", params={"event_id": w.event.event_id}, headers=other.headers
        )
    ).json()["items"][0]
    assert (theirs["email"], theirs["phone"], theirs["contactUnlockStatus"]) == (None, None, "locked")
    assert theirs["linkedinActivityStatus"] is None and theirs["linkedinActivity"] is None
    their_profile = await client.get(
        "/external/personnel/profile", params={"personnel_id": str(jane.id)}, headers=other.headers
    )
    assert their_profile.json()["email"] is None


# --- profile ----------------------------------------------------------------------------------


async def test_profile(client: httpx.AsyncClient, db: Database, app_client: httpx.AsyncClient) -> None:
    w = await make_world(db)
    jane = w.people[0]
    resp = await client.get("/external/personnel/profile", params={"personnel_id": str(jane.id)})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert_matches(body, "ContactItem")
    assert body["id"] == str(jane.id) and body["fullName"] == "Jane Smith"
    # Labels aggregated across both events; both events counted.
    assert body["sourceType"] == ["exhibitor", "social", "visitors"] and body["eventCount"] == 2
    assert (body["email"], body["contactUnlockStatus"]) == (None, "locked")

    for bad in ("", "abc", "1" * 21):
        assert_error_body(
            await client.get("/external/personnel/profile", params={"personnel_id": bad}),
            400,
            "INVALID_REQUEST",
        )
    assert_error_body(await client.get("/external/personnel/profile"), 400, "INVALID_REQUEST")
    assert_error_body(
        await client.get("/external/personnel/profile", params={"personnel_id": "99999999"}), 404, "NOT_FOUND"
    )
    assert_error_body(
        await app_client.get(
            "/external/personnel/profile", params={"personnel_id": str(jane.id)}, headers=NO_KEY
        ),
        401,
        "INVALID_API_KEY",
    )


# --- a person's events ------------------------------------------------------------------------


async def test_person_events_scopes_and_pages(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(db)
    jane = str(w.people[0].id)
    url = "/external/personnel/events"

    resp = await client.get(url, params={"personnel_id": jane})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert_matches(body, "PersonnelRelatedEventPage")
    for item in body["items"]:
        assert_matches(item, "PersonnelRelatedEventItem")
    # Newest first; identities are per event.
    assert [(i["eventId"], i["attendance_identity"]) for i in body["items"]] == [
        (w.other_event.event_id, ["visitor"]),
        (w.event.event_id, ["exhibitor_employee"]),
    ]
    assert (body["total"], body["pageSize"], body["totalPages"], body["hasMore"]) == (2, 20, 1, False)

    employee = await client.get(url, params={"personnel_id": jane, "attendance_scope": "exhibitor_employee"})
    assert [i["eventId"] for i in employee.json()["items"]] == [w.event.event_id]
    visitor = (await client.get(url, params={"personnel_id": jane, "attendance_scope": "visitor"})).json()
    assert [i["eventId"] for i in visitor["items"]] == [w.other_event.event_id]

    first = (await client.get(url, params={"personnel_id": jane, "pageSize": 1})).json()
    last = (await client.get(url, params={"personnel_id": jane, "pageSize": 1, "page": 2})).json()
    empty = (await client.get(url, params={"personnel_id": jane, "pageSize": 1, "page": 3})).json()
    assert first["hasMore"] is True and first["totalPages"] == 2
    assert last["hasMore"] is False and last["items"][0]["eventId"] == w.event.event_id
    assert empty["items"] == [] and empty["total"] == 2

    # A person with a social signal only has no attendance evidence.
    bob = str(w.people[3].id)
    assert (await client.get(url, params={"personnel_id": bob})).json()["total"] == 0

    for params in (
        {"attendance_scope": "null"},
        {"attendance_scope": "exhibitor"},
        {"pageSize": "101"},
        {"page": "0"},
        {"personnel_id": "x1"},
    ):
        resp = await client.get(url, params={"personnel_id": jane, **params})
        assert_error_body(resp, 400, "INVALID_REQUEST")
    assert_error_body(await client.get(url, params={"personnel_id": "424242"}), 404, "NOT_FOUND")
    assert_error_body(
        await client.get(url, params={"personnel_id": jane}, headers=NO_KEY), 401, "INVALID_API_KEY"
    )


async def test_events_by_linkedin(
    client: httpx.AsyncClient, db: Database, app_client: httpx.AsyncClient
) -> None:
    w = await make_world(db)
    url = "/external/personnel/events/by-linkedin"
    for spelling in (
        "https://www.linkedin.com/in/jane-smith/",
        "https://linkedin.com/in/jane-smith",
        "HTTP://WWW.LinkedIn.com/in/Jane-Smith/?trk=abc",
        "linkedin.com/in/jane-smith/",
    ):
        resp = await client.get(url, params={"linkedin_url": spelling})
        assert resp.status_code == 200, (spelling, resp.text)
        body = resp.json()
        assert body["personnel"]["id"] == str(w.people[0].id)
    assert_matches(body["personnel"], "ContactItem")
    assert_matches(body["events"], "PersonnelRelatedEventPage")
    assert body["personnel"]["linkedinActivity"] is None
    assert body["events"]["total"] == 2
    visitor_only = (
        await client.get(
            url, params={"linkedin_url": "https://linkedin.com/in/jane-smith", "attendance_scope": "visitor"}
        )
    ).json()
    assert [i["eventId"] for i in visitor_only["events"]["items"]] == [w.other_event.event_id]

    for missing in ("https://linkedin.com/in/nobody", "https://example.com/in/jane-smith", "jane"):
        assert_error_body(await client.get(url, params={"linkedin_url": missing}), 404, "NOT_FOUND")
    for params in (
        {},
        {"linkedin_url": "x" * 501},
        {"linkedin_url": "https://linkedin.com/in/jane-smith", "attendance_scope": "null"},
    ):
        assert_error_body(await client.get(url, params=params), 400, "INVALID_REQUEST")
    assert_error_body(
        await app_client.get(
            url, params={"linkedin_url": "https://linkedin.com/in/jane-smith"}, headers=NO_KEY
        ),
        401,
        "INVALID_API_KEY",
    )
