"""What the approvals page reads besides the agents service: an account's agent quotes with the key that
asked for each, one query per page. Approving and refusing are the agents service's
(``agents.quotes.approve_quote`` / ``refuse_quote``): the rules live there only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.agents.actions import ACTIONS
from showfloor.server.agents.errors import QuoteNotFound
from showfloor.server.agents.quotes import quote_view
from showfloor.server.models import AgentQuote, ApiKey

RECENT = 20  # decided quotes (executed, refused, expired) shown below the pending ones


@dataclass(frozen=True)
class QuoteRow:
    view: dict[str, Any]  # ``agents.quotes.quote_view``: what the API and MCP show of the quote
    title: str  # the action as a person reads it
    key_prefix: str
    key_name: str | None
    approved_by: str | None  # the approving key's prefix, when a key approved
    created_at: datetime
    expires_at: datetime
    approved_at: datetime | None
    executed_at: datetime | None


def _select() -> Select[AgentQuote, str, str | None]:
    return select(AgentQuote, ApiKey.prefix, ApiKey.name).join(ApiKey, ApiKey.id == AgentQuote.api_key_id)


async def _approvers(session: AsyncSession, quotes: list[AgentQuote]) -> dict[int, str]:
    ids = {q.approved_by_key_id for q in quotes if q.approved_by_key_id is not None}
    if not ids:
        return {}
    rows = await session.execute(select(ApiKey.id, ApiKey.prefix).where(ApiKey.id.in_(ids)))
    return {int(key_id): str(prefix) for key_id, prefix in rows}


async def _rows(
    session: AsyncSession, found: list[tuple[AgentQuote, str, str | None]], now: datetime
) -> list[QuoteRow]:
    approvers = await _approvers(session, [quote for quote, _, _ in found])
    rows = []
    for quote, prefix, name in found:
        action = ACTIONS.get(quote.action)
        rows.append(
            QuoteRow(
                view=quote_view(quote, now),
                title=action.title if action else quote.action,
                key_prefix=prefix,
                key_name=name,
                approved_by=approvers.get(quote.approved_by_key_id) if quote.approved_by_key_id else None,
                created_at=quote.created_at,
                expires_at=quote.expires_at,
                approved_at=quote.approved_at,
                executed_at=quote.executed_at,
            )
        )
    return rows


async def pending_quotes(session: AsyncSession, account_id: int, now: datetime) -> list[QuoteRow]:
    """Quotes still waiting to be executed and not expired, soonest expiry first."""
    found = await session.execute(
        _select()
        .where(
            AgentQuote.account_id == account_id,
            AgentQuote.status == "pending",
            AgentQuote.expires_at > now,
        )
        .order_by(AgentQuote.expires_at, AgentQuote.id)
    )
    return await _rows(session, [(quote, prefix, name) for quote, prefix, name in found], now)


async def recent_quotes(session: AsyncSession, account_id: int, now: datetime) -> list[QuoteRow]:
    """The latest quotes that can no longer be approved (executed, refused or expired), newest first."""
    found = await session.execute(
        _select()
        .where(
            AgentQuote.account_id == account_id,
            (AgentQuote.status != "pending") | (AgentQuote.expires_at <= now),
        )
        .order_by(AgentQuote.created_at.desc(), AgentQuote.id.desc())
        .limit(RECENT)
    )
    return await _rows(session, [(quote, prefix, name) for quote, prefix, name in found], now)


async def one_quote(session: AsyncSession, account_id: int, public_id: str, now: datetime) -> QuoteRow:
    """One quote of the account; another account's answers as a missing one (404)."""
    found = await session.execute(
        _select().where(AgentQuote.public_id == public_id, AgentQuote.account_id == account_id)
    )
    rows = [(quote, prefix, name) for quote, prefix, name in found]
    if not rows:
        raise QuoteNotFound(quote_id=public_id)
    return (await _rows(session, rows, now))[0]
