"""Agent quotes: select → quote → approve → execute, where no credit is spent without an approved quote.

* ``create_quote`` (``agents/pricing.py``) prices through ``paid.precheck.price`` (the precheck's rule), stores the quote:
  bound to the account, the key and the exact (canonical) parameters; single-use; expires after
  ``Settings.agent_quote_ttl_seconds``. A reverse lookup whose page would be empty is quoted at 0 (found
  by running the lookup in a transaction that is rolled back).
* ``approve_quote``: another key of the account approves (never the key that asked), or the owner signed
  in to the console (a credential other than any key). ``refuse_quote``: the owner says no; a refused
  quote can never be executed, even within a budget.
* ``execute_quote`` runs the action through the SAME service function as its REST route, in ONE write
  unit that first locks the account row (as every spend does), re-reads the quote under that lock, checks
  the approval (a key's daily agent budget is checked here, atomically), re-prices, runs, and stores the
  result in the quote: the quote id is the idempotency key (a repeated execute returns the first result).
  A higher price, or a charge above the quote, rolls everything back and offers a new quote instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.accounts.service import Principal
from showfloor.server.agents.actions import AgentAction, action_named, parsed_params
from showfloor.server.agents.errors import (
    ApprovalRequired,
    McpOnlyKey,
    QuoteAlreadyExecuted,
    QuoteExpired,
    QuoteNotFound,
    QuoteOfAnotherKey,
    QuoteRefused,
    QuoteRepriced,
    SelfApproval,
)
from showfloor.server.agents.pricing import (
    CALL_SOURCE,
    QUOTABLE,
    VIA_BUDGET,
    VIA_ELICITATION,
    VIA_FREE,
    VIA_KEY,
    AskUser,
    caller_of,
    create_quote,
    executed_view,
    how_to_approve,
    jsonable,
    quote_view,
    refusal,
    utcnow,
)
from showfloor.server.config import Settings
from showfloor.server.db.locking import for_update
from showfloor.server.db.uow import Database
from showfloor.server.errors import InsufficientCredits
from showfloor.server.ledger.service import open_wallet
from showfloor.server.models import AgentQuote, ApiKey, LedgerOperation
from showfloor.server.paid.concurrency import concurrency_slot
from showfloor.server.paid.decision import INSUFFICIENT_BALANCE
from showfloor.server.paid.precheck import price

__all__ = [
    "approve_quote",
    "create_quote",
    "execute_quote",
    "get_quote",
    "needs_human",
    "quote_view",
    "refuse_quote",
]

VIA_CONSOLE = "console"  # approved by the owner, signed in to the console (no API key)
REFUSED = "refused"  # ``AgentQuote.status`` once the owner refused it


# --- reading and approving ---------------------------------------------------------------------------


async def _load(
    session: AsyncSession, principal: Principal, public_id: str, *, lock: bool = False
) -> AgentQuote:
    stmt = select(AgentQuote).where(
        AgentQuote.public_id == public_id.strip(), AgentQuote.account_id == principal.account_id
    )
    quote: AgentQuote | None = (
        await session.execute(for_update(session, stmt) if lock else stmt)
    ).scalar_one_or_none()
    if quote is None:  # another account's quote answers the same as a missing one
        raise QuoteNotFound(quote_id=public_id)
    return quote


async def get_quote(db: Database, principal: Principal, public_id: str) -> dict[str, Any]:
    async with db.read() as session:
        return quote_view(await _load(session, principal, public_id))


def _check_open(quote: AgentQuote, now: datetime) -> None:
    if quote.status == "executed":
        raise QuoteAlreadyExecuted(quote_id=quote.public_id)
    if quote.status == REFUSED:
        raise QuoteRefused(quote_id=quote.public_id)
    if quote.expires_at <= now:
        raise QuoteExpired(quote_id=quote.public_id, expired_at=quote.expires_at.isoformat())


async def approve_quote(db: Database, principal: Principal, public_id: str) -> dict[str, Any]:
    """Approval outside the agent: by another key of the account, never the key that made the quote, or by
    the owner in the console (``principal.api_key_id`` None)."""
    now = utcnow()
    async with db.write() as session:
        quote = await _load(session, principal, public_id, lock=True)
        if principal.api_key_id == quote.api_key_id:
            raise SelfApproval(quote_id=quote.public_id)
        if principal.mcp_only:  # an agent's key approves nothing, not even another agent's quotes
            raise McpOnlyKey("An MCP-only key cannot approve quotes")
        _check_open(quote, now)
        if quote.approved_via is None:
            quote.approved_via, quote.approved_by_key_id, quote.approved_at = (
                VIA_KEY if principal.api_key_id is not None else VIA_CONSOLE,
                principal.api_key_id,
                now,
            )
        return quote_view(quote, now)


async def refuse_quote(db: Database, principal: Principal, public_id: str) -> dict[str, Any]:
    """The owner says no: the quote can never be executed (an approval given before is withdrawn).
    Refusing spends nothing, so any credential of the account may do it; an executed quote stays executed
    (its row lock orders this after a concurrent execute)."""
    now = utcnow()
    async with db.write() as session:
        quote = await _load(session, principal, public_id, lock=True)
        if quote.status != REFUSED:
            _check_open(quote, now)
            quote.status = REFUSED
        return quote_view(quote, now)


async def _record_elicited(db: Database, principal: Principal, quote_id: int) -> None:
    async with db.write() as session:
        quote = await session.get(AgentQuote, quote_id)
        assert quote is not None and quote.account_id == principal.account_id
        if quote.approved_via is None:
            quote.approved_via, quote.approved_at = VIA_ELICITATION, utcnow()


# --- the agent budget --------------------------------------------------------------------------------


async def key_budget(session: AsyncSession, api_key_id: int) -> int | None:
    return await session.scalar(select(ApiKey.agent_daily_budget).where(ApiKey.id == api_key_id))


async def budget_spent_today(session: AsyncSession, api_key_id: int, now: datetime) -> int:
    """Credits this key's budget-approved quotes have charged since midnight UTC."""
    day = datetime.combine(now.date(), time(0), tzinfo=UTC)
    total = await session.scalar(
        select(func.coalesce(func.sum(AgentQuote.charged), 0)).where(
            AgentQuote.api_key_id == api_key_id,
            AgentQuote.approved_via == VIA_BUDGET,
            AgentQuote.executed_at >= day,
        )
    )
    return int(total or 0)


# --- execution ---------------------------------------------------------------------------------------


class _Reprice(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


async def _charged_since(session: AsyncSession, account_id: int, after_op_id: int) -> int:
    """Credits debited or held for the account after ``after_op_id`` (this transaction's own: it holds
    the account lock, which every other spend and settlement also takes first)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerOperation.amount), 0)).where(
            LedgerOperation.account_id == account_id,
            LedgerOperation.id > after_op_id,
            LedgerOperation.kind.in_(("debit", "hold")),
        )
    )
    return int(total or 0)


async def _last_op_id(session: AsyncSession, account_id: int) -> int:
    last = await session.scalar(
        select(func.max(LedgerOperation.id)).where(LedgerOperation.account_id == account_id)
    )
    return int(last or 0)


async def _read_for_execution(
    db: Database, principal: Principal, public_id: str, now: datetime
) -> tuple[AgentQuote, int | None, int]:
    async with db.read() as session:
        quote = await _load(session, principal, public_id)
        budget = await key_budget(session, quote.api_key_id)
        spent = await budget_spent_today(session, quote.api_key_id, now) if budget is not None else 0
    return quote, budget, spent


def _standing_approval(quote: AgentQuote, budget: int | None, spent: int) -> str | None:
    """The approval a quote has without asking anyone (the budget is checked again under the lock)."""
    if quote.approved_via is not None:
        return quote.approved_via
    if quote.credits == 0:
        return VIA_FREE
    if budget is not None and spent + quote.credits <= budget:
        return VIA_BUDGET
    return None


async def needs_human(db: Database, principal: Principal, public_id: str) -> dict[str, Any] | None:
    """The quote's view when executing it now would need a human's approval (what the MCP server asks
    its client's user); None when it would not (approved, free, within budget) or cannot run anyway."""
    now = utcnow()
    quote, budget, spent = await _read_for_execution(db, principal, public_id, now)
    if quote.api_key_id != principal.api_key_id or quote.status != "pending" or quote.expires_at <= now:
        return None
    return quote_view(quote, now) if _standing_approval(quote, budget, spent) is None else None


async def execute_quote(
    db: Database,
    settings: Settings,
    principal: Principal,
    public_id: str,
    *,
    ask_user: AskUser | None = None,
) -> dict[str, Any]:
    """Execute an approved quote once (see the module docs). ``ask_user``: the MCP client's elicitation."""
    now = utcnow()
    quote, budget, spent = await _read_for_execution(db, principal, public_id, now)
    if quote.api_key_id != principal.api_key_id:
        raise QuoteOfAnotherKey(quote_id=quote.public_id)
    if quote.status == "executed":
        return executed_view(quote, replayed=True)
    _check_open(quote, now)
    via = _standing_approval(quote, budget, spent)
    if via is None and ask_user is not None and await ask_user(quote_view(quote, now)):
        await _record_elicited(db, principal, quote.id)
        via = VIA_ELICITATION
    if via is None:
        reason = (
            "over the key's daily agent budget" if budget is not None else "no approval and no agent budget"
        )
        raise ApprovalRequired(
            quote.public_id, how_to_approve(quote.public_id), reason, credits=quote.credits
        )
    action = action_named(quote.action)
    try:
        return await _run(db, settings, principal, quote.id, action, via)
    except _Reprice as reprice:
        new = await create_quote(db, settings, principal, action.name, quote.params)
        if not new["allowed"] and new["reason_code"] == INSUFFICIENT_BALANCE:
            raise InsufficientCredits(
                new["credits"], new["available_balance"], quote_id=quote.public_id, new_quote=new
            ) from None
        message = (
            f"{reprice.reason}; nothing was charged. A new quote is offered: approve and execute it instead"
        )
        raise QuoteRepriced(message, new, quote_id=quote.public_id, quoted_credits=quote.credits) from None


async def _run(
    db: Database, settings: Settings, principal: Principal, quote_pk: int, action: AgentAction, via: str
) -> dict[str, Any]:
    now = utcnow()
    async with concurrency_slot(db, principal.account_id, action.limit), db.write() as session:
        # The account row lock first, as in every spend; then the quote, re-read under it.
        await open_wallet(session, principal.account_id, now, lock=True)
        stmt = select(AgentQuote).where(AgentQuote.id == quote_pk)
        quote = (await session.execute(for_update(session, stmt))).scalar_one()
        if quote.status == "executed":  # a concurrent execute of the same quote won
            return executed_view(quote, replayed=True)
        _check_open(quote, now)
        if via == VIA_BUDGET:
            budget = await key_budget(session, quote.api_key_id)
            spent = await budget_spent_today(session, quote.api_key_id, now)
            if budget is None or spent + quote.credits > budget:
                raise ApprovalRequired(
                    quote.public_id,
                    how_to_approve(quote.public_id),
                    "over the key's daily agent budget",
                    credits=quote.credits,
                    budget=budget,
                    spent_today=spent,
                )
        decision = await price(
            session, principal.account_id, action.name, quote.params, CALL_SOURCE, settings.preview_limit
        )
        if decision.reason_code not in QUOTABLE:
            raise refusal(decision)
        # A lookup's decision prices a non-empty page; whether this one is empty shows when it runs (the
        # ledger refuses what cannot be paid, and the charge is checked against the quote below).
        if not action.lookup and decision.reason_code == INSUFFICIENT_BALANCE:
            raise _Reprice("The balance no longer covers the price")
        if not action.lookup and decision.credits > quote.credits:
            raise _Reprice(f"The price rose from {quote.credits} to {decision.credits} credits")
        mark = await _last_op_id(session, principal.account_id)
        try:
            result = await action.execute(session, caller_of(principal), parsed_params(action, quote.params))
        except InsufficientCredits:
            raise _Reprice("The balance no longer covers the price") from None
        charged = await _charged_since(session, principal.account_id, mark)
        if charged > quote.credits:  # never more than was approved: roll the whole unit back
            raise _Reprice(f"Execution would charge {charged} credits, the quote said {quote.credits}")
        quote.status, quote.executed_at, quote.charged = "executed", now, charged
        quote.result = jsonable(result)
        if quote.approved_via is None:
            quote.approved_via, quote.approved_at = via, now
        return executed_view(quote, replayed=False)
