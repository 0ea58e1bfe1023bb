"""The keys page's agent policy: a daily agent budget and the MCP-only scope per key, set and cleared
through ``agents.policy`` (what the admin CLI uses), enforced where the agents service and the API check
them. Bad values and revoked keys are refused and change nothing; another account's key is covered in
``test_other_accounts``."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from showfloor.server.agents import quotes
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.models import ApiKey
from tests.conftest import AccountFixture
from tests.console.support import page_csrf
from tests.integration.agent_support import principal_of
from tests.integration.paid_support import charged, event_with, give


async def _set(
    console: httpx.AsyncClient, key_id: int, budget: str, mcp_only: bool, csrf: str | None = None
) -> httpx.Response:
    data = {"csrf_token": csrf if csrf is not None else await page_csrf(console, "/console/keys")}
    data["agent_daily_budget"] = budget
    if mcp_only:
        data["mcp_only"] = "on"
    return await console.post(f"/console/keys/{key_id}/agent-policy", data=data)


async def _policy(db: Database, key_id: int) -> tuple[int | None, bool]:
    async with db.read() as session:
        key = (await session.scalars(select(ApiKey).where(ApiKey.id == key_id))).one()
        return key.agent_daily_budget, key.mcp_only


async def test_set_a_budget_and_mcp_only_then_both_are_enforced_then_cleared(
    console: httpx.AsyncClient, db: Database, settings: Settings, owner: AccountFixture
) -> None:
    page = await console.get("/console/keys")
    assert f'id="policy-{owner.key_id}"' in page.text and '<td class="agent-budget">none</td>' in page.text
    saved = await _set(console, owner.key_id, "5,000", mcp_only=True)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/console/keys?notice=policy")
    assert await _policy(db, owner.key_id) == (5000, True)
    page = await console.get("/console/keys?notice=policy")
    assert "agent policy is saved" in page.text and "5,000 / day" in page.text and "MCP only" in page.text
    assert 'value="5000"' in page.text and "checked" in page.text

    await give(db, owner.id, 5000)
    event = await event_with(db, contacts=3)
    rest = await console.post(f"/external/events/{event.event_id}/unlock", headers=owner.headers)
    assert rest.status_code == 403 and rest.json()["errorKey"] == "KEY_SCOPE_MCP_ONLY"
    agent = await principal_of(db, owner.key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    done = await quotes.execute_quote(db, settings, agent, quote["quote_id"])  # the budget approved it
    assert (done["approved_via"], done["credits_charged"]) == ("budget", 2000)
    assert await charged(db, owner.id) == 2000

    cleared = await _set(console, owner.key_id, "", mcp_only=False)
    assert cleared.status_code == 303
    assert await _policy(db, owner.key_id) == (None, False)


async def test_bad_budgets_are_refused_and_change_nothing(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    assert (await _set(console, owner.key_id, "300", mcp_only=False)).status_code == 303
    for value, said in (
        ("many", "whole number"),
        ("-5", "0 or more"),  # agents.policy's own rule
        ("1.5", "whole number"),
        ("3000000000", "at most"),
    ):
        refused = await _set(console, owner.key_id, value, mcp_only=True)
        assert refused.status_code == 400 and said in refused.text, value
    assert await _policy(db, owner.key_id) == (300, False)


async def test_a_revoked_key_has_no_policy_form_and_is_refused(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    csrf = await page_csrf(console, "/console/keys")
    revoked = await console.post(f"/console/keys/{owner.key_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert f'id="policy-{owner.key_id}"' not in (await console.get("/console/keys")).text
    refused = await _set(console, owner.key_id, "100", mcp_only=True)
    assert refused.status_code == 400 and "revoked" in refused.text
    assert await _policy(db, owner.key_id) == (None, False)


async def test_the_policy_needs_the_sessions_csrf_token(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    for token in ("", "forged"):
        assert (await _set(console, owner.key_id, "100", True, csrf=token)).status_code == 403
    assert await _policy(db, owner.key_id) == (None, False)
