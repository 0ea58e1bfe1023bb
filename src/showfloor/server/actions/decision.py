"""The shared shape of every paid action: ``decide(state) -> Decision`` then ``execute(decision)``.

The actions precheck and the execution path call the same ``decide`` functions on the same state, so a
precheck answer is exactly what executing the action at that moment would do. Execution loads the
state after locking the account row (``load_wallet(lock=True)``); precheck loads it without a lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError, InsufficientCredits, NotFound
from showfloor.server.ledger.balance import account_balance
from showfloor.server.ledger.pricing import Action, plan_prices
from showfloor.server.ledger.service import ChargeContext, debit, debit_alone

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

# Business codes: "<action label> - <API|Agent>" (the reference's example: "Visitor Unlock - API").
LABELS: dict[Action | str, str] = {
    Action.EVENT_UNLOCK: "Event Unlock",
    Action.VISITOR_UNLOCK: "Visitor Unlock",
    "full_access": "Full Access Unlock",
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
class Wallet:
    """What the account can pay with, and what it is entitled to, at one moment."""

    account_id: int
    unlimited: bool
    subscribed: bool  # an active, unexpired subscription grant (or unlimited)
    available: int
    prices: dict[Action, int]

    def can_pay(self, amount: int) -> bool:
        return self.unlimited or amount <= self.available


async def load_wallet(session: AsyncSession, account_id: int, now: datetime, *, lock: bool) -> Wallet:
    """The account's wallet; ``lock=True`` (execution) takes the account row lock first."""
    found = await account_balance(session, account_id, now, lock=lock)
    if found is None:
        raise NotFound(f"Account {account_id} not found")
    unlimited, balance = found.unlimited, found.balance
    return Wallet(
        account_id=account_id,
        unlimited=unlimited,
        # "Active subscription": a subscription grant that is not void and not past its expiry, whatever
        # it has left (every grant is of a positive amount, so its granted amount shows it).
        subscribed=unlimited or balance.amounts["subscription"] > 0,
        available=balance.total_balance,
        prices=await plan_prices(session, found.plan_id),
    )


@dataclass(frozen=True)
class Decision:
    """What an action would do now. ``credits``: what it charges (or, when refused for funds, needs)."""

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


def charge_or_refuse(wallet: Wallet, credits: int, *, reason: str = OK, **kw: Any) -> Decision:
    """Allowed when the wallet can pay ``credits``; otherwise a 402 decision naming both amounts."""
    if not wallet.can_pay(credits):
        return refused(
            INSUFFICIENT_BALANCE, InsufficientCredits(credits, wallet.available), credits=credits, **kw
        )
    return Decision(allowed=True, credits=credits, reason_code=reason, **kw)


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
    session: AsyncSession, caller: Caller, decision: Decision, op_key: str, resource: tuple[str, str]
) -> int | None:
    """Debit an allowed decision's credits through the ledger; the operation id, or None when free."""
    if decision.credits <= 0:
        return None
    ctx = caller.charge_context(decision.biz_code, resource[0], resource[1])
    result = await debit(session, ctx, decision.credits, op_key)
    return result.operation_id


class ChargeAfterReads:
    """A use case's one charge, made after its read unit has ended, when the request writes nothing
    else (a search without an Idempotency-Key): ``ledger.service.debit_alone``, one statement of its
    own that locks the account and refuses (402) exactly as ``charge_or_refuse`` would. Waiting for the
    read unit to end gives its connection back first: paying inside it took a second pooled connection
    per request, and past the pool size every request opened a new one (~20 % slower searches)."""

    def __init__(self) -> None:
        self._due: tuple[ChargeContext, int, str] | None = None

    def add(self, ctx: ChargeContext, amount: int, op_key: str) -> None:
        if self._due is not None:
            raise RuntimeError("one charge per request")
        if amount > 0:
            self._due = (ctx, amount, op_key)

    async def pay(self, db: Database) -> None:
        """Make the charge, if one is due (raises ``InsufficientCredits`` when the account cannot pay)."""
        if self._due is not None:
            ctx, amount, op_key = self._due
            self._due = None
            await debit_alone(db, ctx, amount, op_key)
