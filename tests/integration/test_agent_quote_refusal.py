"""Refusing an agent quote (``agents.quotes.refuse_quote``, the console's Refuse): a refused quote never
executes, and a refusal racing executions of the same approved quote on PostgreSQL leaves exactly one
outcome: either executed and charged once (the refusal then answers QUOTE_ALREADY_EXECUTED), or refused
and nothing charged."""

from __future__ import annotations

import asyncio

import pytest

from showfloor.server.agents import quotes
from showfloor.server.agents.errors import QuoteAlreadyExecuted, QuoteRefused
from showfloor.server.db.uow import Database
from tests.conftest import Databases, new_account, test_settings
from tests.integration.agent_support import principal_of, second_key
from tests.integration.paid_support import balance, debits, event_with, give


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(4))
async def test_a_refusal_racing_executions_leaves_one_outcome(
    pg_db: Database, databases: Databases, round_: int
) -> None:
    db = pg_db
    settings = test_settings(await databases.url("postgres"))
    account = await new_account(db)
    await give(db, account.id, 5000)
    event = await event_with(db)
    agent = await principal_of(db, account.key)
    owner = await principal_of(db, (await second_key(db, account)).key)
    quote = await quotes.create_quote(
        db, settings, agent, "unlock_event_contacts", {"event_id": event.event_id}
    )
    await quotes.approve_quote(db, owner, quote["quote_id"])
    executes = [quotes.execute_quote(db, settings, agent, quote["quote_id"]) for _ in range(4)]
    refusal = quotes.refuse_quote(db, owner, quote["quote_id"])
    calls = [*executes[: round_ % 4], refusal, *executes[round_ % 4 :]]  # the refusal at each position
    results = await asyncio.gather(*calls, return_exceptions=True)
    refused = results[round_ % 4]
    ran = [r for i, r in enumerate(results) if i != round_ % 4]
    if isinstance(refused, QuoteAlreadyExecuted):  # an execute won: charged once, replays for the rest
        assert all(isinstance(r, dict) and r["credits_charged"] == 2000 for r in ran)
        assert sum(1 for r in ran if isinstance(r, dict) and not r["replayed"]) == 1
        assert [o.amount for o in await debits(db, account.id)] == [2000]
        assert await balance(db, account.id) == 3000
    else:  # the refusal won: every execute after it is refused, none charged
        assert isinstance(refused, dict) and refused["status"] == "refused"
        assert all(isinstance(r, QuoteRefused) for r in ran), ran
        assert await debits(db, account.id) == [] and await balance(db, account.id) == 5000
