"""The MCP server driven by the SDK's own client: in memory (both databases) and over Streamable HTTP
through the ASGI app's ``/mcp`` (both protocol revisions, the REST API's 401 body and rate limits)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import httpx2
import pytest
from fastapi import FastAPI

from showfloor.server.agents import quotes
from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from tests.conftest import AccountFixture, test_settings
from tests.factories import attach_exhibitor, make_exhibitor, make_person
from tests.integration.agent_support import expire, principal_of, second_key, set_budget, set_mcp_only
from tests.integration.mcp_support import Human, error, http_client, memory_client, ok
from tests.integration.paid_support import balance, charged, debits, event_with, give

TOOLS = {
    "get_balance",
    "search_events",
    "get_event",
    "list_exhibitors",
    "list_personnel",
    "find_contacts",
    "get_unlock_task",
    "quote",
    "get_quote",
    "execute_quote",
}


async def test_tools_are_listed_with_schemas_and_hints(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    agent = await principal_of(db, account.key)
    async with memory_client(db, settings, agent) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    for name, tool in listed.items():
        assert tool.description and tool.annotations is not None, name
        assert tool.input_schema["type"] == "object"
    assert listed["execute_quote"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert listed["execute_quote"].input_schema["required"] == [
        "quote_id"
    ]  # the approval is never an argument
    assert listed["get_balance"].annotations.read_only_hint is True  # type: ignore[union-attr]
    assert set(listed["quote"].input_schema["properties"]["action"]["enum"]) >= {
        "unlock_event_contacts",
        "unlock_contact_phones",
        "search_personnel_events_by_name",
        "unlock_linkedin_activity",
    }
    # Every action's parameters are in the quote tool's schema, not only in its description.
    shapes = listed["quote"].input_schema["properties"]["params"]["anyOf"]
    fields = {name for shape in shapes for name in shape["properties"]}
    assert {"event_id", "personnel_ids", "company_name", "person_name", "date_start_from"} <= fields
    assert any("unlock_contact_phones" in shape["title"] for shape in shapes)


async def test_reads_are_free_and_show_the_unlock_price(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db, contacts=3, name="Robotics Summit")
    agent = await principal_of(db, account.key)
    async with memory_client(db, settings, agent) as client:
        assert ok(await client.call_tool("get_balance", {}))["totalBalance"] == 5000
        found = ok(await client.call_tool("search_events", {"keyword": "Robotics"}))
        assert [e["eventId"] for e in found["items"]] == [event.event_id]
        assert (
            ok(await client.call_tool("get_event", {"event_id": event.event_id}))["event"]["eventId"]
            == event.event_id
        )
        people = ok(await client.call_tool("list_personnel", {"event_id": event.event_id}))
        assert people["semantics"]["accessMode"] == "preview"
        assert people["unlock"] == {
            "access_mode": "preview",
            "quote_action": "unlock_event_contacts",
            "credits": 2000,
        }
        exhibitors = ok(await client.call_tool("list_exhibitors", {"event_id": event.event_id}))
        assert exhibitors["unlock"]["credits"] == 2000
        missing = error(await client.call_tool("get_event", {"event_id": "E999999999"}))
        assert missing["error"] in ("NOT_FOUND", "EVENT_NOT_FOUND")
    assert await charged(db, account.id) == 0


async def test_ambiguous_company_returns_candidates_and_never_picks(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    event = await event_with(db, contacts=0)
    async with db.write() as session:
        for name in ("Globex Robotics", "Globex Foods"):
            company = await make_exhibitor(session, company_name=name)
            await attach_exhibitor(session, event, company)
            await make_person(session, event, company, title="Marketing Director")
    agent = await principal_of(db, account.key)
    async with memory_client(db, settings, agent) as client:
        vague = ok(await client.call_tool("find_contacts", {"company_name": "Globex"}))
        assert vague["ambiguous"] is True and vague["candidates"] == ["Globex Foods", "Globex Robotics"]
        assert vague["items"] == []
        exact = ok(await client.call_tool("find_contacts", {"company_name": "Globex Foods"}))
        assert exact["ambiguous"] is False and {i["companyName"] for i in exact["items"]} == {"Globex Foods"}


async def test_quote_then_approval_required_then_owner_approves_then_execute_once(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db, contacts=3)
    agent = await principal_of(db, account.key)
    owner = await principal_of(db, (await second_key(db, account)).key)
    async with memory_client(db, settings, agent) as client:
        quote = ok(
            await client.call_tool(
                "quote", {"action": "unlock_event_contacts", "params": {"event_id": event.event_id}}
            )
        )
        assert quote["credits"] == 2000 and quote["available_balance"] == 5000 and quote["expires_at"]
        refused = error(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert refused["error"] == "APPROVAL_REQUIRED" and refused["details"]["how_to_approve"]
        assert await charged(db, account.id) == 0
        await quotes.approve_quote(db, owner, quote["quote_id"])
        done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert done["credits_charged"] == 2000 and done["replayed"] is False
        replay = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert replay["replayed"] is True and replay["result"] == done["result"]
    ops = await debits(db, account.id)
    assert [(o.amount, o.call_source, o.api_key_id) for o in ops] == [(2000, "agent", account.key_id)]


async def test_elicitation_asks_the_human_and_only_an_approval_spends(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    one, two = await event_with(db), await event_with(db)
    agent = await principal_of(db, account.key)
    no = Human(approve=False)
    async with memory_client(db, settings, agent, no) as client:
        quote = ok(
            await client.call_tool(
                "quote", {"action": "unlock_event_contacts", "params": {"event_id": one.event_id}}
            )
        )
        declined = error(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert declined["error"] == "APPROVAL_REQUIRED"
    assert len(no.asked) == 1 and quote["quote_id"] in no.asked[0] and "2000" in no.asked[0]
    assert await charged(db, account.id) == 0
    yes = Human(approve=True)
    async with memory_client(db, settings, agent, yes) as client:
        quote = ok(
            await client.call_tool(
                "quote", {"action": "unlock_event_contacts", "params": {"event_id": two.event_id}}
            )
        )
        done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert done["approved_via"] == "elicitation" and done["credits_charged"] == 2000
        ok(
            await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]})
        )  # replay: not asked again
    assert len(yes.asked) == 1
    assert await charged(db, account.id) == 2000


async def test_budget_expiry_and_insufficient_credits_are_tool_errors(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 3000)
    one, two, three = await event_with(db), await event_with(db), await event_with(db)
    await set_budget(db, account.key_id, 10_000)
    agent = await principal_of(db, account.key)
    async with memory_client(db, settings, agent) as client:
        quotes_ = [
            ok(
                await client.call_tool(
                    "quote", {"action": "unlock_event_contacts", "params": {"event_id": e.event_id}}
                )
            )
            for e in (one, two, three)
        ]
        await expire(db, quotes_[2]["quote_id"])
        assert (
            error(await client.call_tool("execute_quote", {"quote_id": quotes_[2]["quote_id"]}))["error"]
            == "QUOTE_EXPIRED"
        )
        assert (
            ok(await client.call_tool("execute_quote", {"quote_id": quotes_[0]["quote_id"]}))["approved_via"]
            == "budget"
        )
        short = error(await client.call_tool("execute_quote", {"quote_id": quotes_[1]["quote_id"]}))
        assert short["error"] == "INSUFFICIENT_CREDITS"
        assert (short["details"]["requiredCredits"], short["details"]["availableCredits"]) == (2000, 1000)
        assert short["details"]["new_quote"]["quote_id"] != quotes_[1]["quote_id"]
        unknown = error(await client.call_tool("execute_quote", {"quote_id": "q_nope"}))
        assert unknown["error"] == "NOT_FOUND"
        bad = error(await client.call_tool("quote", {"action": "unlock_event_contacts", "params": {}}))
        assert bad["error"] == "INVALID_REQUEST"
    assert await balance(db, account.id) == 1000


async def test_empty_reverse_lookup_through_mcp_is_free(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 100)
    agent = await principal_of(db, account.key)
    async with memory_client(db, settings, agent) as client:
        quote = ok(
            await client.call_tool(
                "quote", {"action": "search_exhibitor_events", "params": {"company_name": "Nobody Zzq"}}
            )
        )
        assert quote["credits"] == 0
        done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert done["credits_charged"] == 0 and done["result"]["items"] == []
    assert await charged(db, account.id) == 0


# --- over HTTP through the ASGI app ------------------------------------------------------------------


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running, in the test's own task (the SDK's session manager holds a task
    group that must be left in the task that entered it, so not a fixture)."""
    app = create_app(settings, run_background_jobs=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_http_quote_approve_execute_in_both_protocol_revisions(
    db: Database, settings: Settings, account: AccountFixture, mode: str
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db)
    owner = await second_key(db, account)
    async with running_app(settings) as live_app, http_client(live_app, account.key, mode=mode) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        quote = ok(
            await client.call_tool(
                "quote", {"action": "unlock_event_contacts", "params": {"event_id": event.event_id}}
            )
        )
        assert (
            error(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))["error"]
            == "APPROVAL_REQUIRED"
        )
        transport = httpx.ASGITransport(app=live_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as rest:
            approved = await rest.post(
                f"/external/agent-quotes/{quote['quote_id']}/approve", headers=owner.headers
            )
        assert approved.status_code == 200
        done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert done["credits_charged"] == 2000
    ops = await debits(db, account.id)
    assert [(o.amount, o.call_source, o.api_key_id) for o in ops] == [(2000, "agent", account.key_id)]


async def test_http_refuses_missing_and_bad_keys_with_the_rest_401_body(
    db: Database, settings: Settings
) -> None:
    async with (
        running_app(settings) as live_app,
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=live_app), base_url="http://showfloor.test"
        ) as http,
    ):
        for headers in ({}, {"Authorization": "Bearer sk_live_nonsense"}, {"Authorization": "Basic abc"}):
            refused = await http.post(
                "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers
            )
            assert refused.status_code == 401
            body = refused.json()
            assert body["errorKey"] == "INVALID_API_KEY" and body["code"] == 401 and body["traceId"]


async def test_http_applies_the_per_key_rate_limit(
    db: Database, db_url: str, account: AccountFixture
) -> None:
    settings = test_settings(db_url, rate_limit_enabled=True, rate_limit_per_key=2)
    async with running_app(settings) as app:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://showfloor.test") as http:
            statuses = []
            for _ in range(3):
                answer = await http.post("/mcp", json={}, headers={"Authorization": f"Bearer {account.key}"})
                statuses.append(answer.status_code)
            assert statuses[-1] == 429 and answer.json()["errorKey"] == "RATE_LIMIT_EXCEEDED"
            assert all(s != 429 for s in statuses[:2])


async def test_mcp_only_key_spends_through_mcp_but_not_rest(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db)
    await set_mcp_only(db, account.key_id)
    await set_budget(db, account.key_id, 5000)
    async with running_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as rest:
            closed = await rest.post(f"/external/events/{event.event_id}/unlock", headers=account.headers)
        assert closed.status_code == 403 and closed.json()["errorKey"] == "KEY_SCOPE_MCP_ONLY"
        async with http_client(app, account.key) as client:
            quote = ok(
                await client.call_tool(
                    "quote", {"action": "unlock_event_contacts", "params": {"event_id": event.event_id}}
                )
            )
            done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
            assert done["approved_via"] == "budget" and done["credits_charged"] == 2000
    assert await charged(db, account.id) == 2000
