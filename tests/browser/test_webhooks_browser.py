"""The webhooks page in a real browser: add an endpoint (the secret shown once), disable and enable it,
rotate its secret, and redeliver from its delivery log. Each page is checked and screenshotted."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.harness import check_accessibility, screenshot
from tests.browser.server import Site, emit_event
from tests.browser.test_console_browser import sign_in


def test_manage_a_webhook_endpoint_and_redeliver(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.get_by_role("link", name="Webhooks", exact=True).click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    page.get_by_label("URL").fill("http://hooks.example.com/showfloor")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("alert")).to_contain_text("https")  # the API's URL rule, beside the form
    page.get_by_label("URL").fill("https://hooks.example.com/showfloor")
    page.get_by_label("Description").fill("CRM sync")
    page.get_by_label("credits.granted").check()
    page.get_by_label("event.unlocked").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    check_accessibility(page)
    screenshot(page, "webhooks")

    page.get_by_role("link", name="Open the endpoint and its delivery log").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Webhook endpoint \d+$"))).to_be_visible()
    assert secret not in page.content()
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("status")).to_contain_text("disabled")
    expect(page.locator("#endpoint-status")).to_have_text("disabled")
    page.get_by_role("button", name="Enable").click()
    expect(page.locator("#endpoint-status")).to_contain_text("enabled")
    page.get_by_role("button", name="Rotate secret").click()
    rotated = page.locator("#new-secret").inner_text().strip()
    assert rotated.startswith("whsec_") and rotated != secret

    emit_event(site, site.owner_account, "credits.granted")
    page.goto(page.url.split("/rotate-secret")[0])  # the endpoint page again, by GET
    expect(page.locator("#deliveries tbody tr", has_text="credits.granted")).to_have_count(1)
    check_accessibility(page)
    screenshot(page, "webhook-deliveries")
    page.get_by_role("button", name=re.compile(r"^Redeliver delivery \d+$")).click()
    expect(page.get_by_role("status")).to_contain_text("queued again")
