"""``POST /external/actions/precheck``: every listed action type, unsupported types, never writes."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from showfloor.server.db.base import Base
from showfloor.server.db.uow import Database
from tests.conftest import AccountFixture
from tests.factories import make_person
from tests.integration.paid_support import event_with, give

URL = "/external/actions/precheck"


async def _row_counts(db: Database) -> dict[str, int]:
    async with db.read() as session:
        return {
            t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


async def test_visitor_precheck_matches_reference_example(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 8000, "subscription")
    event = await event_with(db, visitors=4, unlocked_for=account.id, layers=("base",))
    before = await _row_counts(db)
    resp = await client.post(
        URL, json={"action_type": "unlock_event_visitors", "params": {"event_id": event.event_id}}
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "ok": True,
        "action_type": "unlock_event_visitors",
        "allowed": True,
        "should_charge": True,
        "credits": 3000,
        "reason_code": "ok",
        "biz_code": "Visitor Unlock - API",
        "detail": {
            "event_id": event.event_id,
            "event_unlocked": True,
            "visitor_unlocked": False,
            "visitor_data_available": True,
            "visitor_access_credits": 3000,
            "available_balance": 8000,
        },
    }
    assert await _row_counts(db) == before  # read-only


async def test_each_listed_action_type(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 100, "gift")
    event = await event_with(db, visitors=0)
    async with db.write() as session:
        person = await make_person(session, event)

    async def check(action: str, params: dict[str, object], **expected: object) -> dict[str, object]:
        resp = await client.post(URL, json={"action_type": action, "params": params, "call_source": "agent"})
        assert resp.status_code == 200, resp.text
        body: dict[str, object] = resp.json()
        assert {k: body[k] for k in expected} == expected, body
        return body

    ev = {"event_id": event.event_id}
    personnel = await check(
        "query_event_personnel", ev, allowed=True, credits=0, reason_code="ok", biz_code=""
    )
    assert personnel["detail"] == {
        "event_id": event.event_id, "access_mode": "preview", "preview_limit": 50,
        "unlock_action_type": "unlock_event_contacts", "unlock_credits": 2000,
    }  # fmt: skip
    await check("unlock_event_contacts", ev, allowed=False, credits=2000, reason_code="insufficient_balance",
                biz_code="Event Unlock - Agent")  # fmt: skip
    await check("unlock_event_visitors", ev, allowed=False, reason_code="forbidden")
    full = await check(
        "unlock_event_full_access", ev, allowed=False, credits=2000, reason_code="insufficient_balance"
    )
    assert full["detail"]["visitor_skipped"] is True  # type: ignore[index]
    emails = {"personnel_ids": [str(person.id)]}
    await check(
        "unlock_contact_emails", emails, allowed=True, should_charge=True, credits=15, reason_code="ok"
    )
    await check(
        "unlock_contact_phones", emails, allowed=False, credits=150, reason_code="insufficient_balance"
    )
    await check("unlock_contact_emails", {"personnel_ids": ["1"] * 2001}, allowed=False,
                reason_code="exceed_max_unlock_limit")  # fmt: skip
    await check("search_exhibitor_events", {"company_name": "Acme"}, allowed=True, credits=50,
                biz_code="Exhibitor Event Search - Agent")  # fmt: skip
    await check(
        "search_personnel_events_by_name", {"person_name": "Jane"}, allowed=False, reason_code="forbidden"
    )
    await check("search_personnel_events_by_name", {}, allowed=False, reason_code="invalid_subject")
    await check("unlock_event_contacts", {"event_id": "nope"}, allowed=False, reason_code="not_found")
    await check("unlock_event_contacts", {}, allowed=False, reason_code="invalid_subject")
    for action in ("integration_status", "integration_export_contacts", "integration_export_exhibitors"):
        await check(action, {}, allowed=False, should_charge=False, reason_code="forbidden")
    await check("others", {}, allowed=True, should_charge=False, credits=0, reason_code="ok")
    await check("Make_Coffee", {}, ok=True, action_type="make_coffee", allowed=False,
                reason_code="unsupported_action")  # fmt: skip


async def test_precheck_validation(client: httpx.AsyncClient) -> None:
    assert (await client.post(URL, json={"action_type": "others"})).status_code == 400  # params required
    extra = await client.post(URL, json={"action_type": "others", "params": {}, "surprise": 1})
    assert extra.status_code == 400
    assert (await client.post(URL, json={"action_type": "", "params": {}})).status_code == 400
