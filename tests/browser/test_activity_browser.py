"""The Activity page in a real browser: the demo account's rows, a filter, the CSV, and the raw ledger
one click away. Each page is checked and screenshotted."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.harness import check_accessibility, screenshot
from tests.browser.server import Site
from tests.browser.test_console_browser import sign_in


def test_activity_filters_exports_and_opens_the_raw_ledger(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.get_by_role("link", name="Activity", exact=True).click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    rows = page.locator("#activity tbody tr")
    expect(rows.first).to_contain_text(re.compile(r"grant|unlock", re.IGNORECASE))
    check_accessibility(page)
    screenshot(page, "activity")

    page.get_by_label("Action").select_option("grant")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"action=grant"))
    expect(rows.first).to_contain_text(re.compile(r"grant: \+[0-9,]+ credits"))
    for n in range(rows.count()):
        expect(rows.nth(n).locator("td").nth(1)).to_contain_text("grant")
    export = page.request.get(site.base_url + (page.locator("#activity-csv").get_attribute("href") or ""))
    assert export.ok and export.headers["content-type"].startswith("text/csv")
    lines = export.text().splitlines()
    assert lines[0].startswith("operation_id,occurred_at,type,action,description")
    assert len(lines) - 1 == rows.count() and all(",grant," in line for line in lines[1:])

    page.goto(f"{site.base_url}/console/activity")  # every row again: the newest (an unlock, if any ran)
    expect(rows.first).to_be_visible()
    newest = rows.first.locator("td").nth(1).inner_text()
    rows.first.get_by_role("link", name=re.compile(r"^Ledger entries of operation \d+$")).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Ledger of operation \d+$"))).to_be_visible()
    kinds = page.locator("#operations tbody tr td:nth-child(3)").all_inner_texts()
    if newest.startswith("Contact"):  # a task: its hold, then a capture per delivered person
        assert kinds[0] == "hold" and "capture" in kinds
    else:
        assert len(kinds) == 1
    check_accessibility(page)
    screenshot(page, "activity-ledger")
    page.get_by_role("link", name="Raw ledger").click()
    expect(page.get_by_role("heading", name="Raw ledger", level=1)).to_be_visible()
    expect(page.locator("#entries tbody tr").first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "ledger")
