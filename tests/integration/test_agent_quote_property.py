"""Property: through random sequences of MCP tool calls (quotes, executes with a user who approves or
declines, replays, approvals by the owner's key and attempts by the agent's own key, expiries,
concurrent executes of one quote), the ledger's debits equal exactly the credits of the approved,
executed quotes, and no execution without an approval ever changes the balance.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from showfloor.server.agents import quotes
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.models import AgentQuote
from tests.conftest import new_account
from tests.integration.agent_support import expire, principal_of, second_key, set_budget
from tests.integration.mcp_support import Human, memory_client
from tests.integration.paid_support import balance, charged, event_with, give

ACTIONS = [
    "unlock_event_contacts",
    "unlock_event_visitors",
    "unlock_event_full_access",
    "search_exhibitor_companies",
]

quote_step = st.tuples(st.just("quote"), st.sampled_from(ACTIONS), st.integers(0, 2))
execute_step = st.tuples(st.just("execute"), st.integers(0, 5), st.sampled_from([None, True, True, False]))
ops = st.lists(
    st.one_of(
        quote_step,
        quote_step,
        execute_step,
        execute_step,
        st.tuples(st.just("approve"), st.integers(0, 5), st.booleans()),  # True: the owner's key
        st.tuples(st.just("expire"), st.integers(0, 5), st.just(None)),
        st.tuples(st.just("race"), st.integers(0, 5), st.just(None)),
    ),
    min_size=2,
    max_size=14,
)


# Each approval path, charged, whatever the random search finds.
@example(
    steps=[("quote", "unlock_event_contacts", 0), ("execute", 0, True), ("execute", 0, None)],
    funds=5000,
    budget=None,
)
@example(
    steps=[
        ("quote", "unlock_event_full_access", 1),
        ("approve", 0, False),
        ("approve", 0, True),
        ("race", 0, None),
    ],
    funds=12000,
    budget=None,
)
@example(
    steps=[
        ("quote", "unlock_event_contacts", 2),
        ("quote", "unlock_event_contacts", 1),
        ("race", 0, None),
        ("execute", 1, None),
    ],
    funds=12000,
    budget=2500,
)
@example(
    steps=[("quote", "unlock_event_contacts", 0), ("expire", 0, None), ("execute", 0, True)],
    funds=5000,
    budget=10**6,
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=ops,
    funds=st.sampled_from([0, 2000, 5000, 12000, 12000]),
    budget=st.sampled_from([None, 0, 2500, 10**6]),
)
async def test_debits_equal_approved_executed_quotes(
    db: Database, settings: Settings, steps: list[tuple[Any, ...]], funds: int, budget: int | None
) -> None:
    account = await new_account(db, "prop")
    if funds:
        await give(db, account.id, funds)
    await set_budget(db, account.key_id, budget)
    events = [await event_with(db, contacts=3, visitors=v) for v in (0, 2, 2)]
    agent = await principal_of(db, account.key)
    owner = await principal_of(db, (await second_key(db, account)).key)
    made: list[str] = []
    owner_approved: set[str] = set()
    for step in steps:
        kind = step[0]
        if kind == "quote":
            params = (
                {"company_name": f"Company {step[2]}"}
                if step[1] == "search_exhibitor_companies"
                else {"event_id": events[step[2]].event_id}
            )
            with contextlib.suppress(DomainError):  # e.g. no visitor data: refused, nothing stored
                made.append((await quotes.create_quote(db, settings, agent, step[1], params))["quote_id"])
            continue
        if not made:
            continue
        quote_id = made[step[1] % len(made)]
        if kind == "approve":
            try:
                await quotes.approve_quote(db, owner if step[2] else agent, quote_id)
                assert step[2], "the agent's own key approved its quote"
                owner_approved.add(quote_id)
            except DomainError as refused:
                assert refused.code in ("SELF_APPROVAL_FORBIDDEN", "QUOTE_EXPIRED", "QUOTE_ALREADY_EXECUTED")
        elif kind == "expire":
            await expire(db, quote_id)
        elif kind == "execute":
            before = await balance(db, account.id)
            human = None if step[2] is None else Human(approve=step[2])
            async with memory_client(db, settings, agent, human) as client:
                result = await client.call_tool("execute_quote", {"quote_id": quote_id})
            if result.is_error:
                assert await balance(db, account.id) == before, "a refused execution changed the balance"
            else:
                done = result.structured_content or {}
                if not done["replayed"]:
                    via = done["approved_via"]
                    assert via != "elicitation" or step[2] is True
                    assert via != "key" or quote_id in owner_approved
                    assert via != "budget" or budget is not None
        else:  # concurrent executes of one quote
            before = await balance(db, account.id)
            outcomes = await asyncio.gather(
                *(quotes.execute_quote(db, settings, agent, quote_id) for _ in range(3)),
                return_exceptions=True,
            )
            fresh = [o for o in outcomes if isinstance(o, dict) and not o["replayed"]]
            assert len(fresh) <= 1
            if not fresh:
                assert await balance(db, account.id) == before
    async with db.read() as session:
        rows = (await session.scalars(select(AgentQuote).where(AgentQuote.account_id == account.id))).all()
    executed = [q for q in rows if q.status == "executed"]
    event(f"charged executions: {min(sum(1 for q in executed if q.charged), 2)}")
    assert all(q.approved_via is not None for q in executed)
    assert all(q.charged is not None and q.charged <= q.credits for q in executed)
    assert all(q.charged == 0 for q in executed if q.approved_via == "free")
    assert await charged(db, account.id) == sum(q.charged or 0 for q in executed)
    assert await balance(db, account.id) == funds - sum(q.charged or 0 for q in executed)
