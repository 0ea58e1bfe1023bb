"""Spend controls in the console: a key's daily and monthly spend caps on the keys page
(``ledger.spend_caps.set_caps``) and the account's balance alert thresholds on the alerts page
(``ledger.alerts.set_thresholds``), the same services as the admin CLI and the API; set, enforced, cleared,
bad values refused with nothing changed, CSRF. Another account's key: ``test_other_accounts``."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from showfloor.server.db.uow import Database
from showfloor.server.models import ApiKeySpendCap
from tests.conftest import AccountFixture
from tests.console.support import page_csrf
from tests.integration.paid_support import balance, event_with, give


async def _caps(
    console: httpx.AsyncClient, key_id: int, daily: str, monthly: str, csrf: str | None = None
) -> httpx.Response:
    token = csrf if csrf is not None else await page_csrf(console, "/console/keys")
    data = {"csrf_token": token, "daily_cap": daily, "monthly_cap": monthly}
    return await console.post(f"/console/keys/{key_id}/spend-caps", data=data)


async def _caps_of(db: Database, key_id: int) -> tuple[int | None, int | None] | None:
    async with db.read() as session:
        row = await session.scalar(select(ApiKeySpendCap).where(ApiKeySpendCap.api_key_id == key_id))
        return None if row is None else (row.daily_cap, row.monthly_cap)


async def test_a_keys_caps_are_set_enforced_and_cleared(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    page = await console.get("/console/keys")
    assert f'id="caps-{owner.key_id}"' in page.text and '<td class="caps">none</td>' in page.text
    saved = await _caps(console, owner.key_id, "1,000", "50000")
    assert saved.status_code == 303 and saved.headers["location"].startswith("/console/keys?notice=caps")
    assert await _caps_of(db, owner.key_id) == (1000, 50000)
    page = await console.get("/console/keys?notice=caps")
    assert (
        "spend caps are saved" in page.text and "1,000 / day" in page.text and "50,000 / month" in page.text
    )

    await give(db, owner.id, 5000)
    event = await event_with(db, contacts=3)  # 2,000 credits: above the daily cap
    refused = await console.post(f"/external/events/{event.event_id}/unlock", headers=owner.headers)
    assert refused.status_code == 402 and refused.json()["errorKey"] == "SPEND_CAP_EXCEEDED"
    assert await balance(db, owner.id) == 5000

    only_monthly = await _caps(console, owner.key_id, "", "50000")
    assert only_monthly.status_code == 303 and await _caps_of(db, owner.key_id) == (None, 50000)
    paid = await console.post(f"/external/events/{event.event_id}/unlock", headers=owner.headers)
    assert paid.status_code == 201 and await balance(db, owner.id) == 3000
    assert (await _caps(console, owner.key_id, "", "")).status_code == 303
    assert await _caps_of(db, owner.key_id) is None


async def test_bad_caps_are_refused_and_change_nothing(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    assert (await _caps(console, owner.key_id, "100", "")).status_code == 303
    for daily, said in (("lots", "whole number"), ("-1", "positive"), ("9" * 11, "at most")):
        refused = await _caps(console, owner.key_id, daily, "7000")
        assert refused.status_code == 400 and said in refused.text, daily
    assert await _caps_of(db, owner.key_id) == (100, None)
    for token in ("", "forged"):
        assert (await _caps(console, owner.key_id, "5", "5", csrf=token)).status_code == 403
    assert await _caps_of(db, owner.key_id) == (100, None)


async def _alerts(console: httpx.AsyncClient, thresholds: str, csrf: str | None = None) -> httpx.Response:
    token = csrf if csrf is not None else await page_csrf(console, "/console/alerts")
    return await console.post("/console/alerts", data={"csrf_token": token, "thresholds": thresholds})


async def test_balance_alert_thresholds_are_set_shown_and_cleared(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 3000)
    assert "No balance alert is set." in (await console.get("/console/alerts")).text
    saved = await _alerts(console, "1000, 5_000 ,5000")
    assert saved.status_code == 303 and saved.headers["location"] == "/console/alerts?notice=saved"
    api = await console.get("/external/credits/alerts", headers=owner.headers)
    assert api.json()["thresholds"] == [5000, 1000]  # the service's order, duplicates collapsed
    page = await console.get("/console/alerts?notice=saved")
    assert 'value="5000, 1000"' in page.text and "alerts are saved" in page.text
    rows = page.text.split('id="alerts"')[1]
    assert "Below 5,000 credits" in rows and "Below 1,000 credits" in rows and "Balance at zero" in rows
    assert rows.count("badge bad") == 1  # 3,000 is below 5,000 only
    assert (await _alerts(console, "")).status_code == 303
    assert (await console.get("/external/credits/alerts", headers=owner.headers)).json()["thresholds"] == []


async def test_bad_thresholds_are_refused_and_change_nothing(
    console: httpx.AsyncClient, owner: AccountFixture
) -> None:
    assert (await _alerts(console, "700")).status_code == 303
    for text, said in (
        ("ten", "whole number"),
        ("-5", "whole number"),
        ("0", "from 1"),  # ledger.alerts' own rule
        (", ".join(str(n) for n in range(1, 30)), "At most 20"),
    ):
        refused = await _alerts(console, text)
        assert refused.status_code == 400 and said in refused.text, text
    for token in ("", "forged"):
        assert (await _alerts(console, "9", csrf=token)).status_code == 403
    api = await console.get("/external/credits/alerts", headers=owner.headers)
    assert api.json()["thresholds"] == [700]
