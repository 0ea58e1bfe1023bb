"""The console in a real browser (system Chromium via Playwright): sign-in, every page with demo data,
the credit-safe event unlock (a double click charges once), a contact unlock with live progress, API
keys, and the refusals (bad password, forged CSRF token, another account's id). Each page visited is
checked for accessibility and saved as a screenshot."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.browser.harness import check_accessibility, screenshot
from tests.browser.server import OTHER_EMAIL, OWNER_EMAIL, PASSWORD, Site


def sign_in(page: Page, site: Site, email: str = OWNER_EMAIL, password: str = PASSWORD) -> None:
    page.goto(f"{site.base_url}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def credits_in(page: Page, selector: str) -> int:
    return int(re.sub(r"[^0-9]", "", page.locator(selector).inner_text()))


def test_sign_in_with_a_bad_password_then_sign_in_and_out(page: Page, site: Site) -> None:
    page.goto(f"{site.base_url}/console")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    check_accessibility(page)
    screenshot(page, "login")
    sign_in(page, site, password="not the password at all")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    screenshot(page, "login-bad-password")
    sign_in(page, site)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{site.base_url}/console/keys")
    expect(page).to_have_url(re.compile(r"/console/login"))


def test_every_page_renders_with_demo_data(page: Page, site: Site) -> None:
    sign_in(page, site)
    expect(page.locator("#balance-total")).not_to_have_text("0")
    check_accessibility(page)
    screenshot(page, "overview")
    page.get_by_role("link", name="Events", exact=True).click()
    expect(page.locator("#events-total")).to_contain_text("12 events")
    check_accessibility(page)
    screenshot(page, "events")
    page.get_by_label("Keyword").fill(page.locator("tbody tr td a").first.inner_text().split()[0])
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr td a").first).to_be_visible()
    page.locator("tbody tr td a").first.click()
    expect(page.locator("#access-state")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "event")
    for name, path in (
        ("contacts", "/console/contacts"),
        ("tasks", "/console/tasks"),
        ("keys", "/console/keys"),
    ):
        page.goto(site.base_url + path)
        check_accessibility(page)
        screenshot(page, name)


def test_event_unlock_end_to_end_charges_once_for_a_double_click(page: Page, site: Site) -> None:
    sign_in(page, site)
    before = credits_in(page, "#balance-total")
    page.goto(f"{site.base_url}/console/events")
    rows = page.locator("tbody tr", has=page.locator(".badge.off", has_text="Preview"))
    rows.first.locator("a").first.click()
    page.get_by_role("link", name=re.compile(r"^Unlock event · [0-9,]+ credits$")).click()
    expect(page.get_by_role("heading", name="Unlock event", level=1)).to_be_visible()
    cost = credits_in(page, "#quote-cost")
    assert credits_in(page, "#quote-balance") == before and cost > 0
    check_accessibility(page)
    screenshot(page, "event-unlock-confirm")
    page.locator("#confirm-unlock").dblclick()
    expect(page.locator("#access-state")).to_have_text("Unlocked")
    expect(page.get_by_role("status")).to_contain_text("credits were charged")
    screenshot(page, "event-unlocked")
    page.goto(f"{site.base_url}/console")
    assert credits_in(page, "#balance-total") == before - cost  # charged exactly once


def test_contact_unlock_shows_live_progress_and_outcomes(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.goto(f"{site.base_url}/console/events")
    page.locator("tbody tr td a").nth(1).click()
    boxes = page.locator("input[name=personnel_ids]")
    for n in range(4):
        boxes.nth(n).check()
    page.get_by_role("button", name="Unlock emails…").click()
    expect(page.get_by_role("heading", name="Unlock emails", level=1)).to_be_visible()
    check_accessibility(page)
    screenshot(page, "contacts-quote")
    page.locator("#confirm-contacts").click()
    expect(page).to_have_url(re.compile(r"/console/tasks/email/\d+$"))
    expect(page.locator("#task-status")).to_have_text(re.compile("pending|processing"))
    screenshot(page, "task-in-progress")
    expect(page.locator("#task-status")).to_have_text(re.compile("completed|failed"), timeout=30_000)
    expect(page.locator("#task-settled")).to_have_text("4 of 4 settled")
    assert page.locator("#task-progress tbody tr").count() == 4
    check_accessibility(page)
    screenshot(page, "task-done")
    page.goto(f"{site.base_url}/console/contacts")
    expect(page.locator("#unlocked-h")).not_to_have_text("Unlocked contacts (0)")
    screenshot(page, "contacts")


def test_create_and_revoke_an_api_key(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.goto(f"{site.base_url}/console/keys")
    page.get_by_label(re.compile("^Name")).fill("Browser test key")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-secret").inner_text().strip()
    assert secret.startswith("sk_")
    check_accessibility(page)
    screenshot(page, "key-created")
    assert (
        httpx.get(
            f"{site.base_url}/external/credits/balance", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 200
    )
    row = page.locator("tr", has_text="Browser test key")
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.locator("tr", has_text="Browser test key").locator(".badge")).to_contain_text("revoked")
    screenshot(page, "key-revoked")
    assert (
        httpx.get(
            f"{site.base_url}/external/credits/balance", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )


def test_a_forged_csrf_token_is_refused(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.goto(f"{site.base_url}/console/keys")
    page.evaluate(
        "() => document.querySelectorAll('input[name=csrf_token]').forEach(e => { e.value = 'forged'; })"
    )
    page.get_by_label(re.compile("^Name")).fill("Should not exist")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    screenshot(page, "csrf-refused")
    page.goto(f"{site.base_url}/console/keys")
    expect(page.locator("tr", has_text="Should not exist")).to_have_count(0)


def test_another_accounts_task_is_not_found(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.goto(f"{site.base_url}/console/tasks")
    link = page.locator("tbody a").first
    href = link.get_attribute("href")
    assert href and href.startswith("/console/tasks/")
    page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in(page, site, email=OTHER_EMAIL)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    response = page.goto(site.base_url + href)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "not-found")
