"""The REST side of agent quotes (both databases): read and approve a quote with another key, refusals in
the error shape, an MCP-only key's paid routes answer 403, and the operator commands that set a key's
agent policy (a real subprocess)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from showfloor.server.agents import quotes
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.models import ApiKey
from tests.conftest import AccountFixture, new_account
from tests.integration.agent_support import principal_of, second_key, set_mcp_only
from tests.integration.paid_support import charged, event_with, give
from tests.integration.test_admin_accounts_cli import admin


async def _quote(db: Database, settings: Settings, account: AccountFixture) -> str:
    await give(db, account.id, 5000)
    event = await event_with(db)
    agent = await principal_of(db, account.key)
    made = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    return str(made["quote_id"])


async def test_another_key_reads_and_approves_over_rest(
    db: Database, settings: Settings, app_client: httpx.AsyncClient, account: AccountFixture
) -> None:
    quote_id = await _quote(db, settings, account)
    owner = await second_key(db, account)
    shown = await app_client.get(f"/external/agent-quotes/{quote_id}", headers=owner.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["credits"] == 2000 and shown.json()["approved"] is False
    own = await app_client.post(f"/external/agent-quotes/{quote_id}/approve", headers=account.headers)
    assert own.status_code == 403 and own.json()["errorKey"] == "SELF_APPROVAL_FORBIDDEN"
    assert set(own.json()) >= {"code", "message", "errorKey", "traceId"}
    ok = await app_client.post(f"/external/agent-quotes/{quote_id}/approve", headers=owner.headers)
    assert ok.status_code == 200 and ok.json()["approved_via"] == "key"
    agent = await principal_of(db, account.key)
    done = await quotes.execute_quote(db, settings, agent, quote_id)
    assert done["credits_charged"] == 2000
    again = await app_client.post(f"/external/agent-quotes/{quote_id}/approve", headers=owner.headers)
    assert again.status_code == 409 and again.json()["errorKey"] == "QUOTE_ALREADY_EXECUTED"


async def test_other_accounts_and_missing_quotes_answer_404(
    db: Database, settings: Settings, app_client: httpx.AsyncClient, account: AccountFixture
) -> None:
    quote_id = await _quote(db, settings, account)
    stranger = await new_account(db, "stranger")
    for path in (f"/external/agent-quotes/{quote_id}", "/external/agent-quotes/q_nope"):
        got = await app_client.get(path, headers=stranger.headers)
        assert got.status_code == 404 and got.json()["errorKey"] == "NOT_FOUND"
    posted = await app_client.post(f"/external/agent-quotes/{quote_id}/approve", headers=stranger.headers)
    assert posted.status_code == 404
    assert (await app_client.get(f"/external/agent-quotes/{quote_id}")).status_code == 401


async def test_mcp_only_key_paid_routes_answer_403_and_cannot_approve(
    db: Database, settings: Settings, app_client: httpx.AsyncClient, account: AccountFixture
) -> None:
    quote_id = await _quote(db, settings, account)
    other = await second_key(db, account)
    await set_mcp_only(db, other.key_id)
    event = await event_with(db)
    paid = await app_client.post(f"/external/events/{event.event_id}/unlock", headers=other.headers)
    assert paid.status_code == 403 and paid.json()["errorKey"] == "KEY_SCOPE_MCP_ONLY"
    assert "traceId" in paid.json()
    search = await app_client.post(
        "/external/exhibitors/search-by-company-name", headers=other.headers, json={"company_name": "Acme"}
    )
    assert search.status_code == 403
    assert (await app_client.get("/external/credits/balance", headers=other.headers)).status_code == 200
    refused = await app_client.post(f"/external/agent-quotes/{quote_id}/approve", headers=other.headers)
    assert refused.status_code == 403 and refused.json()["errorKey"] == "KEY_SCOPE_MCP_ONLY"
    assert await charged(db, account.id) == 0
    await set_mcp_only(db, other.key_id, False)
    reopened = await app_client.post(f"/external/events/{event.event_id}/unlock", headers=other.headers)
    assert reopened.status_code == 201


async def test_admin_sets_budget_and_scope(db: Database, db_url: str, account: AccountFixture) -> None:
    assert admin(db_url, "keys", "set-agent-budget", str(account.key_id), "--daily", "5000").returncode == 0
    assert admin(db_url, "keys", "set-scope", str(account.key_id), "--mcp-only").returncode == 0
    async with db.read() as session:
        key = (await session.scalars(select(ApiKey).where(ApiKey.id == account.key_id))).one()
        assert (key.agent_daily_budget, key.mcp_only) == (5000, True)
    assert admin(db_url, "keys", "set-agent-budget", str(account.key_id), "--clear").returncode == 0
    assert admin(db_url, "keys", "set-scope", str(account.key_id), "--all-routes").returncode == 0
    async with db.read() as session:
        key = (await session.scalars(select(ApiKey).where(ApiKey.id == account.key_id))).one()
        assert (key.agent_daily_budget, key.mcp_only) == (None, False)
    both = admin(db_url, "keys", "set-agent-budget", str(account.key_id))
    assert both.returncode != 0 and "--daily" in both.stderr
    missing = admin(db_url, "keys", "set-scope", "999999", "--mcp-only")
    assert missing.returncode == 1 and "not found" in missing.stderr
    negative = admin(db_url, "keys", "set-agent-budget", str(account.key_id), "--daily", "-5")
    assert negative.returncode == 1 and "0 or more" in negative.stderr
