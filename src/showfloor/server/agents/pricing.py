"""Agent quotes, the pricing half: price an action by the precheck's rule and store the quote; the views
of a quote. Approval and execution: ``agents.quotes`` (which re-exports ``create_quote``)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from showfloor.server.accounts.service import Principal
from showfloor.server.agents.actions import AgentAction, action_named, canonical_params, parsed_params
from showfloor.server.agents.errors import ActionRefused
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError, InsufficientCredits, InvalidRequest, NotFound
from showfloor.server.ledger.service import open_wallet
from showfloor.server.models import AgentQuote
from showfloor.server.paid.decision import (
    ALREADY_UNLOCKED,
    INSUFFICIENT_BALANCE,
    INVALID_SUBJECT,
    NOT_FOUND,
    OK,
    Caller,
    Decision,
)
from showfloor.server.paid.precheck import price

CALL_SOURCE = "agent"
QUOTABLE = (OK, ALREADY_UNLOCKED, INSUFFICIENT_BALANCE)
# How an approval was given (``AgentQuote.approved_via``).
VIA_KEY, VIA_ELICITATION, VIA_BUDGET, VIA_FREE = "key", "elicitation", "budget", "free"

# Asked when a quote has no approval and the MCP client can put a question to its user (elicitation):
# returns True only when the human accepted.
AskUser = Callable[[dict[str, Any]], Awaitable[bool]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def caller_of(principal: Principal) -> Caller:
    return Caller(principal.account_id, principal.api_key_id, CALL_SOURCE, principal.plan_id)


def how_to_approve(quote_id: str) -> list[str]:
    return [
        f"Ask the account owner to run `showfloor quotes approve {quote_id}` with another API key of the "
        f"account (or POST /external/agent-quotes/{quote_id}/approve), or to approve it in the console at "
        f"/console/approvals/{quote_id}, then call execute_quote again;",
        "or have the owner set a daily agent budget for this key "
        "(`showfloor admin keys set-agent-budget KEY_ID --daily N`).",
    ]


# --- views -------------------------------------------------------------------------------------------


def quote_view(quote: AgentQuote, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    status = quote.status
    if status == "pending" and quote.expires_at <= now:
        status = "expired"
    detail = dict(quote.detail or {})
    return {
        "quote_id": quote.public_id,
        "action": quote.action,
        "params": quote.params,
        "credits": quote.credits,
        "allowed": bool(detail.pop("allowed", True)),
        "reason_code": detail.pop("reason_code", OK),
        "available_balance": detail.pop("available_balance", None),
        "chargeable": detail,
        "status": status,
        "approved": quote.approved_via is not None,
        "approved_via": quote.approved_via,
        "created_at": quote.created_at.isoformat(),
        "expires_at": quote.expires_at.isoformat(),
        "charged": quote.charged,
    }


def executed_view(quote: AgentQuote, *, replayed: bool) -> dict[str, Any]:
    return {
        "quote_id": quote.public_id,
        "action": quote.action,
        "status": "executed",
        "replayed": replayed,
        "credits_charged": quote.charged,
        "approved_via": quote.approved_via,
        "result": quote.result,
    }


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# --- pricing -----------------------------------------------------------------------------------------


class _DryRun(Exception):
    def __init__(self, empty: bool) -> None:
        self.empty = empty


async def _lookup_is_empty(
    db: Database, principal: Principal, action: AgentAction, params: dict[str, Any]
) -> bool:
    """Run the lookup exactly as execution would, then roll the transaction back: is the page empty?"""
    try:
        async with db.write() as session:
            try:
                result = await action.execute(session, caller_of(principal), parsed_params(action, params))
            except InsufficientCredits:
                raise _DryRun(False) from None
            raise _DryRun(not result.get("items"))
    except _DryRun as outcome:
        return outcome.empty
    raise AssertionError("unreachable")  # pragma: no cover


async def _price(
    db: Database, settings: Settings, principal: Principal, action: AgentAction, params: dict[str, Any]
) -> tuple[Decision, int]:
    async with db.read() as session:
        decision = await price(
            session, principal.account_id, action.name, params, CALL_SOURCE, settings.preview_limit
        )
        wallet = await open_wallet(session, principal.account_id, utcnow(), lock=False)
    if decision.reason_code not in QUOTABLE:
        raise refusal(decision)
    if action.lookup and decision.credits > 0 and await _lookup_is_empty(db, principal, action, params):
        empty = {**decision.detail, "empty_result": True}
        decision = Decision(True, 0, OK, decision.biz_code, empty)
    return decision, wallet.available


def refusal(decision: Decision) -> DomainError:
    detail = {"reason_code": decision.reason_code, **decision.detail}
    message = str(decision.detail.get("message") or f"The action is not allowed ({decision.reason_code})")
    if decision.reason_code == NOT_FOUND:
        return NotFound(message if "message" in decision.detail else "Not found", **detail)
    if decision.reason_code == INVALID_SUBJECT:
        return InvalidRequest(message, **detail)
    if decision.error is not None:
        return decision.error
    return ActionRefused(message, **detail)


async def create_quote(
    db: Database, settings: Settings, principal: Principal, action_name: str, raw_params: dict[str, Any]
) -> dict[str, Any]:
    """Price the action now and store a quote (free; nothing is reserved or spent)."""
    if principal.api_key_id is None:
        raise InvalidRequest("Agent quotes need an API key")
    action = action_named(action_name)
    params = canonical_params(action, raw_params)
    decision, available = await _price(db, settings, principal, action, params)
    now = utcnow()
    detail = {
        **jsonable(decision.detail),
        "allowed": decision.allowed,
        "reason_code": decision.reason_code,
        "available_balance": available,
    }
    if decision.reason_code == INSUFFICIENT_BALANCE:
        detail |= {"requiredCredits": decision.credits, "availableCredits": available}
    quote = AgentQuote(
        public_id=f"q_{secrets.token_urlsafe(18)}",
        account_id=principal.account_id,
        api_key_id=principal.api_key_id,
        action=action.name,
        params=params,
        credits=decision.credits,
        detail=detail,
        status="pending",
        created_at=now,
        expires_at=now + timedelta(seconds=settings.agent_quote_ttl_seconds),
    )
    async with db.write() as session:
        session.add(quote)
        await session.flush()
    return quote_view(quote, now)
