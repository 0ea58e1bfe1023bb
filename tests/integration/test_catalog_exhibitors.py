"""Exhibitors: event list (filters, nested personnel, preview vs full), profile, events, search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import update

from showfloor.server.access.service import record_contact_unlock, record_event_unlock
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.models.accounts import Account, Plan, PlanPrice
from showfloor.server.models.catalog import Event, Exhibitor, Personnel
from tests.conftest import AccountFixture, new_account, test_settings
from tests.factories import attend, make_event, make_exhibitor, make_person
from tests.integration.test_foundation import assert_error_body
from tests.schema_check import assert_matches, schema_properties

LIST = "/external/exhibitors/list"
PREVIEW_LIMIT = 3


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(db_url, preview_limit=PREVIEW_LIMIT)


@dataclass
class Show:
    event: Event
    other: Event
    exhibitors: list[Exhibitor]  # in rank order
    vp: Personnel  # marketing VP at exhibitors[0]
    visitor: Personnel  # visitor-only person from exhibitors[4]'s company


async def _seed(db: Database) -> Show:
    async with db.write() as session:
        event = await make_event(session, name="Retail Expo", date_start=date(2026, 5, 1))
        other = await make_event(session, name="Older Show", date_start=date(2025, 5, 1))
        specs = [
            (
                "Acme Analytics",
                "Software",
                "United States",
                ["Analytics", "Retail"],
                "Retail analytics platform",
            ),
            ("Beta Robotics", "Robotics", "Germany", ["Automation"], "Warehouse robots"),
            ("Gamma Payments", "Fintech", "United States", ["Payments", "POS"], "Point of sale payments"),
            ("Delta Foods", "Food", "France", ["Grocery"], "Organic snacks"),
            ("Epsilon Cloud", "Software", "United States", ["Cloud"], "Cloud hosting for retailers"),
        ]
        exhibitors = [
            await make_exhibitor(
                session,
                event,
                company_name=name,
                industry=ind,
                country=country,
                categories=cats,
                description=desc,
            )
            for name, ind, country, cats, desc in specs
        ]
        vp = await make_person(
            session, event, exhibitors[0], title="VP Marketing", seniority_level="vp", department="marketing"
        )
        await make_person(session, event, exhibitors[0], title="Sales Engineer", seniority_level="staff")
        await make_person(session, event, exhibitors[1], title="Head of Sales", seniority_level="director")
        visitor = await make_person(
            session,
            event,
            exhibitors[4],
            visitor_only=True,
            title="Chief Marketing Officer",
            seniority_level="c_suite",
            department="marketing",
        )
        # Visitor-only rows carry no event-scoped exhibitor; the company link is the person's.
        await make_exhibitor(session, other, company_name="Zeta Tools")
        await attend(session, other, vp, exhibitors[0])
        await attend(session, other, visitor, visitor_only=True)
    return Show(event, other, exhibitors, vp, visitor)


def _ids(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [str(i["companyName"]) for i in items]


async def test_list_shape_and_preview_window(client: httpx.AsyncClient, db: Database) -> None:
    show = await _seed(db)
    resp = await client.get(LIST, params={"event_id": show.event.event_id, "pageSize": 2})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert_matches(body, "ExhibitorPageWithSemantics")
    assert_matches(body["semantics"], "AccessSemantics")
    item = body["items"][0]
    assert_matches(item, "ExhibitorItem")
    assert schema_properties("ExhibitorItem") <= set(item)
    assert item["matched_event_ids"] == [show.event.event_id] and item["categories"] == [
        "Analytics",
        "Retail",
    ]
    assert body["recommendationProcessing"] is False and body["recommendationProcessingFeature"] == "none"
    assert _ids(body) == ["Acme Analytics", "Beta Robotics"]
    assert (body["total"], body["totalPages"], body["hasMore"]) == (5, 3, True)
    sem = body["semantics"]
    assert sem["accessMode"] == "preview" and sem["previewLimit"] == PREVIEW_LIMIT
    assert sem["counts"] == {"actualTotal": 5, "visibleTotal": 3, "remainingLockedCount": 2}
    assert sem["pageState"] == {"requestedPage": 1, "accessible": True, "maxAccessiblePage": 2}
    assert sem["unlock"] == {
        "requiredForMoreResults": True,
        "actionType": "unlock_event_exhibitors",
        "credits": 2000,
    }
    assert sem["guidance"]["code"] == "preview_results_truncated" and sem["guidance"]["message"]

    page2 = (
        await client.get(LIST, params={"event_id": show.event.event_id, "pageSize": 2, "page": 2})
    ).json()
    assert _ids(page2) == ["Gamma Payments"]  # only the 3rd record is inside the window
    assert page2["semantics"]["pageState"]["accessible"] is True

    page3 = (
        await client.get(LIST, params={"event_id": show.event.event_id, "pageSize": 2, "page": 3})
    ).json()
    assert page3["items"] == [] and (page3["total"], page3["totalPages"], page3["hasMore"]) == (0, 0, False)
    sem3 = page3["semantics"]
    assert sem3["pageState"] == {"requestedPage": 3, "accessible": False, "maxAccessiblePage": 2}
    assert sem3["guidance"]["code"] == "preview_page_inaccessible"
    assert sem3["counts"]["actualTotal"] == 5 and sem3["unlock"]["requiredForMoreResults"] is True


async def test_unlock_gives_full_access_only_to_that_account(
    client: httpx.AsyncClient, app_client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    show = await _seed(db)
    other = await new_account(db, "other")
    async with db.write() as session:
        assert await record_event_unlock(session, account.id, show.event.id, "base", None)
    body = (await client.get(LIST, params={"event_id": str(show.event.id), "pageSize": 2, "page": 3})).json()
    assert _ids(body) == ["Epsilon Cloud"] and body["total"] == 5 and body["hasMore"] is False
    sem = body["semantics"]
    assert sem["accessMode"] == "full" and sem["previewLimit"] is None
    assert sem["counts"] == {"actualTotal": 5, "visibleTotal": 5, "remainingLockedCount": 0}
    assert sem["pageState"] == {"requestedPage": 3, "accessible": True, "maxAccessiblePage": 3}
    assert sem["unlock"] == {"requiredForMoreResults": False, "actionType": None, "credits": None}
    theirs = (
        await app_client.get(
            LIST, params={"event_id": show.event.event_id, "pageSize": 2, "page": 3}, headers=other.headers
        )
    ).json()
    assert theirs["items"] == [] and theirs["semantics"]["accessMode"] == "preview"


async def test_unlock_credits_come_from_the_plan_price(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    show = await _seed(db)
    async with db.write() as session:
        plan = Plan(name="discount", created_at=datetime.now(UTC))
        session.add(plan)
        await session.flush()
        session.add(PlanPrice(plan_id=plan.id, action="event_unlock", credits=1234))
        await session.execute(update(Account).where(Account.id == account.id).values(plan_id=plan.id))
    body = (await client.get(LIST, params={"event_id": show.event.event_id})).json()
    assert body["semantics"]["unlock"]["credits"] == 1234


async def test_preview_complete_for_small_query(client: httpx.AsyncClient, db: Database) -> None:
    show = await _seed(db)
    body = (await client.get(LIST, params={"event_id": show.event.event_id, "industry": "software"})).json()
    assert _ids(body) == ["Acme Analytics", "Epsilon Cloud"]
    sem = body["semantics"]
    assert sem["counts"] == {"actualTotal": 2, "visibleTotal": 2, "remainingLockedCount": 0}
    assert sem["guidance"]["code"] == "preview_complete_for_query"
    assert sem["unlock"] == {"requiredForMoreResults": False, "actionType": None, "credits": None}


FILTER_CASES: list[tuple[list[tuple[str, str]], list[str]]] = [
    ([("keyword", "gamma")], ["Gamma Payments"]),
    ([("keyword", "ROBO")], ["Beta Robotics"]),
    ([("keyword", "nothing")], []),
    ([("country", "united states")], ["Acme Analytics", "Gamma Payments", "Epsilon Cloud"]),
    ([("category", "pos")], ["Gamma Payments"]),
    ([("category", "Cloud"), ("category", "Grocery")], ["Delta Foods", "Epsilon Cloud"]),
    ([("category", "Cloud,Automation")], ["Beta Robotics", "Epsilon Cloud"]),
    ([("category[]", "Grocery")], ["Delta Foods"]),
    ([("industry", "Robotics"), ("industry", "Food")], ["Beta Robotics", "Delta Foods"]),
    ([("jobTitle", "sales")], ["Acme Analytics", "Beta Robotics"]),
    ([("managementLevel", "vp")], ["Acme Analytics"]),
    ([("department", "marketing")], ["Acme Analytics"]),  # the visitor-only CMO stays hidden
    ([("managementLevel", "c_suite")], []),
    ([("jobTitle", "engineer"), ("managementLevel", "vp")], []),  # filters on the same person
    ([("country", "United States"), ("keyword", "cloud")], ["Epsilon Cloud"]),
    ([("unknown", "x"), ("keyword", "delta")], ["Delta Foods"]),
]


async def test_list_filters(client: httpx.AsyncClient, db: Database) -> None:
    show = await _seed(db)
    for query, expected in FILTER_CASES:  # one seeded database for every case keeps this fast
        body = (await client.get(LIST, params=[("event_id", show.event.event_id), *query])).json()
        assert (query, _ids(body)) == (query, expected)
        assert body["semantics"]["counts"]["actualTotal"] == len(expected)


async def test_nested_personnel_sample(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    show = await _seed(db)
    async with db.write() as session:
        await record_contact_unlock(session, account.id, show.vp.id, "email", show.vp.email, None)
    params: dict[str, str | int] = {"event_id": show.event.event_id, "personnelLimit": 1, "keyword": "acme"}
    item = (await client.get(LIST, params=params)).json()["items"][0]
    assert len(item["personnel"]) == 1
    person = item["personnel"][0]
    assert_matches(person, "ContactItem")
    assert person["id"] == str(show.vp.id) and person["email"] == show.vp.email
    assert person["contactUnlockStatus"] == "unlocked" and person["phone"] is None
    assert person["phoneUnlockStatus"] is None
    two = (await client.get(LIST, params={**params, "personnelLimit": 5})).json()["items"][0]["personnel"]
    assert [p["title"] for p in two] == ["VP Marketing", "Sales Engineer"]
    assert two[1]["email"] is None and two[1]["contactUnlockStatus"] == "locked"
    none = (await client.get(LIST, params={"event_id": show.event.event_id})).json()["items"][0]
    assert "personnel" not in none


LIST_INVALID_PARAMS_CASES: list[dict[str, str]] = [
    {},
    {"event_id": ""},
    {"event_id": "x" * 101},
    {"event_id": "1", "pageSize": "101"},
    {"event_id": "1", "page": "0"},
    {"event_id": "1", "personnelLimit": "-1"},
    {"event_id": "1", "keyword": "k" * 201},
]


async def test_list_invalid_params(client: httpx.AsyncClient) -> None:
    for query in LIST_INVALID_PARAMS_CASES:
        assert_error_body(await client.get(LIST, params=query), 400, "INVALID_REQUEST")


async def test_list_unknown_event_is_404(client: httpx.AsyncClient, db: Database) -> None:
    await _seed(db)
    assert_error_body(await client.get(LIST, params={"event_id": "424242"}), 404, "NOT_FOUND")


async def test_profile(client: httpx.AsyncClient, db: Database) -> None:
    show = await _seed(db)
    acme = show.exhibitors[0]
    resp = await client.get("/external/exhibitors/profile", params={"exhibitor_id": str(acme.id)})
    assert resp.status_code == 200
    body = resp.json()
    assert_matches(body, "ExhibitorProfile")
    assert schema_properties("ExhibitorProfile") <= set(body)
    assert body["companyName"] == "Acme Analytics"
    assert body["events"] == [
        {"id": str(show.event.id), "eventId": show.event.event_id, "name": "Retail Expo"}
    ]
    for bad in ("999999", "abc"):
        assert_error_body(
            await client.get("/external/exhibitors/profile", params={"exhibitor_id": bad}), 404, "NOT_FOUND"
        )
    assert_error_body(await client.get("/external/exhibitors/profile"), 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("company", "scope", "expected"),
    [
        (0, "all", [("Older Show", []), ("Retail Expo", ["exhibitor"])]),
        (4, "all", [("Older Show", ["visitor"]), ("Retail Expo", ["exhibitor", "visitor"])]),
        (4, "exhibitor", [("Retail Expo", ["exhibitor", "visitor"])]),
        (4, "visitor", [("Older Show", ["visitor"])]),
        (1, "visitor", []),
    ],
)
async def test_exhibitor_events(
    client: httpx.AsyncClient, db: Database, company: int, scope: str, expected: list[tuple[str, list[str]]]
) -> None:
    show = await _seed(db)
    exhibitor_id = str(show.exhibitors[company].id)
    resp = await client.get(
        "/external/exhibitors/events", params={"exhibitor_id": exhibitor_id, "attendance_scope": scope}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert_matches(body, "ExhibitorRelatedEventPage")
    got = [(i["name"], i["attendance_identity"]) for i in body["items"]]
    # Acme's VP attends the older show but not as a visitor: no company identity there.
    expected = [e for e in expected if e[1]]
    assert got == expected and body["total"] == len(expected)


async def test_exhibitor_events_errors_and_paging(client: httpx.AsyncClient, db: Database) -> None:
    show = await _seed(db)
    path = "/external/exhibitors/events"
    exhibitor_id = str(show.exhibitors[4].id)
    page2 = (await client.get(path, params={"exhibitor_id": exhibitor_id, "pageSize": 1, "page": 2})).json()
    assert [i["name"] for i in page2["items"]] == ["Retail Expo"] and page2["hasMore"] is False
    for scope in ("null", "", "exhibitor_employee"):
        resp = await client.get(path, params={"exhibitor_id": exhibitor_id, "attendance_scope": scope})
        assert_error_body(resp, 400, "INVALID_REQUEST")
    assert_error_body(await client.get(path, params={"exhibitor_id": "999999"}), 404, "NOT_FOUND")


async def test_search(client: httpx.AsyncClient, db: Database) -> None:
    await _seed(db)
    path = "/external/exhibitors/search"
    resp = await client.post(path, json={"target_audience": "retailers needing payments"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert_matches(body, "ExhibitorPage")
    assert _ids(body) == ["Gamma Payments", "Epsilon Cloud"]
    assert all(i["buyingSignalStatus"] is None for i in body["items"])
    by_url = (await client.post(path, json={"company_url": "https://www.robots.example"})).json()
    assert _ids(by_url) == ["Beta Robotics"]
    paged = (await client.post(path, json={"target_audience": "retail", "page": 2, "pageSize": 1})).json()
    assert paged["total"] == 2 and _ids(paged) == ["Epsilon Cloud"]
    assert (await client.post(path, json={"target_audience": "zzzz"})).json()["total"] == 0


SEARCH_INVALID_CASES: list[dict[str, object]] = [
    {},
    {"target_audience": "   "},
    {"company_url": "not a url"},
    {"company_url": "ftp://x.example"},
    {"target_audience": "x", "pageSize": 101},
    {"target_audience": "x", "page": 0},
]


async def test_search_invalid(client: httpx.AsyncClient) -> None:
    for body in SEARCH_INVALID_CASES:
        resp = await client.post("/external/exhibitors/search", json=body)
        assert_error_body(resp, 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", LIST + "?event_id=1"),
        ("GET", "/external/exhibitors/profile?exhibitor_id=1"),
        ("GET", "/external/exhibitors/events?exhibitor_id=1"),
        ("POST", "/external/exhibitors/search"),
    ],
)
async def test_requires_api_key(app_client: httpx.AsyncClient, method: str, path: str) -> None:
    resp = await app_client.request(method, path, json={"target_audience": "x"} if method == "POST" else None)
    assert_error_body(resp, 401, "INVALID_API_KEY")
