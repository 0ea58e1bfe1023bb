"""Agent quotes (service level, both databases): quote for free, approve (another key, budget), execute
once, replay, expire, re-price and refuse; a PostgreSQL race of executes of one quote charges once."""

from __future__ import annotations

import asyncio

import pytest

from showfloor.server.agents import quotes
from showfloor.server.agents.errors import (
    ApprovalRequired,
    QuoteExpired,
    QuoteNotFound,
    QuoteOfAnotherKey,
    QuoteRepriced,
    SelfApproval,
)
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError, InsufficientCredits, InvalidRequest, NotFound
from tests.conftest import AccountFixture, Databases, new_account, test_settings
from tests.factories import make_exhibitor, make_person
from tests.integration.agent_support import expire, principal_of, second_key, set_budget
from tests.integration.paid_support import balance, charged, debits, event_with, give


async def test_quote_is_free_and_execution_needs_an_approval(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db, contacts=3)
    agent = await principal_of(db, account.key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    assert quote["credits"] == 2000 and quote["allowed"] is True and quote["reason_code"] == "ok"
    assert quote["available_balance"] == 5000 and quote["status"] == "pending" and not quote["approved"]
    assert quote["params"] == {"event_id": event.event_id}
    with pytest.raises(ApprovalRequired) as refused:
        await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert refused.value.details is not None and refused.value.details["how_to_approve"]
    assert await charged(db, account.id) == 0 and await balance(db, account.id) == 5000


async def test_another_key_approves_then_one_charge_and_replays(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db, contacts=3)
    agent = await principal_of(db, account.key)
    owner = await principal_of(db, (await second_key(db, account)).key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    with pytest.raises(SelfApproval):
        await quotes.approve_quote(db, agent, quote["quote_id"])
    approved = await quotes.approve_quote(db, owner, quote["quote_id"])
    assert approved["approved"] is True and approved["approved_via"] == "key"
    with pytest.raises(QuoteOfAnotherKey):  # bound to the key that asked
        await quotes.execute_quote(db, settings, owner, quote["quote_id"])
    first = await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert first["status"] == "executed" and first["replayed"] is False and first["credits_charged"] == 2000
    assert first["result"]["creditsUsed"] == 2000 and first["result"]["alreadyUnlocked"] is False
    again = await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert again["replayed"] is True and again["result"] == first["result"]
    ops = await debits(db, account.id)
    assert [(o.amount, o.call_source, o.api_key_id, o.business_code) for o in ops] == [
        (2000, "agent", account.key_id, "Event Unlock - Agent")
    ]


async def test_another_accounts_quote_is_not_found(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db)
    agent = await principal_of(db, account.key)
    other = await principal_of(db, (await new_account(db, "other")).key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    for call in (
        quotes.get_quote(db, other, quote["quote_id"]),
        quotes.approve_quote(db, other, quote["quote_id"]),
        quotes.execute_quote(db, settings, other, quote["quote_id"]),
    ):
        with pytest.raises(QuoteNotFound):
            await call


async def test_expired_quote_is_refused(db: Database, settings: Settings, account: AccountFixture) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db)
    agent = await principal_of(db, account.key)
    owner = await principal_of(db, (await second_key(db, account)).key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    await quotes.approve_quote(db, owner, quote["quote_id"])
    await expire(db, quote["quote_id"])
    with pytest.raises(QuoteExpired):
        await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    with pytest.raises(QuoteExpired):
        await quotes.approve_quote(db, owner, quote["quote_id"])
    assert (await quotes.get_quote(db, agent, quote["quote_id"]))["status"] == "expired"
    assert await charged(db, account.id) == 0


async def test_budget_approves_up_to_the_daily_limit(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 10000)
    one, two = await event_with(db), await event_with(db)
    await set_budget(db, account.key_id, 3000)
    agent = await principal_of(db, account.key)
    q1 = await quotes.create_quote(db, settings, agent, "unlock_event_contacts", {"event_id": one.event_id})
    q2 = await quotes.create_quote(db, settings, agent, "unlock_event_contacts", {"event_id": two.event_id})
    done = await quotes.execute_quote(db, settings, agent, q1["quote_id"])
    assert done["approved_via"] == "budget" and done["credits_charged"] == 2000
    with pytest.raises(ApprovalRequired) as over:
        await quotes.execute_quote(db, settings, agent, q2["quote_id"])
    assert "budget" in over.value.message
    assert await charged(db, account.id) == 2000


async def test_balance_short_at_execution_refuses_with_a_new_quote(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 3000)
    one, two = await event_with(db), await event_with(db)
    await set_budget(db, account.key_id, 100000)
    agent = await principal_of(db, account.key)
    q1 = await quotes.create_quote(db, settings, agent, "unlock_event_contacts", {"event_id": one.event_id})
    q2 = await quotes.create_quote(db, settings, agent, "unlock_event_contacts", {"event_id": two.event_id})
    await quotes.execute_quote(db, settings, agent, q1["quote_id"])
    with pytest.raises(InsufficientCredits) as short:
        await quotes.execute_quote(db, settings, agent, q2["quote_id"])
    assert (short.value.required, short.value.available) == (2000, 1000)
    assert short.value.details is not None
    new = short.value.details["new_quote"]
    assert new["quote_id"] != q2["quote_id"] and new["allowed"] is False
    assert (new["chargeable"]["requiredCredits"], new["chargeable"]["availableCredits"]) == (2000, 1000)
    assert await charged(db, account.id) == 2000
    assert (await quotes.get_quote(db, agent, q2["quote_id"]))["status"] == "pending"


async def test_quote_with_insufficient_balance_says_both_amounts(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 500)
    event = await event_with(db)
    agent = await principal_of(db, account.key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    assert quote["allowed"] is False and quote["reason_code"] == "insufficient_balance"
    assert (quote["chargeable"]["requiredCredits"], quote["chargeable"]["availableCredits"]) == (2000, 500)


async def test_empty_reverse_lookup_is_quoted_and_charged_at_zero(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    agent = await principal_of(db, account.key)
    quote = await quotes.create_quote(
        db, settings, agent, "search_exhibitor_companies", {"company_name": "Nothing Matches Zzqx"}
    )
    assert quote["credits"] == 0 and quote["chargeable"]["empty_result"] is True
    done = await quotes.execute_quote(db, settings, agent, quote["quote_id"])  # free: no approval needed
    assert done["approved_via"] == "free" and done["credits_charged"] == 0 and done["result"]["items"] == []
    assert await charged(db, account.id) == 0


async def test_lookup_that_became_non_empty_is_repriced_not_charged(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    agent = await principal_of(db, account.key)
    quote = await quotes.create_quote(
        db, settings, agent, "search_exhibitor_companies", {"company_name": "Quokka"}
    )
    assert quote["credits"] == 0
    async with db.write() as session:
        await make_exhibitor(session, company_name="Quokka Systems")
    with pytest.raises(QuoteRepriced) as repriced:
        await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert repriced.value.new_quote["credits"] > 0
    assert await charged(db, account.id) == 0


async def test_bad_actions_and_params_are_clear_errors(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    agent = await principal_of(db, account.key)
    with pytest.raises(InvalidRequest, match="Unknown action"):
        await quotes.create_quote(db, settings, agent, "buy_everything", {})
    with pytest.raises(InvalidRequest, match="event_id"):
        await quotes.create_quote(db, settings, agent, "unlock_event_contacts", {})
    with pytest.raises(InvalidRequest, match="Extra inputs"):
        await quotes.create_quote(db, settings, agent, "unlock_event_contacts", {"event_id": "E1", "x": 1})
    with pytest.raises(NotFound):
        await quotes.create_quote(db, settings, agent, "unlock_event_contacts", {"event_id": "E999999999"})
    with pytest.raises(QuoteNotFound):
        await quotes.execute_quote(db, settings, agent, "q_missing")


@pytest.mark.postgres
async def test_concurrent_executes_of_one_quote_charge_once(pg_db: Database, databases: Databases) -> None:
    db = pg_db
    settings = test_settings(await databases.url("postgres"))
    account = await new_account(db)
    await give(db, account.id, 5000)
    event = await event_with(db)
    await set_budget(db, account.key_id, 5000)
    agent = await principal_of(db, account.key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    results = await asyncio.gather(
        *(quotes.execute_quote(db, settings, agent, quote["quote_id"]) for _ in range(8))
    )
    assert sum(1 for r in results if not r["replayed"]) == 1
    assert {r["credits_charged"] for r in results} == {2000}
    assert [o.amount for o in await debits(db, account.id)] == [2000]
    assert await balance(db, account.id) == 3000


async def test_contact_unlock_quote_holds_what_it_quoted_and_replays(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 1000)
    event = await event_with(db, contacts=0)
    async with db.write() as session:
        people = [await make_person(session, event) for _ in range(2)]
    await set_budget(db, account.key_id, 1000)
    agent = await principal_of(db, account.key)
    ids = [str(p.id) for p in people]
    quote = await quotes.create_quote(db, settings, agent, "unlock_contact_emails", {"personnel_ids": ids})
    assert quote["credits"] == 30 and quote["chargeable"]["chargeable_count"] == 2
    done = await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert (
        done["credits_charged"] == 30 and done["result"]["status"] == "accepted" and done["result"]["task_id"]
    )
    again = await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert again["replayed"] is True and again["result"]["task_id"] == done["result"]["task_id"]
    assert await balance(db, account.id) == 970  # held for the task; the worker captures what it delivers


async def test_other_paid_actions_are_quoted_by_their_own_rules(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    await give(db, account.id, 1000)  # a gift: no subscription
    agent = await principal_of(db, account.key)
    async with db.write() as session:
        person = await make_person(session, None)
    linkedin = await quotes.create_quote(
        db, settings, agent, "unlock_linkedin_activity", {"personnel_ids": [str(person.id)]}
    )
    assert linkedin["credits"] == 0 and linkedin["chargeable"]["new_count"] == 1  # free by default
    done = await quotes.execute_quote(db, settings, agent, linkedin["quote_id"])
    assert done["approved_via"] == "free" and done["result"]["items"][0]["success"] is True
    with pytest.raises(DomainError) as no_feature:  # by-name needs a subscription, as over REST
        await quotes.create_quote(
            db, settings, agent, "search_personnel_events_by_name", {"person_name": "Jane Roe"}
        )
    assert no_feature.value.code == "USER_HAS_NO_FEATURE"
    await give(db, account.id, 500, "subscription")
    by_name = await quotes.create_quote(
        db, settings, agent, "search_personnel_events_by_name", {"person_name": "Nobody Zzq"}
    )
    assert by_name["credits"] == 0 and by_name["params"]["date_start_from"]  # empty: free; the date fixed


async def test_empty_lookup_runs_free_even_with_no_credits(
    db: Database, settings: Settings, account: AccountFixture
) -> None:
    agent = await principal_of(db, account.key)  # balance 0
    quote = await quotes.create_quote(
        db, settings, agent, "search_exhibitor_events", {"company_name": "Nobody Zzq"}
    )
    assert quote["credits"] == 0 and quote["allowed"] is True
    done = await quotes.execute_quote(db, settings, agent, quote["quote_id"])
    assert done["credits_charged"] == 0 and done["result"]["items"] == []
    async with db.write() as session:
        await make_exhibitor(session, company_name="Nobody Zzq Ltd")
    priced = await quotes.create_quote(
        db, settings, agent, "search_exhibitor_companies", {"company_name": "Nobody Zzq"}
    )
    assert priced["allowed"] is False and priced["reason_code"] == "insufficient_balance"
