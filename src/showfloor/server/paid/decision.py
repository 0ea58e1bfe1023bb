"""The shared shape of every paid action: ``decide(state) -> Decision``, then charge through the ledger.

The precheck and the execution of an action call the same ``decide_*`` function on the same state, so a
precheck answers what executing the action at that moment would do. A decision settles everything but the
funds: the precheck then asks the wallet (``with_funds``), and execution lets the ledger refuse (402
``InsufficientCredits``) under the account lock. So the funds are checked once per transaction, by one rule
(``ledger.balance.can_pay``), and both answers name the same two amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import DomainError, InsufficientCredits
from showfloor.server.ledger import spend_caps
from showfloor.server.ledger.pricing import Action
from showfloor.server.ledger.service import ChargeContext, Wallet, debit

# Precheck ``reason_code`` values (ActionPrecheckResponse enum).
OK = "ok"
ALREADY_UNLOCKED = "already_unlocked"
STATE_CONFLICT = "state_conflict"
INSUFFICIENT_BALANCE = "insufficient_balance"
NO_CONTACTS_AVAILABLE = "no_contacts_available"
EXCEED_MAX_UNLOCK_LIMIT = "exceed_max_unlock_limit"
INVALID_SUBJECT = "invalid_subject"
UNSUPPORTED_ACTION = "unsupported_action"
NOT_FOUND = "not_found"
FORBIDDEN = "forbidden"
# Our addition to the enum (docs/compatibility.md): the API key's spend cap refuses the credits.
SPEND_CAP_EXCEEDED = "spend_cap_exceeded"

FULL_ACCESS = "full_access"  # the full-access unlock: one charge for the base and visitor layers

# Business codes: "<action label> - <API|Agent>" (the reference's example: "Visitor Unlock - API").
LABELS: dict[Action | str, str] = {
    Action.EVENT_UNLOCK: "Event Unlock",
    Action.VISITOR_UNLOCK: "Visitor Unlock",
    FULL_ACCESS: "Full Access Unlock",
    Action.CONTACT_EMAIL: "Contact Email Unlock",
    Action.CONTACT_PHONE: "Contact Phone Unlock",
    Action.EXHIBITOR_COMPANY_SEARCH: "Exhibitor Company Search",
    Action.EXHIBITOR_EVENT_SEARCH: "Exhibitor Event Search",
    Action.PERSONNEL_EVENTS_BY_NAME: "Personnel Events By Name",
    Action.LINKEDIN_ACTIVITY: "LinkedIn Activity Unlock",
}


def biz_code(action: Action | str, call_source: str) -> str:
    return f"{LABELS[action]} - {'Agent' if call_source == 'agent' else 'API'}"


@dataclass(frozen=True)
class Decision:
    """What an action would do now, funds aside. ``credits``: what it charges (or, when refused for
    funds by ``with_funds``, needs)."""

    allowed: bool
    credits: int
    reason_code: str
    biz_code: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    # What execution raises when the action is not allowed.
    error: DomainError | None = None
    # Action-specific plan for execution (e.g. which layers to record).
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def should_charge(self) -> bool:
        return self.allowed and self.credits > 0

    def raise_if_refused(self) -> None:
        if not self.allowed:
            assert self.error is not None
            raise self.error


def refused(reason: str, error: DomainError, *, credits: int = 0, **kw: Any) -> Decision:
    return Decision(allowed=False, credits=credits, reason_code=reason, error=error, **kw)


def with_funds(decision: Decision, wallet: Wallet, caps: Sequence[spend_caps.CapUse] = ()) -> Decision:
    """The precheck's answer: ``decision``, refused for funds when the wallet cannot pay its credits (the
    402 execution would answer, with both amounts), else refused when a spend cap of the caller's key
    (``caps``: ``spend_caps.uses``) would be exceeded (the 402 ``SPEND_CAP_EXCEEDED``; its details are the
    detail's ``spend_cap``). The same order as the ledger's: funds first, then the day's cap, the month's."""
    if not decision.should_charge:
        return decision
    if not wallet.can_pay(decision.credits):
        error = InsufficientCredits(decision.credits, wallet.available)
        return replace(decision, allowed=False, reason_code=INSUFFICIENT_BALANCE, error=error)
    capped = spend_caps.refusal(list(caps), decision.credits)
    if capped is None:
        return decision
    detail = {**decision.detail, "spend_cap": capped.details}
    return replace(decision, allowed=False, reason_code=SPEND_CAP_EXCEEDED, error=capped, detail=detail)


@dataclass(frozen=True)
class Caller:
    """Who runs a paid action: the account, the API key it used, and the call source."""

    account_id: int
    api_key_id: int | None = None
    call_source: str = "api"
    plan_id: int | None = None  # the account's pricing plan as read at authentication (None: default)

    def charge_context(self, business_code: str, resource_type: str, resource_id: str) -> ChargeContext:
        return ChargeContext(
            account_id=self.account_id,
            api_key_id=self.api_key_id,
            call_source=self.call_source,
            business_code=business_code,
            resource_type=resource_type,
            resource_id=resource_id,
        )


async def charge(
    session: AsyncSession,
    caller: Caller,
    decision: Decision,
    op_key: str,
    resource: tuple[str, str],
    *,
    wallet: Wallet | None = None,
) -> tuple[int | None, bool]:
    """Debit an allowed decision's credits through the ledger (402 when the account cannot pay). Returns
    the operation id (None when free) and whether the key was replayed (an earlier transaction charged
    this intent). ``wallet``: the account as locked earlier in this transaction."""
    if decision.credits <= 0:
        return None, False
    ctx = caller.charge_context(decision.biz_code, resource[0], resource[1])
    result = await debit(session, ctx, decision.credits, op_key, wallet=wallet)
    return result.operation_id, result.replayed
