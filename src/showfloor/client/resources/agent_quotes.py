"""Agent quotes (a Showfloor extension): read one, and approve it with a key other than the one that
made it (docs/agents.md). Approving twice is harmless, so both are retried like reads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from showfloor.client._methods import AsyncResource, SyncResource, async_method, sync_method
from showfloor.client._transport import Context, Op, call
from showfloor.client.resources._base import get, parser, post, segment


class AgentQuote(BaseModel):
    model_config = ConfigDict(extra="allow")

    quote_id: str
    action: str
    params: dict[str, Any]
    credits: int
    allowed: bool
    reason_code: str
    available_balance: int | None = None
    chargeable: dict[str, Any] = {}
    status: str
    approved: bool
    approved_via: str | None = None
    expires_at: str
    charged: int | None = None


def get_quote(ctx: Context, quote_id: str) -> Op[AgentQuote]:
    return (yield from call(ctx, get(f"/external/agent-quotes/{segment(quote_id)}", parser(AgentQuote))))


def approve(ctx: Context, quote_id: str) -> Op[AgentQuote]:
    path = f"/external/agent-quotes/{segment(quote_id)}/approve"
    return (yield from call(ctx, post(path, parser(AgentQuote))))


class AgentQuotes(SyncResource):
    get = sync_method(get_quote)
    approve = sync_method(approve)


class AsyncAgentQuotes(AsyncResource):
    get = async_method(get_quote)
    approve = async_method(approve)
