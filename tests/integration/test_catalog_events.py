"""Events catalogue: list (filters, keyword search, pagination), detail and brief, on both backends."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import update

from showfloor.server.db.uow import Database
from showfloor.server.models.catalog import Event
from tests.factories import make_event, make_person
from tests.integration.test_foundation import assert_error_body
from tests.schema_check import assert_matches, schema_properties

LIST = "/external/events/list"


async def _seed(db: Database) -> dict[str, Event]:
    async with db.write() as session:
        events = {
            "ces": await make_event(
                session,
                name="CES Consumer Electronics 2026",
                city="Las Vegas",
                country="United States",
                date_start=date(2026, 1, 7),
                event_type="In-person",
                quality="Verified",
                sponsor_match_starred=True,
                categories=[{"id": 1, "code": "tech", "name": "Technology"}],
                topics=["consumer tech"],
                attendee_count=130000,
            ),
            "nrf": await make_event(
                session,
                name="NRF Retail Big Show",
                city="New York",
                country="United States",
                date_start=date(2026, 1, 12),
                event_type="Hybrid",
                quality="Standard",
            ),
            "mwc": await make_event(
                session,
                name="MWC Barcelona",
                city="Barcelona",
                country="Spain",
                date_start=date(2026, 3, 2),
                event_type="In-person",
                quality="Verified",
            ),
            "undated": await make_event(
                session, name="Someday Summit", date_start=None, date_end=None, country="Canada"
            ),
        }
        await make_person(session, events["nrf"], visitor_only=True)
    return events


def _names(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [str(i["name"]) for i in items]


async def test_list_shape_and_order(client: httpx.AsyncClient, db: Database) -> None:
    events = await _seed(db)
    resp = await client.get(LIST)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert_matches(body, "EventPage")
    assert body["total"] == 4 and body["totalPages"] == 1 and body["hasMore"] is False
    # Soonest first, undated last.
    assert _names(body) == [e.name for e in (events["ces"], events["nrf"], events["mwc"], events["undated"])]
    first = body["items"][0]
    assert set(first) == schema_properties("EventItem")
    assert first["id"] == str(events["ces"].id) and first["eventId"] == events["ces"].event_id
    assert first["dateStart"] == "2026-01-07" and first["sponsorMatchStarred"] == 1
    assert first["hasVisitors"] is False and body["items"][1]["hasVisitors"] is True
    assert first["dataSource"] == "Lensmor"


FILTER_CASES: list[tuple[dict[str, str], list[str] | None]] = [
    ({"keyword": "retail"}, ["NRF Retail Big Show"]),
    ({"keyword": "CONSUMER elec"}, ["CES Consumer Electronics 2026"]),  # word prefixes, any case
    ({"keyword": "etail"}, []),  # not a word start
    ({"keyword": "!!!"}, []),
    ({"country": "spain"}, ["MWC Barcelona"]),
    ({"city": "New York"}, ["NRF Retail Big Show"]),
    ({"date_start_from": "2026-01-12"}, ["NRF Retail Big Show", "MWC Barcelona"]),
    ({"date_start_to": "2026-01-12"}, ["CES Consumer Electronics 2026", "NRF Retail Big Show"]),
    ({"date_start_from": "2026-01-08", "date_start_to": "2026-03-01"}, ["NRF Retail Big Show"]),
    ({"event_type": "hybrid"}, ["NRF Retail Big Show"]),
    ({"event_type": "Hybrid,In-person", "date_start_to": "2026-12-31"}, None),
    ({"quality": "Standard"}, ["NRF Retail Big Show"]),
    ({"quality[]": "Standard"}, ["NRF Retail Big Show"]),
    ({"sponsor_match_starred": "1"}, ["CES Consumer Electronics 2026"]),
    ({"has_visitors": "1"}, ["NRF Retail Big Show"]),
    ({"has_visitors": "0", "country": "United States"}, ["CES Consumer Electronics 2026"]),
    ({"unknown_param": "x", "keyword": "mwc"}, ["MWC Barcelona"]),
]


async def test_list_filters(client: httpx.AsyncClient, db: Database) -> None:
    await _seed(db)
    for query, expected in FILTER_CASES:  # one seeded database for every case keeps this fast
        body = (await client.get(LIST, params=query)).json()
        if expected is None:
            expected = ["CES Consumer Electronics 2026", "NRF Retail Big Show", "MWC Barcelona"]
        assert (query, _names(body)) == (query, expected)
        assert body["total"] == len(expected)


async def test_list_repeated_array_params(client: httpx.AsyncClient, db: Database) -> None:
    await _seed(db)
    resp = await client.get(
        LIST, params=[("quality", "verified"), ("quality", "standard"), ("country", "Spain")]
    )
    assert _names(resp.json()) == ["MWC Barcelona"]
    resp = await client.get(LIST, params=[("event_type", "Hybrid"), ("event_type", "none")])
    assert _names(resp.json()) == ["NRF Retail Big Show"]


async def test_keyword_search_follows_renames(client: httpx.AsyncClient, db: Database) -> None:
    events = await _seed(db)
    async with db.write() as session:
        await session.execute(
            update(Event).where(Event.id == events["mwc"].id).values(name="Mobile World Congress")
        )
    assert _names((await client.get(LIST, params={"keyword": "barcelona"})).json()) == []
    assert _names((await client.get(LIST, params={"keyword": "mobile world"})).json()) == [
        "Mobile World Congress"
    ]


async def test_list_pagination_edges(client: httpx.AsyncClient, db: Database) -> None:
    await _seed(db)
    last = (await client.get(LIST, params={"page": 2, "pageSize": 3})).json()
    assert len(last["items"]) == 1 and last["total"] == 4 and last["totalPages"] == 2
    assert last["hasMore"] is False and last["page"] == 2 and last["pageSize"] == 3
    first = (await client.get(LIST, params={"page": 1, "pageSize": 3})).json()
    assert len(first["items"]) == 3 and first["hasMore"] is True
    beyond = (await client.get(LIST, params={"page": 9})).json()
    assert beyond["items"] == [] and beyond["total"] == 4 and beyond["hasMore"] is False
    nothing = (await client.get(LIST, params={"keyword": "nomatch"})).json()
    assert nothing == {"items": [], "total": 0, "page": 1, "pageSize": 20, "totalPages": 0, "hasMore": False}
    assert (await client.get(LIST, params={"pageSize": 100})).status_code == 200


LIST_INVALID_PARAMS_CASES: list[dict[str, str]] = [
    {"pageSize": "101"},
    {"pageSize": "0"},
    {"page": "0"},
    {"page": "abc"},
    {"keyword": "k" * 201},
    {"country": "c" * 101},
    {"city": "c" * 101},
    {"date_start_from": "2026/01/01"},
    {"date_start_to": "2026-13-01"},
    {"sponsor_match_starred": "2"},
    {"has_visitors": "yes"},
]


async def test_list_invalid_params(client: httpx.AsyncClient, db: Database) -> None:
    for query in LIST_INVALID_PARAMS_CASES:
        assert_error_body(await client.get(LIST, params=query), 400, "INVALID_REQUEST")


async def test_detail_by_either_identifier(client: httpx.AsyncClient, db: Database) -> None:
    events = await _seed(db)
    ces = events["ces"]
    by_pk = (await client.get(f"/external/events/{ces.id}")).json()
    by_public = (await client.get(f"/external/events/{ces.event_id}")).json()
    assert by_pk == by_public
    detail = by_pk["event"]
    assert_matches(detail, "EventDetail")
    assert set(detail) == schema_properties("EventDetail")
    assert detail["attendeeCount"] == 130000 and detail["topics"] == ["consumer tech"]
    assert detail["topicsCount"] == 1 and detail["categories"][0]["name"] == "Technology"
    assert detail["personnelCount"] == 0 and detail["verified"] == 0


async def test_public_event_id_wins_over_internal_id(client: httpx.AsyncClient, db: Database) -> None:
    async with db.write() as session:
        first = await make_event(session, name="First")
        await make_event(session, name="Second", event_id=str(first.id))
    body = (await client.get(f"/external/events/{first.id}")).json()
    assert body["event"]["name"] == "Second"  # the reference: prefer eventId
    body = (await client.get(f"/external/events/{first.event_id}")).json()
    assert body["event"]["name"] == "First"


@pytest.mark.parametrize("ref", ["999999", "nope", "99999999999999999999999"])
async def test_detail_unknown_is_404(client: httpx.AsyncClient, db: Database, ref: str) -> None:
    await _seed(db)
    assert_error_body(await client.get(f"/external/events/{ref}"), 404, "NOT_FOUND")
    assert_error_body(await client.get("/external/events/brief", params={"event_id": ref}), 404, "NOT_FOUND")


async def test_detail_id_too_long_is_400(client: httpx.AsyncClient) -> None:
    assert_error_body(await client.get("/external/events/" + "9" * 101), 400, "INVALID_REQUEST")


async def test_brief(client: httpx.AsyncClient, db: Database) -> None:
    events = await _seed(db)
    for ref in (str(events["ces"].id), events["ces"].event_id):
        resp = await client.get("/external/events/brief", params={"event_id": ref})
        assert resp.status_code == 200
        body = resp.json()
        assert_matches(body["event"], "EventItem")
        assert body["summary"] == {
            "attendeeCount": 130000,
            "exhibitorCount": 0,
            "topCategories": ["Technology"],
            "dataFreshness": "database_snapshot",
        }
    assert_error_body(await client.get("/external/events/brief"), 400, "INVALID_REQUEST")
    assert_error_body(
        await client.get("/external/events/brief", params={"event_id": ""}), 400, "INVALID_REQUEST"
    )


@pytest.mark.parametrize("path", [LIST, "/external/events/1", "/external/events/brief?event_id=1"])
async def test_requires_api_key(app_client: httpx.AsyncClient, path: str) -> None:
    assert_error_body(await app_client.get(path), 401, "INVALID_API_KEY")
