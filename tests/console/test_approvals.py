"""The console's approvals page: an agent's pending quotes listed with what, price, chargeable items, key
and expiry; approved by the signed-in owner (a credential other than the key that asked, so the agent's
execute then charges once) or refused (then it never can, even within a budget); expired and used quotes
explained; CSRF. Another account's quotes are covered in ``test_other_accounts``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from showfloor.server.accounts.keys import key_prefix
from showfloor.server.agents import quotes
from showfloor.server.agents.errors import ApprovalRequired, QuoteRefused
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.models import AgentQuote
from tests.conftest import AccountFixture, new_account
from tests.console.support import page_csrf
from tests.integration.agent_support import expire, principal_of, set_budget
from tests.integration.paid_support import balance, charged, event_with, give


async def _quote(db: Database, settings: Settings, account: AccountFixture) -> dict[str, Any]:
    event = await event_with(db, contacts=3)
    agent = await principal_of(db, account.key)
    return await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )


async def _post(
    console: httpx.AsyncClient, quote_id: str, what: str, csrf: str | None = None
) -> httpx.Response:
    token = csrf if csrf is not None else await page_csrf(console, "/console/approvals")
    return await console.post(f"/console/approvals/{quote_id}/{what}", data={"csrf_token": token})


async def _row(db: Database, quote_id: str) -> AgentQuote:
    async with db.read() as session:
        return (await session.scalars(select(AgentQuote).where(AgentQuote.public_id == quote_id))).one()


async def test_pending_quotes_are_listed_with_price_items_key_and_expiry(
    console: httpx.AsyncClient, db: Database, settings: Settings, owner: AccountFixture
) -> None:
    assert "No quote is waiting for an approval." in (await console.get("/console/approvals")).text
    await give(db, owner.id, 5000)
    quote = await _quote(db, settings, owner)
    elsewhere = await new_account(db, "globex")
    await give(db, elsewhere.id, 5000)
    foreign = await _quote(db, settings, elsewhere)
    page = await console.get("/console/approvals")
    assert page.status_code == 200
    pending = page.text.split('id="pending"')[1].split("</table>")[0]
    assert quote["quote_id"] in pending and foreign["quote_id"] not in page.text
    assert "Unlock an event&#39;s contact layer" in pending and "2,000" in pending
    assert f"<code>{key_prefix(owner.key)}</code>" in pending  # the key that asked
    assert "waiting for you" in pending and " UTC" in pending  # status and expiry
    one = await console.get(f"/console/approvals/{quote['quote_id']}")
    assert one.status_code == 200 and 'id="approve-quote"' in one.text
    assert "2,000 credits" in one.text and "5,000 credits" in one.text  # price, balance when quoted


async def test_the_owner_approves_then_the_agents_execute_charges_once(
    console: httpx.AsyncClient, db: Database, settings: Settings, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    quote = await _quote(db, settings, owner)
    agent = await principal_of(db, owner.key)
    with pytest.raises(ApprovalRequired):
        await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    approved = await _post(console, quote["quote_id"], "approve")
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/console/approvals/{quote['quote_id']}?notice=approved"
    row = await _row(db, quote["quote_id"])
    assert (row.approved_via, row.approved_by_key_id, row.status) == ("console", None, "pending")
    assert await charged(db, owner.id) == 0  # approving spends nothing
    page = await console.get(approved.headers["location"])
    assert "Approved." in page.text and "in the console" in page.text
    assert 'id="approve-quote"' not in page.text and 'id="refuse-quote"' in page.text

    done = await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert (done["approved_via"], done["credits_charged"]) == ("console", 2000)
    again = await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert again["replayed"] is True
    assert await charged(db, owner.id) == 2000 and await balance(db, owner.id) == 3000

    page = await console.get(f"/console/approvals/{quote['quote_id']}")
    assert "executed" in page.text and "2,000 credits" in page.text and "cannot be used again" in page.text
    late = await _post(console, quote["quote_id"], "refuse")  # used: explained, nothing changes
    assert late.status_code == 409 and "already executed" in late.text
    assert (await _row(db, quote["quote_id"])).status == "executed"
    recent = (await console.get("/console/approvals")).text.split('id="recent"')[1]
    assert (
        quote["quote_id"] in recent
        and "No quote is waiting" in (await console.get("/console/approvals")).text
    )


async def test_a_refused_quote_can_never_be_executed_even_within_a_budget(
    console: httpx.AsyncClient, db: Database, settings: Settings, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    await set_budget(db, owner.key_id, 10_000)  # the budget alone would approve it
    quote = await _quote(db, settings, owner)
    refused = await _post(console, quote["quote_id"], "refuse")
    assert refused.status_code == 303 and refused.headers["location"].endswith("?notice=refused")
    agent = await principal_of(db, owner.key)
    with pytest.raises(QuoteRefused):
        await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert await charged(db, owner.id) == 0 and await balance(db, owner.id) == 5000
    page = await console.get(f"/console/approvals/{quote['quote_id']}")
    assert "You refused this quote" in page.text and 'id="approve-quote"' not in page.text
    again = await _post(console, quote["quote_id"], "approve")
    assert again.status_code == 409 and "refused" in again.text
    assert (await _row(db, quote["quote_id"])).approved_via is None


async def test_refusing_withdraws_an_approval_given_before(
    console: httpx.AsyncClient, db: Database, settings: Settings, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    quote = await _quote(db, settings, owner)
    assert (await _post(console, quote["quote_id"], "approve")).status_code == 303
    assert (await _post(console, quote["quote_id"], "refuse")).status_code == 303
    with pytest.raises(QuoteRefused):
        await quotes.execute_quote(db, settings, await principal_of(db, owner.key), quote["quote_id"])
    assert await charged(db, owner.id) == 0


async def test_an_expired_quote_is_explained_and_cannot_be_approved(
    console: httpx.AsyncClient, db: Database, settings: Settings, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    quote = await _quote(db, settings, owner)
    await expire(db, quote["quote_id"])
    listing = await console.get("/console/approvals")
    assert quote["quote_id"] not in listing.text.split('id="pending"')[1].split("</table>")[0]
    assert quote["quote_id"] in listing.text.split('id="recent"')[1]
    page = await console.get(f"/console/approvals/{quote['quote_id']}")
    assert "expired unused" in page.text and 'id="approve-quote"' not in page.text
    late = await _post(console, quote["quote_id"], "approve")
    assert late.status_code == 409 and "expired" in late.text and 'role="alert"' in late.text
    assert (await _row(db, quote["quote_id"])).approved_via is None


async def test_approving_needs_the_sessions_csrf_token(
    console: httpx.AsyncClient, db: Database, settings: Settings, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    quote = await _quote(db, settings, owner)
    for token in ("", "forged-token"):
        for what in ("approve", "refuse"):
            response = await _post(console, quote["quote_id"], what, csrf=token)
            assert response.status_code == 403, (what, token)
    row = await _row(db, quote["quote_id"])
    assert (row.approved_via, row.status) == (None, "pending")


async def test_unknown_and_malformed_quote_ids(console: httpx.AsyncClient, owner: AccountFixture) -> None:
    missing = await console.get("/console/approvals/q_doesnotexist")
    assert missing.status_code == 404 and "Not found" in missing.text
    assert (await _post(console, "q_doesnotexist", "approve")).status_code == 404
    malformed = await console.get("/console/approvals/not-a-quote")
    assert malformed.status_code == 400 and "Invalid request" in malformed.text


async def test_signed_out_the_quote_link_leads_to_sign_in_and_back(
    app_client: httpx.AsyncClient, owner: AccountFixture
) -> None:
    response = await app_client.get("/console/approvals/q_abc")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fapprovals%2Fq_abc"
