"""Approvals: the account's agent quotes waiting for a human, approved or refused by the signed-in owner.

A console session is a credential other than any API key, so an approval here is an approval outside the
agent (docs/agents.md): ``agents.quotes.approve_quote`` records it as ``console``, and the agent's next
``execute_quote`` charges. ``refuse_quote`` makes the quote unexecutable. ``/console/approvals/{quote_id}``
is the page an MCP URL elicitation can link to. Another account's quote is 404, as on the API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from showfloor.server.agents import quotes
from showfloor.server.api.errors import status_for
from showfloor.server.console import approvals
from showfloor.server.console.deps import CheckedUser, User
from showfloor.server.console.sessions import SignedIn
from showfloor.server.console.web import ConsoleRoute, redirect, render
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError

router = APIRouter(prefix="/console/approvals", route_class=ConsoleRoute, include_in_schema=False)

QuoteId = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^q_[A-Za-z0-9_-]+$")]
NOTICES = {
    "approved": "Approved. The agent's next execute_quote of this quote charges it (once).",
    "refused": "Refused. This quote can never be executed; the agent has to ask for a new one.",
}
# Refusals of approve/refuse that the quote's page explains (the quote is no longer open).
CLOSED = {"QUOTE_EXPIRED", "QUOTE_ALREADY_EXECUTED", "QUOTE_REFUSED"}


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("")
async def approvals_page(
    request: Request, user: User, notice: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    db: Database = request.app.state.db
    now = _now()
    async with db.read() as session:
        pending = await approvals.pending_quotes(session, user.account_id, now)
        recent = await approvals.recent_quotes(session, user.account_id, now)
    context = {"active": "approvals", "pending": pending, "recent": recent, "notice": NOTICES.get(notice)}
    return render(request, "approvals.html", context)


async def _quote_page(
    request: Request, user: SignedIn, quote_id: str, *, notice: str | None = None, error: str | None = None
) -> Response:
    db: Database = request.app.state.db
    async with db.read() as session:
        row = await approvals.one_quote(session, user.account_id, quote_id, _now())
    context = {"active": "approvals", "q": row, "notice": notice, "error": error}
    return render(request, "approval.html", context, 409 if error else 200)


@router.get("/{quote_id}")
async def quote_page(
    request: Request, user: User, quote_id: QuoteId, notice: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    return await _quote_page(request, user, quote_id, notice=NOTICES.get(notice))


@router.post("/{quote_id}/approve")
async def approve(request: Request, user: CheckedUser, quote_id: QuoteId) -> Response:
    return await _decide(request, user, quote_id, approve=True)


@router.post("/{quote_id}/refuse")
async def refuse(request: Request, user: CheckedUser, quote_id: QuoteId) -> Response:
    return await _decide(request, user, quote_id, approve=False)


async def _decide(request: Request, user: SignedIn, quote_id: str, *, approve: bool) -> Response:
    db: Database = request.app.state.db
    decide = quotes.approve_quote if approve else quotes.refuse_quote
    try:
        await decide(db, user.principal, quote_id)
    except DomainError as exc:
        if exc.code not in CLOSED or status_for(exc.code) != 409:
            raise
        return await _quote_page(request, user, quote_id, error=exc.message)  # the page says why
    return redirect(request, f"/console/approvals/{quote_id}?notice={'approved' if approve else 'refused'}")
