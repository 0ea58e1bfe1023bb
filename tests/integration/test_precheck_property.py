"""Property: the precheck's answer is exactly what executing the action at that moment does.

Hypothesis generates account and event states (balance, subscription, unlimited, base/visitor layers
already unlocked, contacts, visitor data, plan prices); each example uses a fresh account, runs the
precheck, then executes the action and compares: allowed ⇔ success; charged = ``credits`` when
``should_charge`` else 0; a refusal raises the error matching ``reason_code`` and charges nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from showfloor.server.access import unlock as event_unlock
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.ledger.pricing import Action
from showfloor.server.lookups import service as lookups
from showfloor.server.models import Account, Plan, PlanPrice
from showfloor.server.paid.decision import Caller
from showfloor.server.paid.precheck import precheck
from tests.conftest import new_account
from tests.factories import make_exhibitor, make_person
from tests.integration.paid_support import charged, event_with, give

ACTIONS = [
    "unlock_event_contacts",
    "unlock_event_visitors",
    "unlock_event_full_access",
    "search_exhibitor_events",
    "search_personnel_events_by_name",
]
AMOUNTS = [0, 49, 50, 1999, 2000, 2999, 3000, 4999, 5000, 9000]
EXPECTED_ERROR = {
    "insufficient_balance": {"INSUFFICIENT_CREDITS"},
    "forbidden": {"USER_HAS_NO_FEATURE"},
    "state_conflict": {"EVENT_NOT_UNLOCKED"},
    "no_contacts_available": {"NO_CONTACTS_AVAILABLE", "VISITOR_DATA_NOT_AVAILABLE"},
}


async def _plan(db: Database, account_id: int, base: int, visitor: int, search: int) -> int:
    async with db.write() as session:
        plan = Plan(name=f"p-{uuid.uuid4().hex[:12]}", created_at=datetime.now(UTC))
        session.add(plan)
        await session.flush()
        session.add(PlanPrice(plan_id=plan.id, action=Action.EVENT_UNLOCK.value, credits=base))
        session.add(PlanPrice(plan_id=plan.id, action=Action.VISITOR_UNLOCK.value, credits=visitor))
        session.add(PlanPrice(plan_id=plan.id, action=Action.EXHIBITOR_EVENT_SEARCH.value, credits=search))
        account = await session.get(Account, account_id)
        assert account is not None
        account.plan_id = plan.id
        return plan.id


async def _execute(db: Database, caller: Caller, action: str, event_ref: str, name: str) -> Any:
    async with db.write() as session:
        if action == "unlock_event_contacts":
            return await event_unlock.unlock_event(session, caller, event_ref)
        if action == "unlock_event_visitors":
            return await event_unlock.unlock_visitors(session, caller, event_ref)
        if action == "unlock_event_full_access":
            return await event_unlock.unlock_full_access(session, caller, event_ref)
        if action == "search_exhibitor_events":
            return await lookups.search_company_events(session, caller, name, "all", None, 1, 20)
        return await lookups.events_by_person_name(
            session, caller, name, "all", date(2000, 1, 1), None, 1, 20
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(ACTIONS),
    subscription=st.sampled_from([0, 1, 2000, 3000]),
    gift=st.sampled_from(AMOUNTS),
    unlimited=st.booleans(),
    base_unlocked=st.booleans(),
    visitor_unlocked=st.booleans(),
    contacts=st.sampled_from([0, 5]),
    visitors=st.sampled_from([0, 3]),
    plan=st.sampled_from([None, (500, 0, 0), (0, 1000, 75)]),
    source=st.sampled_from(["api", "agent"]),
)
async def test_precheck_agrees_with_execution(
    db: Database,
    action: str,
    subscription: int,
    gift: int,
    unlimited: bool,
    base_unlocked: bool,
    visitor_unlocked: bool,
    contacts: int,
    visitors: int,
    plan: tuple[int, int, int] | None,
    source: str,
) -> None:
    acct = await new_account(db, "prop", unlimited=unlimited)
    if subscription:
        await give(db, acct.id, subscription, "subscription")
    if gift:
        await give(db, acct.id, gift, "gift")
    acct_plan_id = None if plan is None else await _plan(db, acct.id, *plan)
    layers = tuple(name for name, on in (("base", base_unlocked), ("visitor", visitor_unlocked)) if on)
    event = await event_with(db, contacts=contacts, visitors=visitors, unlocked_for=acct.id, layers=layers)
    name = f"Prop {uuid.uuid4().hex[:10]}"  # unique, so each example's search has exactly its own results
    async with db.write() as session:
        company = await make_exhibitor(session, event, company_name=f"{name} Corp")
        await make_person(session, event, company, full_name=name)
    params: dict[str, Any] = {"event_id": event.event_id, "company_name": name, "person_name": name}
    async with db.read() as session:
        answer = await precheck(session, acct.id, action, params, source, 50)
    before = await charged(db, acct.id)
    try:
        caller = Caller(acct.id, acct.key_id, source, acct_plan_id)
        result = await _execute(db, caller, action, event.event_id, name)
        error: DomainError | None = None
    except DomainError as exc:
        result, error = None, exc
    spent = await charged(db, acct.id) - before

    assert answer["ok"] is True and answer["action_type"] == action
    if answer["allowed"]:
        assert error is None, (answer, error)
        assert spent == (answer["credits"] if answer["should_charge"] else 0), (answer, result)
        if action.startswith("search"):
            assert result["items"], "the example's search has results, so it is charged as quoted"
    else:
        assert error is not None, (answer, result)
        assert error.code in EXPECTED_ERROR[answer["reason_code"]], (answer, error.code)
        assert spent == 0
        if answer["reason_code"] == "insufficient_balance":
            assert error.details == {
                "requiredCredits": answer["credits"],
                "availableCredits": gift + subscription,
            }
