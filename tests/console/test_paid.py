"""Paying from the console: the API's precheck quotes, the API's use case runs under the API's
idempotency machinery, so a double submission of one confirm form charges once."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from showfloor.server.db.uow import Database
from showfloor.server.models import CreditHold, IdempotencyRecord, UnlockTask
from tests.conftest import AccountFixture
from tests.console.support import field_of
from tests.factories import make_event, make_person
from tests.integration.paid_support import balance, debits, event_with, give


async def _confirm_form(client: httpx.AsyncClient, event_id: int) -> dict[str, str]:
    page = await client.get(f"/console/events/{event_id}/unlock/base")
    assert page.status_code == 200
    assert 'id="quote-cost">2,000 credits' in page.text  # the price, from the API's precheck
    return {
        "csrf_token": field_of(page.text, "csrf_token"),
        "idempotency_key": field_of(page.text, "idempotency_key"),
    }


async def test_an_event_unlock_charges_once_for_a_double_submit(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    event = await event_with(db)
    form = await _confirm_form(console, event.id)
    first = await console.post(f"/console/events/{event.id}/unlock/base", data=form)
    second = await console.post(f"/console/events/{event.id}/unlock/base", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"].endswith("?notice=unlocked&charged=2000")
    assert [d.amount for d in await debits(db, owner.id)] == [2000]
    assert [d.api_key_id for d in await debits(db, owner.id)] == [None]  # console spending: no API key
    assert await balance(db, owner.id) == 3000
    page = await console.get(first.headers["location"])
    assert 'id="access-state">Unlocked' in page.text and "2,000 credits were charged" in page.text


async def test_concurrent_submissions_of_one_form_charge_once(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    event = await event_with(db)
    form = await _confirm_form(console, event.id)
    responses = await asyncio.gather(
        *(console.post(f"/console/events/{event.id}/unlock/base", data=form) for _ in range(4))
    )
    assert {r.status_code for r in responses} == {303}
    assert [d.amount for d in await debits(db, owner.id)] == [2000]
    async with db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    assert stored == 1


async def test_a_new_form_after_the_unlock_charges_nothing(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    event = await event_with(db, unlocked_for=owner.id, layers=("base",))
    page = await console.get(f"/console/events/{event.id}/unlock/base")
    assert "Already unlocked: nothing to pay." in page.text and "confirm-unlock" not in page.text
    response = await console.post(
        f"/console/events/{event.id}/unlock/base",
        data={"csrf_token": field_of(page.text, "csrf_token"), "idempotency_key": "console-fresh-key"},
    )
    assert response.headers["location"].endswith("?notice=already")
    assert await debits(db, owner.id) == []


async def test_without_enough_credits_the_unlock_is_refused_and_nothing_is_charged(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 100)
    event = await event_with(db)
    page = await console.get(f"/console/events/{event.id}/unlock/base")
    assert "insufficient balance" in page.text and "confirm-unlock" not in page.text
    response = await console.post(
        f"/console/events/{event.id}/unlock/base",
        data={"csrf_token": field_of(page.text, "csrf_token"), "idempotency_key": "console-k1"},
    )
    assert response.status_code == 402 and "Insufficient credits" in response.text
    assert await debits(db, owner.id) == [] and await balance(db, owner.id) == 100


async def test_a_key_reused_for_another_event_is_refused(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 10_000)
    one, two = await event_with(db), await event_with(db)
    form = await _confirm_form(console, one.id)
    assert (await console.post(f"/console/events/{one.id}/unlock/base", data=form)).status_code == 303
    reused = await console.post(f"/console/events/{two.id}/unlock/base", data=form)
    assert reused.status_code == 422
    assert [d.amount for d in await debits(db, owner.id)] == [2000]


async def test_an_unknown_unlock_or_a_bad_key_is_an_error_page(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 5000)
    event = await event_with(db)
    assert (await console.get(f"/console/events/{event.id}/unlock/everything")).status_code == 404
    form = await _confirm_form(console, event.id)
    bad = await console.post(f"/console/events/{event.id}/unlock/base", data={**form, "idempotency_key": ""})
    assert bad.status_code == 400


async def test_a_contact_unlock_submitted_twice_makes_one_task_and_one_hold(
    console: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    await give(db, owner.id, 1000)
    async with db.write() as session:
        event = await make_event(session)
        ids = [str((await make_person(session, event)).id) for _ in range(3)]
    csrf = field_of((await console.get("/console")).text, "csrf_token")
    data = {"csrf_token": csrf, "kind": "email", "event_id": event.event_id, "personnel_ids": ids}
    quote = await console.post("/console/contacts/quote", data=data)
    assert 'id="quote-count">3<' in quote.text and 'id="quote-cost">45 credits' in quote.text
    data["idempotency_key"] = field_of(quote.text, "idempotency_key")
    first = await console.post("/console/contacts/unlock", data=data)
    second = await console.post("/console/contacts/unlock", data=data)
    assert first.headers["location"] == second.headers["location"]
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(UnlockTask)) == 1
        assert await session.scalar(select(func.sum(CreditHold.amount))) == 45


async def test_a_contact_unlock_needs_a_selection_and_a_kind(console: httpx.AsyncClient) -> None:
    csrf = field_of((await console.get("/console")).text, "csrf_token")
    nobody = await console.post("/console/contacts/quote", data={"csrf_token": csrf, "kind": "email"})
    assert nobody.status_code == 400 and "Select at least one person" in nobody.text
    bad_kind = await console.post(
        "/console/contacts/quote", data={"csrf_token": csrf, "kind": "fax", "personnel_ids": "1"}
    )
    assert bad_kind.status_code == 400
    unknown = await console.post(
        "/console/contacts/quote", data={"csrf_token": csrf, "kind": "email", "personnel_ids": "999999"}
    )
    assert unknown.status_code == 200 and "not found" in unknown.text
