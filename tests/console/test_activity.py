"""The console's Activity page: the rows of ``ledger.activity.list_activity`` (one per operation), its
filters, the CSV export and the raw ledger behind each row, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from showfloor.server.db.uow import Database
from showfloor.server.ledger import service
from showfloor.server.models import ApiKey
from tests.conftest import AccountFixture
from tests.integration.unlock_support import drain, give_credits, seed_cast


async def _history(console: httpx.AsyncClient, db: Database, owner: AccountFixture) -> str:
    """A grant, a contact unlock task over the API (5 delivered, 2 released) and an agent's debit."""
    await give_credits(db, owner.id, 1000)
    cast = await seed_cast(db, deliverable=5, no_email=2)
    submitted = await console.post(
        "/external/contacts/unlock",
        json={"personnel_ids": [str(pk) for pk in cast.people.values()]},
        headers=owner.headers,
    )
    assert submitted.status_code == 201, submitted.text
    await drain(db)
    async with db.write() as session:
        ctx = service.ChargeContext(owner.id, owner.key_id, "agent", "Event Unlock - Agent", "event", "evt_x")
        await service.debit(session, ctx, 2, "an agent's unlock")
    return str(submitted.json()["task_id"])


def _rows(html: str) -> list[str]:
    body = html.split('<table id="activity">', 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr id=")[1:]]


def _what(html: str) -> list[str]:
    """The What column of each row, as shown."""
    body = html.split('<table id="activity">', 1)[1].split("</tbody>", 1)[0]
    return [cells.split("<td>")[2].split("</td>")[0] for cells in body.split("<tr id=")[1:]]


async def test_one_row_per_operation_as_a_person_reads_it(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    task = await _history(console, db, owner)
    page = await console.get("/console/activity")
    assert page.status_code == 200 and '<a href="/console/activity" aria-current="page">' in page.text
    debit, unlock, grant = _rows(page.text)
    assert f"Contact email unlock, task {task}: 5 delivered × 15 = 75 credits (30 released)" in unlock
    assert unlock.endswith("-75 Ledger") and owner.key[:8] in unlock
    assert "Event unlock, event evt_x: 2 credits" in debit and " agent " in debit
    assert "Gift grant: +1,000 credits" in grant and "+1,000 Ledger" in grant
    assert ">Raw ledger</a>" in page.text and 'id="activity-csv"' in page.text


async def test_filters_by_action_source_key_and_date(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await _history(console, db, owner)
    today = datetime.now(UTC).date()
    cases = {
        "action=contact_email_unlock": ["Contact email unlock"],
        "action=grant": ["Gift grant"],
        "source=agent": ["Event unlock"],
        "source=api": ["Contact email unlock"],
        f"key={owner.key.split('_')[0]}_nope": [],
        f"date_from={today}": ["Event unlock", "Contact email unlock", "Gift grant"],
        f"date_to={today - timedelta(days=1)}": [],
        f"date_from={today}&date_to={today}&source=agent": ["Event unlock"],
    }
    for query, expected in cases.items():
        page = await console.get(f"/console/activity?{query}")
        assert page.status_code == 200, (query, page.text[:300])
        found = _what(page.text)
        assert [w.split(",")[0].split(":")[0] for w in found] == expected, (query, found)
    async with db.read() as session:
        prefix = await session.scalar(select(ApiKey.prefix).where(ApiKey.id == owner.key_id))
    by_key = await console.get("/console/activity", params={"key": prefix})
    assert [w.split(",")[0] for w in _what(by_key.text)] == [
        "Event unlock",
        "Contact email unlock",
    ]  # no grant
    assert f'<option value="{prefix}" selected>' in by_key.text
    for query, message in (
        ("date_from=yesterday", "YYYY-MM-DD"),
        ("action=teleport", "Unknown action"),
        ("source=robot", "Unknown source"),
        (f"date_from={today}&date_to={today - timedelta(days=2)}", "earlier than"),
    ):
        bad = await console.get(f"/console/activity?{query}")
        assert bad.status_code == 400 and message in bad.text, (query, bad.text[:300])
        assert 'id="filter-error"' in bad.text


async def test_the_csv_has_every_row_matching_the_filters(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    task = await _history(console, db, owner)
    export = await console.get("/console/activity.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.headers["content-disposition"].startswith(f'attachment; filename="activity-{owner.id}-')
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["action"] for r in rows] == ["event_unlock", "contact_email_unlock", "grant"]
    unlock = rows[1]
    assert (unlock["task_id"], unlock["delivered"], unlock["unit_credits"], unlock["balance_change"]) == (
        task,
        "5",
        "15",
        "-75",
    )
    assert sum(int(r["balance_change"]) for r in rows) == 1000 - 75 - 2  # the rows add up to the balance
    agent_only = list(
        csv.DictReader(io.StringIO((await console.get("/console/activity.csv?source=agent")).text))
    )
    assert [r["action"] for r in agent_only] == ["event_unlock"]
    assert (await console.get("/console/activity.csv?action=teleport")).status_code == 400


async def test_the_raw_ledger_is_one_click_away(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await _history(console, db, owner)
    page = await console.get("/console/activity")
    links = re.findall(
        r'href="(/console/activity/\d+)" aria-label="Ledger entries of operation \d+"', page.text
    )
    assert len(links) == 3
    raw = await console.get(links[1])  # the task's row: its hold, captures and releases
    assert raw.status_code == 200
    kinds = re.findall(r'<tr id="raw-\d+"><td>\d+</td><td>[^<]+</td><td>(\w+)</td>', raw.text)
    assert kinds[0] == "hold" and kinds.count("capture") == 5 and "release" in kinds, kinds
    assert "Contact Email Unlock - API" in raw.text  # the business code, as the ledger holds it
    grant = await console.get(links[2])
    assert re.findall(r'<tr id="raw-\d+"><td>\d+</td><td>[^<]+</td><td>(\w+)</td>', grant.text) == ["grant"]
    assert "+1,000" in grant.text
    ledger = await console.get("/console/ledger")
    assert ledger.status_code == 200
    entries = ledger.text.split('<table id="entries">', 1)[1].split("</tbody>", 1)[0].count("<tr><td>")
    listed = (await console.get("/external/credits/transactions?pageSize=100", headers=owner.headers)).json()
    assert entries == listed["total"] and entries > 3  # the same entries as the API's transactions
    assert (await console.get("/console/activity/999999")).status_code == 404


async def test_the_csv_never_hands_a_spreadsheet_a_formula(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give_credits(db, owner.id, 100)
    async with db.write() as session:  # a business code the operator typed, starting like a formula
        ctx = service.ChargeContext(owner.id, owner.key_id, "api", '=HYPERLINK("x")', None, None)
        await service.debit(session, ctx, 1, "odd code")
    rows = list(csv.DictReader(io.StringIO((await console.get("/console/activity.csv")).text)))
    assert rows[0]["description"].startswith("'=HYPERLINK")
    assert '=HYPERLINK("x")' in (await console.get("/console/activity")).text.replace("&#34;", '"')
