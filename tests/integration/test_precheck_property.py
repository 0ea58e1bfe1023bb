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
from sqlalchemy import func, select

from showfloor.server.access import unlock as event_unlock
from showfloor.server.access.service import record_contact_unlock
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger import spend_caps
from showfloor.server.ledger.pricing import Action
from showfloor.server.lookups import service as lookups
from showfloor.server.models import Account, LedgerOperation, Plan, PlanPrice
from showfloor.server.paid.decision import Caller
from showfloor.server.paid.precheck import precheck
from showfloor.server.unlocks import service as unlock_service
from tests.conftest import new_account
from tests.factories import make_exhibitor, make_person
from tests.integration.paid_support import charged, event_with, give, ledger_available

ACTIONS = [
    "unlock_event_contacts",
    "unlock_event_visitors",
    "unlock_event_full_access",
    "search_exhibitor_events",
    "search_personnel_events_by_name",
    "search_exhibitors_by_company_name",
]
AMOUNTS = [0, 49, 50, 1999, 2000, 2999, 3000, 4999, 5000, 9000]
EXPECTED_ERROR = {
    "insufficient_balance": {"INSUFFICIENT_CREDITS"},
    "forbidden": {"USER_HAS_NO_FEATURE"},
    "state_conflict": {"EVENT_NOT_UNLOCKED"},
    "no_contacts_available": {"NO_CONTACTS_AVAILABLE", "VISITOR_DATA_NOT_AVAILABLE"},
    "spend_cap_exceeded": {"SPEND_CAP_EXCEEDED"},
}
# A daily spend cap on the caller's key (None: no cap); the precheck reads it as execution does.
CAPS = st.sampled_from([None, None, 1, 49, 50, 1999, 2000, 5000])


async def _cap(db: Database, api_key_id: int, daily: int | None) -> None:
    if daily is not None:
        async with db.write() as session:
            await spend_caps.set_caps(session, api_key_id, datetime.now(UTC), daily=daily)


def _assert_refusal_details(answer: dict[str, Any], error: DomainError, available: int) -> None:
    """The 402's details are what the precheck said: both amounts, or the spend cap's four fields."""
    if answer["reason_code"] == "insufficient_balance":
        assert error.details == {"requiredCredits": answer["credits"], "availableCredits": available}
    if answer["reason_code"] == "spend_cap_exceeded":
        assert error.details == answer["detail"]["spend_cap"]
        assert error.details is not None and error.details["required"] == answer["credits"]


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
        if action == "search_exhibitors_by_company_name":
            return await lookups.search_companies(session, caller, name, 1, 20)
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
    cap=CAPS,
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
    cap: int | None,
) -> None:
    acct = await new_account(db, "prop", unlimited=unlimited)
    await _cap(db, acct.key_id, cap)
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
        answer = await precheck(session, acct.id, action, params, source, 50, api_key_id=acct.key_id)
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
        _assert_refusal_details(answer, error, gift + subscription)


async def _held(db: Database, account_id: int) -> int:
    async with db.read() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(LedgerOperation.amount), 0)).where(
                LedgerOperation.account_id == account_id, LedgerOperation.kind == "hold"
            )
        )
    return int(total or 0)


async def _submit(db: Database, caller: Caller, kind: str, ids: list[str], event_ref: str | None) -> Any:
    async with db.write() as session:
        return await unlock_service.submit(
            session,
            account_id=caller.account_id,
            api_key_id=caller.api_key_id,
            kind=kind,
            personnel_ids=ids,
            event_ref=event_ref,
            call_source=caller.call_source,
        )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["email", "phone"]),
    fresh=st.integers(0, 3),
    unlocked=st.integers(0, 2),
    in_open_task=st.integers(0, 2),
    outsiders=st.integers(0, 1),
    invalid=st.booleans(),
    scoped_to_event=st.booleans(),
    gift=st.sampled_from([0, 14, 15, 45, 150, 300, 449, 450, 10_000]),
    unlimited=st.booleans(),
    unit_price=st.sampled_from([None, 0, 7]),
    source=st.sampled_from(["api", "agent"]),
    cap=st.sampled_from([None, None, 1, 14, 15, 20, 30, 60]),
)
async def test_contact_unlock_precheck_agrees_with_submission(
    db: Database,
    kind: str,
    fresh: int,
    unlocked: int,
    in_open_task: int,
    outsiders: int,
    invalid: bool,
    scoped_to_event: bool,
    gift: int,
    unlimited: bool,
    unit_price: int | None,
    source: str,
    cap: int | None,
) -> None:
    """Email and phone unlocks: the precheck and the submission sort the ids the same way (already
    unlocked, already being unlocked, not at the event, invalid) and the precheck's credits are exactly
    what the submission holds — or the same 402."""
    acct = await new_account(db, "contacts", unlimited=unlimited)
    await give(db, acct.id, 10_000, "gift")  # pays for the open task below; spent back down next
    plan_id = None
    if unit_price is not None:
        plan_id = await _plan(db, acct.id, 2000, 3000, 50)
        async with db.write() as session:
            action = Action.CONTACT_EMAIL if kind == "email" else Action.CONTACT_PHONE
            session.add(PlanPrice(plan_id=plan_id, action=action.value, credits=unit_price))
    event = await event_with(db, contacts=5)
    async with db.write() as session:
        company = await make_exhibitor(session, event)
        people = [await make_person(session, event, company) for _ in range(fresh + unlocked + in_open_task)]
        strangers = [await make_person(session, None) for _ in range(outsiders)]
        for person in people[fresh : fresh + unlocked]:
            await record_contact_unlock(session, acct.id, person.id, kind, f"{person.id}@x", None)
    caller = Caller(acct.id, acct.key_id, source, plan_id)
    event_ref = event.event_id if scoped_to_event else None
    if in_open_task:
        await _submit(db, caller, kind, [str(p.id) for p in people[fresh + unlocked :]], event_ref)
    await _cap(db, acct.key_id, cap)  # set after the open task, which counts against it
    # What the account has left is then ``gift`` (the open task's hold stays in place).
    async with db.write() as session:
        left = await ledger_available(session, acct.id)
        if left > gift:
            await ledger.debit(session, ledger.ChargeContext(acct.id), left - gift, "spend-down")
    ids = [str(p.id) for p in people + strangers] + (["not-an-id"] if invalid else [])
    params: dict[str, Any] = {"personnel_ids": ids} | ({"event_id": event_ref} if event_ref else {})
    action_type = f"unlock_contact_{kind}s"
    async with db.read() as session:
        answer = await precheck(session, acct.id, action_type, params, source, 50, api_key_id=acct.key_id)
    before = await _held(db, acct.id)
    try:
        submitted = await _submit(db, caller, kind, ids, event_ref)
        error: DomainError | None = None
    except DomainError as exc:
        submitted, error = None, exc
    held = await _held(db, acct.id) - before

    if not ids or all(i == "not-an-id" for i in ids):
        assert answer["reason_code"] == "invalid_subject" and error is not None
        return
    if answer["allowed"]:
        assert error is None, (answer, error)
        assert held == (answer["credits"] if answer["should_charge"] else 0), (answer, submitted)
        chargeable = answer["detail"]["chargeable_count"]
        if submitted.replayed:  # the same intent as the open task: that task again, nothing new held
            assert chargeable == 0 and held == 0
            return
        assert (submitted.task_id is not None) == (chargeable > 0), (answer, submitted.body())
        skipped = submitted.skipped_detail
        assert answer["detail"]["already_unlocked_count"] == len(skipped["already_unlocked_personnel_ids"])
        assert chargeable == fresh + (0 if scoped_to_event else outsiders)
    else:
        assert error is not None, (answer, submitted)
        assert error.code in EXPECTED_ERROR[answer["reason_code"]], (answer, error.code)
        assert held == 0
        _assert_refusal_details(answer, error, gift)
