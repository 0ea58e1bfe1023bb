"""Text PostgreSQL cannot store is refused at the edge with 400 ``INVALID_REQUEST`` (api/request_guard.py).

Issue 15 found nine 500s on PostgreSQL from a NUL byte: ``GET /external/events/a%00b``, ``events/brief``,
``events/by-name``, ``contacts/unlock`` with such an ``event_id``, and company search when it finds
results. Each is a regression test here, on both backends (SQLite stores NUL, but the API answers the
same everywhere), with lone surrogates (which a JSON body can carry as ``\\ud800``) alongside.
"""

from __future__ import annotations

import json

import httpx
import pytest

from showfloor.server.db.uow import Database
from showfloor.server.text import has_unstorable
from tests.conftest import AccountFixture
from tests.integration.unlock_support import give_credits, seed_cast


def assert_invalid_text(resp: httpx.Response) -> None:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == 400 and body["errorKey"] == "INVALID_REQUEST"
    assert "NUL" in body["message"]
    assert body["traceId"] == resp.headers["x-request-id"]


def post_json(client: httpx.AsyncClient, path: str, raw: str) -> object:
    """Post ``raw`` as the body verbatim (so ``\\u0000`` / ``\\ud800`` escapes reach the server)."""
    return client.post(path, content=raw.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "path",
    [
        "/external/events/a%00b",
        "/external/events/brief?event_id=a%00b",
        "/external/events/list?keyword=Fuzz%00",
        "/external/personnel/events/by-name?person_name=Ann%00Lee",
        "/external/contacts/search?company_name=Acme%00",
        "/external/exhibitors/list?event_id=1&keyword=%00",
    ],
)
async def test_nul_in_path_or_query_is_400(client: httpx.AsyncClient, path: str) -> None:
    assert_invalid_text(await client.get(path))


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff"])
async def test_unlock_with_unstorable_event_id_is_400(
    client: httpx.AsyncClient, db: Database, account: AccountFixture, escape: str
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=1)
    person = str(cast.people["deliverable0"])
    raw = f'{{"personnel_ids": ["{person}"], "event_id": "{cast.public_event_id}{escape}"}}'
    assert_invalid_text(await post_json(client, "/external/contacts/unlock", raw))
    assert_invalid_text(await post_json(client, "/external/contacts/unlock-phone", raw))
    # Nothing was held or charged.
    balance = (await client.get("/external/credits/balance")).json()
    assert balance["totalBalance"] == 1000


async def test_company_search_that_would_find_results_is_400(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    await seed_cast(db, deliverable=1)
    for path in ("/external/exhibitors/search-by-company-name", "/external/exhibitors/search-events"):
        found = await client.post(path, json={"company_name": "A"})
        assert found.status_code in (200, 201), found.text
        assert_invalid_text(await post_json(client, path, '{"company_name": "A\\u0000"}'))


async def test_unstorable_json_keys_and_nested_values_are_400(client: httpx.AsyncClient) -> None:
    raw = '{"action_type": "event_unlock", "params": {"event_id": ["x", "\\ud83d"]}}'
    assert_invalid_text(await post_json(client, "/external/actions/precheck", raw))
    raw = '{"action_type": "event_unlock", "params": {"a\\u0000": 1}}'
    assert_invalid_text(await post_json(client, "/external/actions/precheck", raw))


async def test_escaped_but_storable_text_is_served(client: httpx.AsyncClient) -> None:
    """Escapes are not suspicious in themselves: a surrogate *pair* (an emoji) and ``\\u00e9`` pass."""
    raw = json.dumps({"action_type": "event_unlock", "params": {"event_id": "caf\u00e9 \U0001f600"}})
    assert "\\ud83d\\ude00" in raw
    resp = await post_json(client, "/external/actions/precheck", raw)
    assert resp.status_code < 500, resp.text
    assert "NUL" not in resp.json().get("message", ""), resp.text


def test_has_unstorable() -> None:
    assert has_unstorable("a\x00b") and has_unstorable("\ud800") and has_unstorable("x\udfff")
    assert not has_unstorable("caf\u00e9 \U0001f600 \u202e \ufffd <script>' OR 1=1 --")


@pytest.mark.parametrize("raw", [b'["\xed\xa0\x80"]', b'["\xc0\x80"]', b'["1\xff"]'])
async def test_json_body_that_is_not_utf8_is_400(client: httpx.AsyncClient, raw: bytes) -> None:
    """Overlong forms and encoded surrogates are not UTF-8; one of these answered 500 on the LinkedIn route."""
    body = b'{"personnel_ids": ' + raw + b"}"
    for path in ("/external/personnel/unlock-linkedin-activity", "/external/contacts/unlock"):
        resp = await client.post(path, content=body, headers={"content-type": "application/json"})
        assert_invalid_text(resp)


async def test_form_body_with_nul_is_400(app_client: httpx.AsyncClient) -> None:
    resp = await app_client.post(
        "/console/login",
        content=b"email=a%00b%40x.io&password=secret",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_invalid_text(resp)
