"""``GET /external/contacts/search``: company scope through the text search, role/name narrowing,
pagination, contact visibility per account. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from showfloor.server.access.service import record_contact_unlock
from showfloor.server.db.uow import Database
from showfloor.server.models.access import LinkedinActivityUnlock
from showfloor.server.models.catalog import Personnel
from tests.conftest import AccountFixture, new_account
from tests.factories import attend, make_event, make_exhibitor, make_person
from tests.integration.test_catalog_personnel import NO_KEY
from tests.integration.test_foundation import assert_error_body
from tests.schema_check import assert_matches

URL = "/external/contacts/search"


async def make_people(db: Database) -> dict[str, Personnel]:
    async with db.write() as s:
        expo = await make_event(s)
        summit = await make_event(s)
        acme = await make_exhibitor(s, expo, company_name="Acme Retail Systems")
        globex = await make_exhibitor(s, expo, company_name="Globex Acmeish")
        people = {
            "jane": await make_person(s, expo, acme, full_name="Jane Doe", title="VP Marketing"),
            "john": await make_person(s, expo, acme, full_name="John Smith", title="Marketing Manager"),
            "ann": await make_person(s, expo, acme, full_name="Ann Jane Lee", title="CTO"),
            "gus": await make_person(s, expo, globex, full_name="Gus Jane", title="VP Marketing"),
        }
        await attend(s, summit, people["jane"], None, visitor_only=True)
        return people


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    resp = await client.get(URL, params=params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert_matches(body, "ContactPage")
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [item["fullName"] for item in body["items"]]


async def test_company_scope_and_shape(client: httpx.AsyncClient, db: Database) -> None:
    await make_people(db)
    body = await search(client, company_name="acme retail")
    assert names(body) == ["Jane Doe", "John Smith", "Ann Jane Lee"]
    assert (body["total"], body["page"], body["pageSize"], body["totalPages"], body["hasMore"]) == (
        3,
        1,
        20,
        1,
        False,
    )
    jane = body["items"][0]
    assert jane["companyName"] == "Acme Retail Systems"
    assert jane["sourceType"] == ["exhibitor", "visitors"]  # aggregated across events
    assert jane["eventCount"] == 2
    assert jane["linkedinActivity"] is None and jane["linkedinActivityStatus"] is None
    # Words match the start of words: "acme" finds both companies, "cme" finds none.
    assert len(names(await search(client, company_name="Acme"))) == 4
    assert names(await search(client, company_name="cme")) == []


async def test_role_and_person_name_narrow(client: httpx.AsyncClient, db: Database) -> None:
    await make_people(db)
    assert names(await search(client, company_name="acme retail", role="marketing")) == [
        "Jane Doe",
        "John Smith",
    ]
    assert names(await search(client, company_name="acme retail", role="VP Marketing")) == ["Jane Doe"]
    assert names(await search(client, company_name="acme retail", person_name="jane")) == [
        "Jane Doe",
        "Ann Jane Lee",
    ]
    assert names(await search(client, company_name="acme", role="vp", person_name="gus")) == ["Gus Jane"]
    # Blank narrowing terms are ignored; unknown parameters too.
    assert len(names(await search(client, company_name="acme retail", role="  ", person_name="", x="1"))) == 3
    empty = await search(client, company_name="Initech")
    assert empty == {"items": [], "total": 0, "page": 1, "pageSize": 20, "totalPages": 0, "hasMore": False}


async def test_pagination_edges(client: httpx.AsyncClient, db: Database) -> None:
    await make_people(db)
    first = await search(client, company_name="acme", pageSize=3)
    last = await search(client, company_name="acme", pageSize=3, page=2)
    beyond = await search(client, company_name="acme", pageSize=3, page=3)
    assert (first["totalPages"], first["hasMore"], len(first["items"])) == (2, True, 3)
    assert (last["hasMore"], len(last["items"])) == (False, 1)
    assert beyond["items"] == [] and beyond["total"] == 4
    assert len((await search(client, company_name="acme", pageSize=100))["items"]) == 4


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"company_name": ""},
        {"company_name": "   "},
        {"company_name": "a" * 201},
        {"company_name": "acme", "role": "r" * 201},
        {"company_name": "acme", "person_name": "p" * 201},
        {"company_name": "acme", "pageSize": "101"},
        {"company_name": "acme", "pageSize": "0"},
        {"company_name": "acme", "page": "0"},
    ],
    ids=lambda p: ",".join(f"{k}={str(v)[:5]}" for k, v in p.items()) or "missing",
)
async def test_invalid_parameters(client: httpx.AsyncClient, db: Database, params: dict[str, str]) -> None:
    assert_error_body(await client.get(URL, params=params), 400, "INVALID_REQUEST")


async def test_no_key(app_client: httpx.AsyncClient, db: Database) -> None:
    resp = await app_client.get(URL, params={"company_name": "acme"}, headers=NO_KEY)
    assert_error_body(resp, 401, "INVALID_API_KEY")


async def test_contact_values_only_for_the_unlocking_account(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    people = await make_people(db)
    jane = people["jane"]
    async with db.write() as s:
        await record_contact_unlock(s, account.id, jane.id, "email", "jane@acme.example", None)
        s.add(
            LinkedinActivityUnlock(
                account_id=account.id, personnel_id=jane.id, status="ready", created_at=datetime.now(UTC)
            )
        )
    mine = (await search(client, company_name="acme retail"))["items"]
    assert (mine[0]["email"], mine[0]["contactUnlockStatus"]) == ("jane@acme.example", "unlocked")
    assert (mine[0]["phone"], mine[0]["phoneUnlockStatus"]) == (None, None)  # phone not unlocked
    assert mine[0]["linkedinActivityStatus"] is None  # always null on contact search
    assert (mine[1]["email"], mine[1]["contactUnlockStatus"]) == (None, "locked")

    other = await new_account(db, "other")
    resp = await client.get(URL, params={"company_name": "acme retail"}, headers=other.headers)
    theirs = resp.json()["items"][0]
    assert (theirs["email"], theirs["contactUnlockStatus"]) == (None, "locked")
