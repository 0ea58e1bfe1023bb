"""Approvals in a real browser: an agent's key quotes two event unlocks; the owner approves one on its own
page (the link an MCP URL elicitation gives) and the agent's execute then charges it, once; the owner
refuses the other from the list and the agent's execute cannot charge it. Pages checked and screenshotted.

The agent side calls the agents service (``agents.quotes``) on the site's database with a key of the
account, exactly as the MCP tools do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from playwright.sync_api import Page, expect

from tests.browser.harness import check_accessibility, screenshot
from tests.browser.server import Site
from tests.browser.test_console_browser import credits_in, sign_in

T = TypeVar("T")


def _run(site: Site, work: Callable[[Any], Awaitable[T]]) -> T:
    """``work(db)`` on the site's database, in a thread with its own event loop."""

    async def main() -> T:
        from showfloor.server.db.engine import make_engine
        from showfloor.server.db.uow import Database

        db = Database(make_engine(site.database_url, null_pool=True))
        try:
            return await work(db)
        finally:
            await db.dispose()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, main()).result()


def _agent_quotes(site: Site, count: int) -> tuple[str, list[dict[str, Any]]]:
    """A new key of the owner's account (the agent's) and its quotes for events with contacts that the
    account has not unlocked yet."""

    async def work(db: Any) -> tuple[str, list[dict[str, Any]]]:
        from sqlalchemy import select

        from showfloor.server.accounts import service as accounts
        from showfloor.server.agents import quotes
        from showfloor.server.models import Event, EventUnlock
        from tests.conftest import test_settings

        async with db.write() as session:
            issued = await accounts.create_key(session, site.owner_account, name="claude agent")
            unlocked = select(EventUnlock.event_id).where(EventUnlock.account_id == site.owner_account)
            events = (
                await session.scalars(
                    select(Event.id)
                    .where(Event.id.not_in(unlocked), Event.contact_count > 0)
                    .order_by(Event.id)
                )
            ).all()
        async with db.read() as session:
            agent = await accounts.authenticate(session, issued.key)
        settings = test_settings(site.database_url)
        made = [
            await quotes.create_quote(db, settings, agent, "unlock_event_contacts", {"event_id": str(event)})
            for event in events[:count]
        ]
        return issued.key, made

    return _run(site, work)


def _agent_executes(site: Site, key: str, quote_id: str) -> dict[str, Any]:
    """The agent's execute_quote: its result, or the error code it got."""

    async def work(db: Any) -> dict[str, Any]:
        from showfloor.server.accounts import service as accounts
        from showfloor.server.agents import quotes
        from showfloor.server.errors import DomainError
        from tests.conftest import test_settings

        async with db.read() as session:
            agent = await accounts.authenticate(session, key)
        try:
            return await quotes.execute_quote(db, test_settings(site.database_url), agent, quote_id)
        except DomainError as exc:
            return {"error": exc.code}

    return _run(site, work)


def test_approve_then_the_agent_is_charged_and_refuse_then_it_cannot(page: Page, site: Site) -> None:
    key, (first, second) = _agent_quotes(site, 2)
    assert first["credits"] > 0 and second["credits"] > 0
    assert _agent_executes(site, key, first["quote_id"]) == {"error": "APPROVAL_REQUIRED"}

    sign_in(page, site)
    before = credits_in(page, "#balance-total")
    page.get_by_role("link", name="Approvals", exact=True).click()
    expect(page.get_by_role("heading", name="Approvals", level=1)).to_be_visible()
    pending = page.locator("#pending tbody tr")
    expect(pending.filter(has_text=first["quote_id"])).to_contain_text("Unlock an event's contact layer")
    expect(pending.filter(has_text=second["quote_id"])).to_contain_text("waiting for you")
    check_accessibility(page)
    screenshot(page, "approvals")

    page.goto(f"{site.base_url}/console/approvals/{first['quote_id']}")  # the link an agent's app shows
    expect(page.locator("#quote-cost")).to_have_text(f"{first['credits']:,} credits")
    check_accessibility(page)
    screenshot(page, "approval-quote")
    page.locator("#approve-quote").click()
    expect(page.get_by_role("status")).to_contain_text("Approved.")
    expect(page.locator("#quote-status")).to_contain_text("approved, not executed yet")

    done = _agent_executes(site, key, first["quote_id"])
    assert (done["status"], done["approved_via"], done["credits_charged"]) == (
        "executed",
        "console",
        first["credits"],
    )
    assert _agent_executes(site, key, first["quote_id"])["replayed"] is True  # once
    page.reload()
    expect(page.locator("#quote-status")).to_contain_text("executed")
    expect(page.locator("#quote-charged")).to_contain_text(f"{first['credits']:,} credits")

    page.get_by_role("link", name="Approvals", exact=True).click()
    page.get_by_role("button", name=f"Refuse quote {second['quote_id']}").click()
    expect(page.get_by_role("status")).to_contain_text("Refused.")
    expect(page.locator("#quote-status")).to_contain_text("refused")
    assert _agent_executes(site, key, second["quote_id"]) == {"error": "QUOTE_REFUSED"}
    page.get_by_role("link", name="Approvals", exact=True).click()
    expect(page.locator("#recent tbody tr", has_text=second["quote_id"])).to_contain_text("refused")
    page.get_by_role("link", name="Overview", exact=True).click()
    assert credits_in(page, "#balance-total") == before - first["credits"]  # the approved one only


def test_a_keys_agent_policy_and_caps_and_the_balance_alerts(page: Page, site: Site) -> None:
    key, _ = _agent_quotes(site, 0)  # a fresh key named "claude agent"
    sign_in(page, site)
    page.get_by_role("link", name="API keys", exact=True).click()
    policy = page.locator("form[id^=policy-]", has_text="claude agent").last
    policy.get_by_label("Daily agent budget").fill("5000")
    policy.get_by_label("MCP only").check()
    policy.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("agent policy is saved")
    caps = page.locator("form[id^=caps-]", has_text="claude agent").last
    caps.get_by_label("Daily cap").fill("8000")
    caps.get_by_label("Monthly cap").fill("100000")
    caps.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("spend caps are saved")
    row = page.locator("tbody tr", has_text="claude agent").last
    expect(row.locator(".agent-budget")).to_have_text("5,000 / day")
    expect(row.locator(".scope")).to_have_text("MCP only")
    expect(row.locator(".caps")).to_contain_text("8,000 / day")
    check_accessibility(page)
    screenshot(page, "keys-limits")
    assert key.startswith("sk_")

    page.get_by_role("link", name="Alerts", exact=True).click()
    page.get_by_label("Thresholds in credits").fill("1000, 500000000")
    page.get_by_role("button", name="Save alerts").click()
    expect(page.get_by_role("status")).to_contain_text("alerts are saved")
    expect(page.locator("#alerts tbody tr")).to_have_count(3)  # two thresholds and the zero alert
    expect(page.locator("#alerts tbody tr", has_text="Below 500,000,000 credits")).to_contain_text("low")
    check_accessibility(page)
    screenshot(page, "alerts")
