"""Agent quotes over REST (a Showfloor extension, docs/agents.md): read a quote, and approve it with a key
other than the one that made it (``showfloor quotes approve`` calls these)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from showfloor.server.agents import quotes
from showfloor.server.api.deps import DB, CurrentPrincipal
from showfloor.server.api.openapi import error_responses

router = APIRouter(prefix="/external/agent-quotes", tags=["agent quotes"])

QuoteId = Annotated[str, Path(min_length=1, max_length=40, description="The quote id (`q_…`).")]


@router.get("/{quote_id}", summary="An agent quote of the account", responses=error_responses(404))
async def get_quote(quote_id: QuoteId, principal: CurrentPrincipal, db: DB) -> dict[str, Any]:
    return await quotes.get_quote(db, principal, quote_id)


@router.post(
    "/{quote_id}/approve",
    summary="Approve an agent quote with another key of the account",
    responses=error_responses(403, 404, 409),
)
async def approve_quote(quote_id: QuoteId, principal: CurrentPrincipal, db: DB) -> dict[str, Any]:
    return await quotes.approve_quote(db, principal, quote_id)
