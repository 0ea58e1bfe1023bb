"""The catalog's fast read paths (migration 0007 and the one-statement pages) answer exactly what the
plain queries answer: the company-name dictionary follows inserts, bulk loads and renames; window-count
totals match COUNTs on every page, past the end included. Both backends."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select, update

from showfloor.data.demo import load_demo
from showfloor.data.generator import DemoSize
from showfloor.server.access.service import LAYER_BASE, LAYER_VISITOR, record_event_unlock
from showfloor.server.catalog.contacts import ContactSearch, search_contacts
from showfloor.server.db.uow import Database
from showfloor.server.models.catalog import Personnel
from tests.conftest import AccountFixture
from tests.factories import make_event, make_exhibitor, make_person

CONTACTS = "/external/contacts/search"
PERSONNEL = "/external/personnel/list"
EXHIBITORS = "/external/exhibitors/list"


async def get(client: httpx.AsyncClient, url: str, **params: Any) -> dict[str, Any]:
    resp = await client.get(url, params=params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_contacts_search_follows_a_renamed_company(client: httpx.AsyncClient, db: Database) -> None:
    async with db.write() as s:
        expo = await make_event(s)
        initech = await make_exhibitor(s, expo, company_name="Initech Labs")
        person = await make_person(s, expo, initech, full_name="Peter Gibbons")
    assert [i["fullName"] for i in (await get(client, CONTACTS, company_name="initech"))["items"]] == [
        "Peter Gibbons"
    ]
    async with db.write() as s:
        await s.execute(
            update(Personnel).where(Personnel.id == person.id).values(company_name="Penetrode Works")
        )
    assert (await get(client, CONTACTS, company_name="initech"))["total"] == 0
    renamed = await get(client, CONTACTS, company_name="penetrode works")
    assert [i["fullName"] for i in renamed["items"]] == ["Peter Gibbons"]


async def test_contacts_search_finds_bulk_loaded_people(client: httpx.AsyncClient, db: Database) -> None:
    await load_demo(db, DemoSize(events=3, exhibitors=30, personnel=200), seed=5)
    async with db.read() as s:
        company = await s.scalar(select(Personnel.company_name).order_by(Personnel.id).limit(1))
        assert company is not None
        expected = await s.scalar(
            select(func.count()).select_from(Personnel).where(Personnel.company_name == company)
        )
    # The full name matches at least every person of exactly that company.
    body = await get(client, CONTACTS, company_name=company, pageSize=100)
    assert body["total"] >= int(expected or 0) > 0
    assert {i["companyName"] for i in body["items"]} >= {company}


async def test_window_totals_match_on_every_page(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    async with db.write() as s:
        expo = await make_event(s)
        exhibitors = [await make_exhibitor(s, expo, company_name=f"Widget Co {n}") for n in range(5)]
        for n in range(7):
            await make_person(s, expo, exhibitors[n % 5], department="sales" if n % 2 else "marketing")
        await make_person(s, expo, None, visitor_only=True, source_types=["visitors"], department="sales")
        await record_event_unlock(s, account.id, expo.id, LAYER_BASE, None)
        await record_event_unlock(s, account.id, expo.id, LAYER_VISITOR, None)
    for page in (1, 2, 3, 4):
        people = await get(
            client, PERSONNEL, event_id=expo.event_id, department="sales", pageSize=2, page=page
        )
        assert people["total"] == 4 and people["semantics"]["counts"]["actualTotal"] == 4
        assert len(people["items"]) == (2 if page <= 2 else 0)
        firms = await get(client, EXHIBITORS, event_id=expo.event_id, keyword="widget", pageSize=2, page=page)
        assert firms["total"] == 5 and firms["semantics"]["counts"]["actualTotal"] == 5
        assert len(firms["items"]) == (2 if page <= 2 else 1 if page == 3 else 0)


async def test_contacts_search_narrows_by_role_and_name_and_counts_past_the_end(db: Database) -> None:
    """The PostgreSQL path (dictionary names first, role and name as plain filters, the window count in
    a subquery) answers what the SQLite FTS path answers."""
    async with db.write() as s:
        expo = await make_event(s)
        labs = await make_exhibitor(s, expo, company_name="Initech Labs")
        other = await make_exhibitor(s, expo, company_name="Globex")
        await make_person(s, expo, labs, full_name="Peter Gibbons", title="VP Sales")
        await make_person(s, expo, labs, full_name="Milton Waddams", title=None)
        await make_person(s, expo, labs, full_name="Bill Lumbergh", title="Vice President")
        await make_person(s, expo, other, full_name="Peter Globex", title="VP Ops")

    async def names(search: ContactSearch, page: int = 1, size: int = 20) -> tuple[list[str], int]:
        async with db.read() as s:
            cards, total = await search_contacts(s, 0, search, page, size, sqlite=db.is_sqlite)
        return [c["fullName"] for c in cards], total

    assert await names(ContactSearch("initech")) == (["Peter Gibbons", "Milton Waddams", "Bill Lumbergh"], 3)
    assert await names(ContactSearch("initech", role="vp")) == (["Peter Gibbons"], 1)
    assert await names(ContactSearch("initech", role="vice pres")) == (["Bill Lumbergh"], 1)
    assert await names(ContactSearch("initech", person_name="peter")) == (["Peter Gibbons"], 1)
    assert await names(ContactSearch("initech", role="vp", person_name="milton")) == ([], 0)
    assert await names(ContactSearch("initech"), page=2, size=2) == (["Bill Lumbergh"], 3)
    assert await names(ContactSearch("initech"), page=3, size=2) == ([], 3)  # past the end: still counted
    assert await names(ContactSearch("initrode")) == ([], 0)
    assert await names(ContactSearch("labs initech")) == (
        ["Peter Gibbons", "Milton Waddams", "Bill Lumbergh"],
        3,
    )


async def test_events_keyword_pages_keep_exact_totals(client: httpx.AsyncClient, db: Database) -> None:
    """The events list counts its matches in a subquery under the page: every page, past the end too,
    reports the exact total, in catalogue order (undated last, then id)."""
    days = [None, 5, 1, 9, None, 3, 1, 7, 2, 8, None, 4]
    async with db.write() as s:
        matching = [
            await make_event(
                s, name=f"Harbour Expo {n}", date_start=None if d is None else date(2027, 1, d), date_end=None
            )
            for n, d in enumerate(days)
        ]
        for n in range(8):
            await make_event(s, name=f"Inland Fair {n}", date_start=date(2027, 1, 1 + n))
    expected = [
        e.event_id
        for e in sorted(matching, key=lambda e: (e.date_start is None, e.date_start or date.min, e.id))
    ]
    seen: list[str] = []
    for page in (1, 2, 3, 4, 5):
        body = await get(client, "/external/events/list", keyword="harbour", page=page, pageSize=5)
        assert body["total"] == len(matching)
        seen += [item["eventId"] for item in body["items"]]
    assert seen == expected
    unfiltered = await get(client, "/external/events/list", page=9, pageSize=5)
    assert (unfiltered["total"], unfiltered["items"]) == (20, [])
