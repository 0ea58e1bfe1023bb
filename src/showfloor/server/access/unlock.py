"""Event unlocks: base layer, visitor layer, and full access (both, paying only for missing layers).

Each action is ``decide_*(state) -> Decision`` (shared with the precheck) and ``unlock_*(session, …)``,
which locks the account (``open_wallet(lock=True)``, the transaction's one account lock), loads the state,
decides, charges through the ledger (which refuses what the account cannot pay) and records the access
layers — all in the caller's ONE transaction, so access and charge commit together or not at all.
Because every unlock of an account first takes its account row lock, the "already unlocked?" read
cannot race a concurrent unlock; the unique (account, event, layer) constraint is the backstop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import (
    LAYER_BASE,
    LAYER_VISITOR,
    LAYERS,
    layer_columns,
    record_event_unlock,
)
from showfloor.server.catalog.identifiers import find_event_ref
from showfloor.server.db.prepared import PreparedQuery, Row
from showfloor.server.ledger.balance import balance_after, credit_balance_body, get_balance
from showfloor.server.ledger.pricing import Action
from showfloor.server.ledger.service import Wallet, open_wallet
from showfloor.server.models import Event
from showfloor.server.notify import hooks as notify_hooks
from showfloor.server.paid.decision import (
    ALREADY_UNLOCKED,
    FORBIDDEN,
    FULL_ACCESS,
    NO_CONTACTS_AVAILABLE,
    OK,
    STATE_CONFLICT,
    Caller,
    Decision,
    biz_code,
    charge,
    refused,
)
from showfloor.server.paid.errors import (
    EventNotUnlocked,
    FeatureUnavailable,
    NoContactsAvailable,
    VisitorDataNotAvailable,
)


@dataclass(frozen=True)
class EventFacts:
    """What the unlock actions need of an event (read with the account's layers in one statement)."""

    id: int
    event_id: str | None
    name: str
    contact_count: int
    visitor_count: int


def _event_statement(match: Any) -> PreparedQuery:
    account_id = bindparam("account_id", type_=BigInteger)
    return PreparedQuery(
        select(
            Event.id,
            Event.event_id,
            Event.name,
            Event.contact_count,
            Event.visitor_count,
            *layer_columns(account_id),
        ).where(match)
    )


# Looked up in ``find_event_ref`` order; prepared queries.
_EVENT_BY_EVENT_ID = _event_statement(Event.event_id == bindparam("key", type_=String))
_EVENT_BY_ID = _event_statement(Event.id == bindparam("pk", type_=BigInteger))


async def _event_with_layers(
    session: AsyncSession, account_id: int, event_ref: str
) -> tuple[EventFacts, set[str]]:
    params = {"account_id": account_id}

    async def by_event_id(key: str) -> Row | None:
        return await _EVENT_BY_EVENT_ID.first(session, {**params, "key": key})

    async def by_pk(pk: int) -> Row | None:
        return await _EVENT_BY_ID.first(session, {**params, "pk": pk})

    row = await find_event_ref(event_ref, by_event_id, by_pk)
    facts = EventFacts(
        int(row["id"]),
        row["event_id"],
        row["name"],
        int(row["contact_count"] or 0),
        int(row["visitor_count"] or 0),
    )
    layers = {layer for layer in LAYERS if row[f"unlocked_{layer}"]}
    return facts, layers


@dataclass(frozen=True)
class EventState:
    event: EventFacts
    wallet: Wallet
    base_unlocked: bool
    visitor_unlocked: bool

    @property
    def has_contacts(self) -> bool:
        return self.event.contact_count > 0

    @property
    def has_visitor_data(self) -> bool:
        return self.event.visitor_count > 0

    @property
    def base_price(self) -> int:
        return self.wallet.prices[Action.EVENT_UNLOCK]

    @property
    def visitor_price(self) -> int:
        return self.wallet.prices[Action.VISITOR_UNLOCK]


async def load_event_state(
    session: AsyncSession, account_id: int, event_ref: str, now: datetime, *, lock: bool
) -> EventState:
    wallet = await open_wallet(session, account_id, now, lock=lock)
    event, layers = await _event_with_layers(session, account_id, event_ref)
    return EventState(event, wallet, LAYER_BASE in layers, LAYER_VISITOR in layers)


def event_identity(event: EventFacts) -> dict[str, Any]:
    return {"id": str(event.id), "eventId": event.event_id, "name": event.name}


# --- decisions (shared with the precheck) --------------------------------------------------------


def decide_base(state: EventState, call_source: str) -> Decision:
    code = biz_code(Action.EVENT_UNLOCK, call_source)
    if state.base_unlocked:
        return Decision(True, 0, ALREADY_UNLOCKED, code)
    if not state.has_contacts:
        return refused(NO_CONTACTS_AVAILABLE, NoContactsAvailable(), biz_code=code)
    return Decision(True, state.base_price, OK, code)


def decide_visitor(state: EventState, call_source: str) -> Decision:
    code = biz_code(Action.VISITOR_UNLOCK, call_source)
    detail = {
        "event_id": state.event.event_id,
        "event_unlocked": state.base_unlocked,
        "visitor_unlocked": state.visitor_unlocked,
        "visitor_data_available": state.has_visitor_data,
        "visitor_access_credits": state.visitor_price,
        "available_balance": state.wallet.available,
    }
    if state.visitor_unlocked:
        return Decision(True, 0, ALREADY_UNLOCKED, code, detail)
    if not state.wallet.subscribed:
        return refused(FORBIDDEN, FeatureUnavailable(), biz_code=code, detail=detail)
    if not state.base_unlocked:
        return refused(STATE_CONFLICT, EventNotUnlocked(), biz_code=code, detail=detail)
    if not state.has_visitor_data:
        return refused(NO_CONTACTS_AVAILABLE, VisitorDataNotAvailable(), biz_code=code, detail=detail)
    return Decision(True, state.visitor_price, OK, code, detail)


def decide_full(state: EventState, call_source: str) -> Decision:
    """Pay only for missing layers. Without visitor data the visitor layer is skipped (not refused)."""
    code = biz_code(FULL_ACCESS, call_source)
    base_needed = not state.base_unlocked
    visitor_needed = not state.visitor_unlocked and state.has_visitor_data
    base_credits = state.base_price if base_needed else 0
    visitor_credits = state.visitor_price if visitor_needed else 0
    detail = {
        "event_id": state.event.event_id,
        "event_unlocked": state.base_unlocked,
        "visitor_unlocked": state.visitor_unlocked,
        "visitor_data_available": state.has_visitor_data,
        "visitor_skipped": not state.visitor_unlocked and not state.has_visitor_data,
        "event_access_credits": base_credits,
        "visitor_access_credits": visitor_credits,
        "full_access_credits": base_credits + visitor_credits,
        "available_balance": state.wallet.available,
    }
    plan = {"base": base_needed, "visitor": visitor_needed}
    if not base_needed and not visitor_needed:
        return Decision(True, 0, ALREADY_UNLOCKED, code, detail, plan=plan)
    if base_needed and not state.has_contacts:
        return refused(NO_CONTACTS_AVAILABLE, NoContactsAvailable(), biz_code=code, detail=detail)
    if visitor_needed and not state.wallet.subscribed:
        return refused(FORBIDDEN, FeatureUnavailable(), biz_code=code, detail=detail)
    return Decision(True, base_credits + visitor_credits, OK, code, detail, plan=plan)


# --- execution ----------------------------------------------------------------------------------


def _resource(event: EventFacts) -> tuple[str, str]:
    return "event", str(event.id)


async def unlock_event(session: AsyncSession, caller: Caller, event_ref: str) -> dict[str, Any]:
    """``POST /external/events/{id}/unlock``."""
    now = datetime.now(UTC)
    state = await load_event_state(session, caller.account_id, event_ref, now, lock=True)
    decision = decide_base(state, caller.call_source)
    decision.raise_if_refused()
    event = state.event
    if decision.reason_code == ALREADY_UNLOCKED:
        return _base_result(event, already=True, credits=0, balance=None)
    op_id, _ = await charge(
        session, caller, decision, f"event_unlock:{event.id}", _resource(event), wallet=state.wallet
    )
    await record_event_unlock(session, caller.account_id, event.id, LAYER_BASE, op_id)
    await notify_hooks.event_unlocked(session, caller, event, [LAYER_BASE], decision.credits)
    balance = (
        await balance_after(session, caller.account_id, now, unlimited=state.wallet.unlimited)
        if op_id is not None
        else None
    )
    return _base_result(event, already=False, credits=decision.credits, balance=balance)


def _base_result(
    event: EventFacts, *, already: bool, credits: int, balance: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "success": True,
        "alreadyUnlocked": already,
        "creditsUsed": credits,
        "balanceAfter": balance,
        "event": event_identity(event),
    }


async def unlock_visitors(session: AsyncSession, caller: Caller, event_ref: str) -> dict[str, Any]:
    """``POST /external/events/{id}/visitors/unlock``."""
    now = datetime.now(UTC)
    state = await load_event_state(session, caller.account_id, event_ref, now, lock=True)
    decision = decide_visitor(state, caller.call_source)
    decision.raise_if_refused()
    event = state.event
    already = decision.reason_code == ALREADY_UNLOCKED
    op_id = None
    if not already:
        op_id, _ = await charge(
            session, caller, decision, f"visitor_unlock:{event.id}", _resource(event), wallet=state.wallet
        )
        await record_event_unlock(session, caller.account_id, event.id, LAYER_VISITOR, op_id)
        await notify_hooks.event_unlocked(session, caller, event, [LAYER_VISITOR], decision.credits)
    return {
        "success": True,
        "alreadyUnlocked": already,
        "creditsSpent": decision.credits,
        "balanceAfter": (
            credit_balance_body(await get_balance(session, caller.account_id, now))
            if op_id is not None
            else None
        ),
        "event": event_identity(event),
    }


async def unlock_full_access(session: AsyncSession, caller: Caller, event_ref: str) -> dict[str, Any]:
    """``POST /external/events/{id}/full-access/unlock``: one charge for the missing layers."""
    now = datetime.now(UTC)
    state = await load_event_state(session, caller.account_id, event_ref, now, lock=True)
    decision = decide_full(state, caller.call_source)
    decision.raise_if_refused()
    event = state.event
    base, visitor = bool(decision.plan["base"]), bool(decision.plan["visitor"])
    layers = "+".join(name for name, needed in ((LAYER_BASE, base), (LAYER_VISITOR, visitor)) if needed)
    op_id = None
    if layers:
        op_key = f"full_access:{event.id}:{layers}"
        op_id, _ = await charge(session, caller, decision, op_key, _resource(event), wallet=state.wallet)
    if base:
        await record_event_unlock(session, caller.account_id, event.id, LAYER_BASE, op_id)
    if visitor:
        await record_event_unlock(session, caller.account_id, event.id, LAYER_VISITOR, op_id)
    await notify_hooks.event_unlocked(session, caller, event, layers.split("+"), decision.credits)
    return {
        "success": True,
        "alreadyUnlocked": not base and not visitor,
        "eventUnlocked": base,
        "visitorUnlocked": visitor,
        "visitorSkipped": bool(decision.detail["visitor_skipped"]),
        "totalCreditsUsed": decision.credits,
        "balanceAfter": (
            await balance_after(session, caller.account_id, now, unlimited=state.wallet.unlimited)
            if op_id is not None
            else None
        ),
        "event": event_identity(event),
    }
